// The /jobs routes as the API promises them; lib/api/jobs.ts serves them.
import { BACKUP_TYPES } from '../../backup/files.ts';
import { JOB_STATUSES } from '../../model/job.ts';
import { boolean, integer, list, object, oneOf, queryText, sourceName } from './body.ts';
import { choiceParam, headerValue, idSegment, integerParam } from './params.ts';
import { route } from './route.ts';
import { ref } from './shapes.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const jobId = {
  id: idSegment({
    pattern: UUID,
    format: 'uuid',
    code: 'job_not_found',
    notFound: (id) => `no job with id "${id.slice(0, 64)}"`,
    description: 'the job id (`job_id` of the answer that created it)',
  }),
};

const limit = integer({ min: 1, max: 200, default: 50, description: 'the first run of a (source, query) stores this many newest posts; later runs store everything published since' });
const priority = integer({ min: 0, max: 10, default: 0, description: 'a higher priority starts before every waiting job of lower priority' });
const fullRescan = boolean({ default: false, description: 'ignore the incremental mark and read the `limit` newest posts again' });

const accepted = (what: string) => ({
  description: what,
  json: ref('AcceptedJob'),
  headers: { Location: 'the job: /jobs/{id}' },
});

export const scrape = route({
  method: 'post',
  path: '/jobs/scrape',
  role: 'admin',
  tag: 'jobs',
  summary: 'Submit a scrape of one source for one query',
  description: 'Unknown fields are refused, so a typo does not silently fall back to a default. With an Idempotency-Key, the same key and body return the first job (header Idempotent-Replayed: true); keys are kept 24 hours.',
  headers: {
    'Idempotency-Key': headerValue({
      pattern: /^[\x21-\x7e]{1,200}$/,
      code: 'invalid_idempotency_key',
      message: 'the Idempotency-Key header must be 1-200 visible ASCII characters, e.g. a UUID',
      description: 'any number of identical requests with this key create one job',
    }),
  },
  body: object(
    {
      source: sourceName({ required: true, description: 'the source to read (GET /sources lists them)' }),
      query: queryText({ required: true, takenBy: 'source', description: 'what to look up: a domain, a brand name or search words, as the source takes them' }),
      limit,
      priority,
      full_rescan: fullRescan,
      timeout_ms: integer({ min: 1_000, max: 3_600_000, description: "the attempt's time limit in ms; default the source's own, else 10 minutes" }),
    },
    { example: { source: 'trustpilot', query: 'ovhcloud.com' } },
  ),
  responses: {
    202: { ...accepted('the job, pending'), headers: { Location: 'the job: /jobs/{id}', 'Idempotent-Replayed': '`true` when an earlier request with the same Idempotency-Key created the job' } },
  },
  errors: ['idempotency_conflict', 'queue_full'],
});

export const scrapeAll = route({
  method: 'post',
  path: '/jobs/scrape-all',
  role: 'admin',
  tag: 'jobs',
  summary: 'Fan out: one child scrape per (source, query), created in one atomic step',
  description: 'At most 200 children. The parent is running while any child waits or runs, completed when all completed (error.code partial_failure when some did not), failed when none did.',
  body: object(
    {
      queries: list(queryText({ required: true, description: 'a query' }), {
        itemName: 'query',
        expected: 'a non-empty array of strings',
        required: true,
        description: 'the queries, each scraped on every source',
      }),
      sources: list(sourceName({ required: true, description: 'a source usable now' }), {
        itemName: 'sources[]',
        expected: 'a non-empty array of source names, or left out for every usable source',
        description: 'default: every source usable now',
      }),
      limit,
      priority,
      full_rescan: fullRescan,
    },
    { example: { queries: ['ovhcloud.com'], sources: ['trustpilot'] } },
  ),
  responses: { 202: { description: 'the parent with its children, pending', json: ref('AcceptedJobFamily'), headers: { Location: 'the parent: /jobs/{id}' } } },
  errors: ['source_unusable', 'too_many_jobs', 'queue_full'],
});

export const backup = route({
  method: 'post',
  path: '/jobs/backup',
  role: 'admin',
  tag: 'jobs',
  summary: 'Back the database up now (one backup at a time)',
  body: object({ type: oneOf(BACKUP_TYPES, { default: 'manual', description: 'which quota the dump counts against' }) }, { example: { type: 'manual' }, optional: true }),
  responses: { 202: accepted('the backup job, pending') },
  errors: ['backup_running'],
});

export const sentimentBackfill = route({
  method: 'post',
  path: '/jobs/sentiment-backfill',
  role: 'admin',
  tag: 'jobs',
  summary: 'Score stored posts again with the current sentiment scorer',
  body: object(
    {
      all: boolean({
        default: false,
        expected: 'true (score every post again) or false (only those an older scorer, or none, judged)',
        description: 'true: every post; false: only those an older scorer, or none, judged',
      }),
    },
    { example: { all: true }, optional: true },
  ),
  responses: { 202: accepted('the backfill job, pending') },
  errors: ['queue_full'],
});

export const queueStatus = route({
  method: 'get',
  path: '/jobs/status',
  role: 'read',
  tag: 'jobs',
  summary: 'Queue figures: list lengths, finished in the last 24 h, live workers, Redis and PostgreSQL health',
  responses: { 200: { description: 'the figures', json: ref('QueueStatus') } },
});

export const listJobs = route({
  method: 'get',
  path: '/jobs',
  role: 'read',
  tag: 'jobs',
  summary: 'Recent jobs, newest first, or those of one status from its own index',
  query: {
    status: choiceParam(JOB_STATUSES, { description: 'pending ones next to run first; running ones most recently taken first; finished and dead ones newest first' }),
    limit: integerParam({ min: 1, max: 100, default: 20, description: 'how many' }),
  },
  responses: { 200: { description: 'the jobs', json: ref('JobList') } },
});

export const retryJob = route({
  method: 'post',
  path: '/jobs/{id}/retry',
  role: 'admin',
  tag: 'jobs',
  summary: 'Run a dead or failed job again from its first attempt',
  description: 'Takes no body, but is sent as application/json like every POST.',
  path_params: jobId,
  responses: { 202: accepted('the job, pending again') },
  errors: ['not_retryable'],
});

const jobOrFamily = { anyOf: [ref('Job'), ref('JobFamily')] };

export const getJob = route({
  method: 'get',
  path: '/jobs/{id}',
  role: 'read',
  tag: 'jobs',
  summary: 'One job: its status, progress, result or error; a scrape-all parent with its children',
  description: 'Read from Redis, else from the job history in PostgreSQL.',
  path_params: jobId,
  responses: { 200: { description: 'the job', json: jobOrFamily } },
});

export const cancelJob = route({
  method: 'delete',
  path: '/jobs/{id}',
  role: 'admin',
  tag: 'jobs',
  summary: 'Cancel a job: a waiting one at once, a running one aborted on its worker; a parent cancels its children',
  path_params: jobId,
  responses: {
    200: { description: 'the cancelled job', json: jobOrFamily },
    202: { description: "the job, its worker not having confirmed the abort within 3 s", json: ref('Job') },
  },
  errors: ['job_finished'],
});

export const JOB_ROUTES = [scrape, scrapeAll, backup, sentimentBackfill, queueStatus, listJobs, retryJob, getJob, cancelJob];
