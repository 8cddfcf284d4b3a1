// The shapes of what the API answers, as JSON Schema: lib/api/present.ts and the routes write them, a test reads
// real answers against them.
import { BACKUP_TYPES } from '../../backup/files.ts';
import { ALERT_KINDS, DESTINATION_TYPES } from '../../model/alert.ts';
import { JOB_KINDS, JOB_STATUSES } from '../../model/job.ts';
import { SENTIMENT_LABELS } from '../../model/post.ts';
import type { JsonSchema } from './value.ts';

const time = { type: 'string', format: 'date-time' };
const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] });
const nullableTime = nullable(time);
const integer = { type: 'integer' };
const string = { type: 'string' };
const object = (properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  required: Object.keys(properties),
  properties,
});

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const failure = object({ code: string, message: string });
const jobStatus = { type: 'string', enum: [...JOB_STATUSES] };

const job = object({
  id: { type: 'string', format: 'uuid' },
  kind: { type: 'string', enum: [...JOB_KINDS] },
  status: jobStatus,
  source: { type: 'string', description: 'empty for jobs that are not scrapes' },
  query: { type: 'string', description: "a scrape's query; a backup's type; a backfill's `all` or `outdated`" },
  limit: integer,
  priority: integer,
  attempts: integer,
  max_attempts: integer,
  progress: nullable({ type: 'object', description: 'pages_done, pages_planned, found, inserted; a scrape-all parent: found, inserted, children' }),
  created_at: time,
  started_at: nullableTime,
  finished_at: nullableTime,
  retry_at: { ...nullableTime, description: 'when a retry is due, while the job waits for one' },
  result: nullable({ type: 'object', description: "what the run did (found, inserted, pages, the source's own figures)" }),
  error: nullable(object({ code: string, message: string, attempt: nullable(integer) })),
  previous_error: nullable(failure),
  timeout_ms: nullable(integer),
  full_rescan: { type: 'boolean' },
  parent: nullable({ type: 'string', format: 'uuid' }),
  cancel_requested: { type: 'boolean' },
  worker: nullable(string),
});

const acceptedJob: JsonSchema = { allOf: [ref('Job'), object({ job_id: { type: 'string', format: 'uuid' } })] };

const family: JsonSchema = {
  allOf: [
    ref('Job'),
    object({
      children: {
        type: 'array',
        items: object({
          id: { type: 'string', format: 'uuid' },
          source: string,
          query: string,
          status: jobStatus,
          attempts: integer,
          found: integer,
          inserted: integer,
          error: nullable(failure),
        }),
      },
    }),
  ],
  description: 'a scrape-all parent: its status, progress and result fold in its children (`progress.children` counts them)',
};

const post = object({
  id: { type: 'string', description: 'our id, a decimal integer' },
  source: string,
  external_id: { type: 'string', description: "the upstream's own id" },
  query: string,
  url: nullable(string),
  author: nullable(string),
  title: nullable(string),
  text: string,
  rating: nullable({ type: 'number' }),
  language: nullable(string),
  published_at: time,
  reply: nullable(object({ text: string, published_at: nullableTime })),
  extra: { type: 'object' },
  sentiment: nullable(object({
    score: nullable({ type: 'number', minimum: -1, maximum: 1 }),
    label: nullable({ type: 'string', enum: [...SENTIMENT_LABELS] }),
    method: string,
    language: nullable(string),
  })),
  first_seen_at: time,
});

const figures = {
  count: integer,
  avg_rating: nullable({ type: 'number' }),
  sentiment: nullable(object({ negative: { type: 'number' }, neutral: { type: 'number' }, positive: { type: 'number' }, unscored: { type: 'number' } })),
};

const health = { type: 'string', enum: ['ok', 'down'] };

const alertKind = { type: 'string', enum: [...ALERT_KINDS] };

const alertRule = object({
  id: string,
  name: string,
  kind: alertKind,
  query: nullable(string),
  sources: nullable({ type: 'array', items: string }),
  params: { type: 'object', description: "the kind's parameters, every one with its value (the defaults filled in)" },
  cool_down_minutes: integer,
  enabled: { type: 'boolean' },
  destinations: {
    type: 'array',
    items: {
      anyOf: [
        object({ id: string, type: { type: 'string', const: 'email' }, to: { type: 'array', items: string } }),
        object(
          { id: string, type: { type: 'string', enum: DESTINATION_TYPES.filter((type) => type !== 'email') }, url: string, has_secret: { type: 'boolean' } },
          'a webhook: its URL as its origin and last four characters; the secret is never shown',
        ),
      ],
    },
  },
  created_at: time,
  updated_at: time,
  last_event_at: nullableTime,
});

const alertEvent = object({
  id: string,
  rule_id: { ...nullable(string), description: 'null once the rule is deleted' },
  rule_name: string,
  kind: alertKind,
  fired_at: time,
  window_start: nullableTime,
  test: { type: 'boolean' },
  evidence: { type: 'object', description: 'what fired it: the window, the baseline, the threshold; or the posts matched' },
  post_ids: { type: 'array', items: string },
});

export const SHAPES: Record<string, JsonSchema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: string, message: string } } },
  },
  Job: job,
  AcceptedJob: acceptedJob,
  JobFamily: family,
  AcceptedJobFamily: { allOf: [ref('JobFamily'), object({ job_id: { type: 'string', format: 'uuid' } })] },
  JobList: object({ jobs: { type: 'array', items: ref('Job') } }),
  QueueStatus: object({
    pending: integer,
    processing: integer,
    delayed: integer,
    dead: integer,
    fenced_rejections: integer,
    history_backlog: integer,
    history_rejected: integer,
    completed_24h: integer,
    failed_24h: integer,
    cancelled_24h: integer,
    workers: {
      type: 'array',
      items: object({ id: string, host: string, pid: integer, concurrency: integer, running: integer, started_at: time, last_seen: time }),
    },
    redis: health,
    postgres: health,
  }),
  Post: post,
  PostPage: object({ posts: { type: 'array', items: ref('Post') }, next: nullable({ type: 'string', description: 'the `before` of the next page; null on the last' }) }),
  PostStats: object({
    interval: string,
    tz: string,
    group_by: nullable(string),
    from: time,
    to: time,
    read_from: { type: 'string', description: 'what the figures were read from: the hourly rollup or the posts themselves' },
    buckets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['start', 'local', 'count', 'avg_rating', 'sentiment'],
        properties: { start: time, local: string, ...figures, groups: { type: 'array', items: object({ key: string, ...figures }) } },
      },
    },
  }),
  SourceList: object({
    sources: {
      type: 'array',
      items: object({
        name: string,
        description: string,
        usable: { type: 'boolean' },
        missing: nullable({ type: 'string', description: 'what to set before the source can run' }),
        base_url: nullable(string),
        rate_limit: object({ requests: integer, per_seconds: { type: 'number' }, concurrency: integer }),
        settings: { type: 'array', items: object({ name: string, description: string, required: { type: 'boolean' }, set: { type: 'boolean' } }) },
        last_success_at: nullableTime,
        last_failure_at: nullableTime,
        last_error: nullable(string),
      }),
    },
  }),
  TrackedQuery: object({ id: string, query: string, sources: nullable({ type: 'array', items: string }), created_at: time }),
  TrackedQueryOutcome: { allOf: [ref('TrackedQuery'), object({ outcome: { type: 'string', enum: ['created', 'existing', 'updated'] } })] },
  TrackedQueryList: object({ queries: { type: 'array', items: ref('TrackedQuery') } }),
  ScheduleList: object({
    schedules: {
      type: 'array',
      items: object({
        name: string,
        cron: string,
        timezone: string,
        description: string,
        next_run: nullableTime,
        last_run: nullable(object({ tick: string, job_id: nullable(string), job_status: nullable(jobStatus), note: nullable(string), error: nullable(string) })),
      }),
    },
  }),
  BackupList: object({ backups: { type: 'array', items: object({ name: string, type: { type: 'string', enum: [...BACKUP_TYPES] }, size_bytes: integer, created_at: time }) } }),
  AlertRule: alertRule,
  AlertRuleList: object({ alerts: { type: 'array', items: ref('AlertRule') } }),
  AlertEvent: alertEvent,
  AlertEventPage: object({ events: { type: 'array', items: ref('AlertEvent') }, next: nullable({ type: 'string', description: 'the `before` of the next page; null on the last' }) }),
  AlertTest: object({
    job_id: { type: 'string', format: 'uuid', description: 'the first delivery job' },
    job_ids: { type: 'array', items: { type: 'string', format: 'uuid' } },
    event: ref('AlertEvent'),
    jobs: { type: 'array', items: ref('Job') },
  }),
  Health: object({ status: { type: 'string', const: 'ok' } }),
  Ready: object({ status: { type: 'string', const: 'ready' }, redis: health, postgres: health }),
  NotReady: {
    allOf: [ref('Error'), object({ redis: health, postgres: health })],
  },
};
