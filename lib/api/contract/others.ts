// The routes outside /jobs and /posts as the API promises them: health, the document itself, sources, tracked
// queries, the schedule, the backups and the metrics.
import { list, object, queryText, sourceName } from './body.ts';
import { idSegment } from './params.ts';
import { route } from './route.ts';
import { ref } from './shapes.ts';

export const health = route({
  method: 'get',
  path: '/health',
  role: 'open',
  tag: 'health',
  summary: 'Whether the process runs',
  responses: { 200: { description: 'it runs', json: ref('Health') } },
});

export const ready = route({
  method: 'get',
  path: '/ready',
  role: 'open',
  tag: 'health',
  summary: 'Whether Redis and PostgreSQL answer',
  responses: {
    200: { description: 'both answer', json: ref('Ready') },
    503: { description: 'one is down, and which', json: ref('NotReady') },
  },
  errors: ['not_ready'],
});

export const openApi = route({
  method: 'get',
  path: '/openapi.json',
  role: 'open',
  tag: 'health',
  summary: 'This document: every route, what it takes, what it answers and its error codes',
  responses: { 200: { description: 'an OpenAPI 3.1 document', json: { type: 'object', required: ['openapi', 'paths'], properties: { openapi: { type: 'string', pattern: '^3\\.1\\.' }, paths: { type: 'object' } } } } },
});

export const listSources = route({
  method: 'get',
  path: '/sources',
  role: 'read',
  tag: 'sources',
  summary: 'Every source: usable now or what to set, its settings (set or not, never their values), its limit, its last runs',
  responses: { 200: { description: 'the sources', json: ref('SourceList') } },
});

export const listQueries = route({
  method: 'get',
  path: '/queries',
  role: 'read',
  tag: 'queries',
  summary: 'The queries the automatic scrape tracks',
  responses: { 200: { description: 'the tracked queries', json: ref('TrackedQueryList') } },
});

export const trackQuery = route({
  method: 'post',
  path: '/queries',
  role: 'admin',
  tag: 'queries',
  summary: 'Track a query, on every usable source or on those named',
  body: object(
    {
      query: queryText({ required: true, description: 'what to look up' }),
      sources: list(sourceName({ required: true, description: 'a source usable now that takes the query' }), {
        itemName: 'sources[]',
        expected: 'a non-empty array of source names, or left out for every usable source',
        nullable: true,
        description: 'left out or null: every source usable at scrape time',
      }),
    },
    { example: { query: 'ovhcloud.com', sources: ['trustpilot'] } },
  ),
  responses: {
    200: { description: 'already tracked: its row, with outcome existing, or updated when the sources changed', json: ref('TrackedQueryOutcome') },
    201: { description: 'tracked now (outcome created)', json: ref('TrackedQueryOutcome'), headers: { Location: '/queries/{id}' } },
  },
  errors: ['source_unusable', 'too_many_tracked_queries'],
});

export const untrackQuery = route({
  method: 'delete',
  path: '/queries/{id}',
  role: 'admin',
  tag: 'queries',
  summary: 'Stop tracking a query',
  path_params: {
    id: idSegment({ pattern: /^\d{1,18}$/, code: 'query_not_found', notFound: (id) => `no tracked query with id "${id.slice(0, 32)}"`, description: 'the tracked query id' }),
  },
  responses: { 204: { description: 'no longer tracked' } },
});

export const listSchedules = route({
  method: 'get',
  path: '/schedule',
  role: 'read',
  tag: 'schedule',
  summary: 'Each schedule, when it fires next, and how its last tick went',
  responses: { 200: { description: 'the schedules', json: ref('ScheduleList') } },
});

export const listBackups = route({
  method: 'get',
  path: '/backups',
  role: 'read',
  tag: 'backups',
  summary: 'Complete backups in BACKUP_DIR, newest first',
  responses: { 200: { description: 'the backups', json: ref('BackupList') } },
});

export const metrics = route({
  method: 'get',
  path: '/metrics',
  role: 'read',
  tag: 'metrics',
  summary: 'Queue, job, ingest, alert and request figures of the whole product, in the Prometheus text format 0.0.4',
  responses: { 200: { description: 'the metrics', content: { 'text/plain': { type: 'string', description: 'the Prometheus text exposition format, version 0.0.4' } } } },
});

export const OTHER_ROUTES = [health, ready, openApi, listSources, listQueries, trackQuery, untrackQuery, listSchedules, listBackups, metrics];
