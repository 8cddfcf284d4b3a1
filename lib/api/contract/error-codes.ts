// Every code an error answer of the API can carry, with its status and when it is sent: the document's error
// answers are built from this, and a test holds every ApiError the routes throw to it.

export interface ErrorCode {
  status: number;
  when: string;
}

export const ERROR_CODES: Record<string, ErrorCode> = {
  invalid_json: { status: 400, when: 'the body is not valid JSON' },
  invalid_body: { status: 400, when: 'the body is not a JSON object' },
  unknown_field: { status: 400, when: 'the body has a field the endpoint does not take' },
  invalid_source: { status: 400, when: '`source` is missing or not a string' },
  unknown_source: { status: 400, when: 'no source has that name (the message lists them)' },
  invalid_query: { status: 400, when: '`query` is missing, empty, over 200 characters, holds a control character or a lone surrogate, or is not something the source can look up' },
  invalid_limit: { status: 400, when: '`limit` is out of range or not an integer' },
  invalid_priority: { status: 400, when: '`priority` is out of range or not an integer' },
  invalid_full_rescan: { status: 400, when: '`full_rescan` is not true or false' },
  invalid_timeout_ms: { status: 400, when: '`timeout_ms` is out of range or not an integer' },
  invalid_queries: { status: 400, when: '`queries` is not a non-empty array of strings' },
  invalid_sources: { status: 400, when: '`sources` is not a non-empty array of source names' },
  source_unusable: { status: 400, when: 'a named source cannot run yet (the message says what to set)' },
  too_many_jobs: { status: 400, when: 'queries × sources is over 200 jobs' },
  too_many_tracked_queries: { status: 400, when: 'MAX_TRACKED_QUERIES queries are tracked already' },
  invalid_type: { status: 400, when: 'the backup `type` is not one of manual, hourly, daily' },
  invalid_all: { status: 400, when: '`all` is not true or false' },
  invalid_idempotency_key: { status: 400, when: 'the Idempotency-Key header is not 1-200 visible ASCII characters' },
  invalid_status: { status: 400, when: '`status` is not a job status' },
  invalid_cursor: { status: 400, when: '`before` is not the `next` value of an earlier page' },
  invalid_q: { status: 400, when: '`q` is over 200 characters or holds a control character' },
  invalid_sentiment: { status: 400, when: '`sentiment` holds a label that is not negative, neutral, positive or unscored' },
  invalid_rating: { status: 400, when: '`rating` holds something that is not a whole number' },
  invalid_from: { status: 400, when: '`from` is not an ISO 8601 date or time' },
  invalid_to: { status: 400, when: '`to` is not an ISO 8601 date or time' },
  invalid_range: { status: 400, when: '`from` is not before `to`' },
  invalid_format: { status: 400, when: '`format` is not csv or ndjson' },
  invalid_interval: { status: 400, when: '`interval` is not hour, day, week or month' },
  invalid_group_by: { status: 400, when: '`group_by` is not source, sentiment, query or none' },
  invalid_tz: { status: 400, when: '`tz` is not an IANA time zone PostgreSQL knows' },
  too_many_buckets: { status: 400, when: 'the range holds more than 2,000 intervals' },
  bad_request: { status: 400, when: 'the request could not be read' },
  unauthorized: { status: 401, when: 'a token is required and the bearer token is missing or wrong' },
  forbidden: { status: 403, when: 'the read token was sent to change something' },
  not_found: { status: 404, when: 'no route has that method and path' },
  job_not_found: { status: 404, when: 'no job has that id' },
  query_not_found: { status: 404, when: 'no tracked query has that id' },
  job_finished: { status: 409, when: 'the job to cancel has already finished' },
  idempotency_conflict: { status: 409, when: 'the Idempotency-Key was used for another request' },
  not_retryable: { status: 409, when: 'the job is neither dead nor failed' },
  backup_running: { status: 409, when: 'a backup job is waiting or running' },
  payload_too_large: { status: 413, when: 'the body is over 16 KB' },
  unsupported_media_type: { status: 415, when: 'a POST is not sent as application/json' },
  rate_limited: { status: 429, when: 'over API_CLIENT_RATE_LIMIT changes from one client address (with Retry-After)' },
  internal_error: { status: 500, when: 'a bug; it is logged with the request' },
  queue_unavailable: { status: 503, when: 'Redis is not answering (with Retry-After)' },
  database_unavailable: { status: 503, when: 'PostgreSQL is not answering (with Retry-After)' },
  redis_full: { status: 503, when: 'Redis reached its maxmemory and refuses writes: nothing was queued (with Retry-After)' },
  queue_full: { status: 503, when: 'the queue holds as many waiting jobs as it may (with Retry-After)' },
  busy: { status: 503, when: 'too many full-text searches or exports at once (with Retry-After)' },
  not_ready: { status: 503, when: 'Redis or PostgreSQL is not answering' },
  query_timeout: { status: 504, when: 'the database took longer than API_STATEMENT_TIMEOUT_MS' },
};

/** What any route can answer, whatever it takes: the outages of the services behind it and a bug. */
export const EVERY_ROUTE_CODES = ['internal_error', 'queue_unavailable', 'database_unavailable', 'query_timeout'];
/** What a route that changes something can answer besides. */
export const CHANGE_CODES = ['unsupported_media_type', 'payload_too_large', 'rate_limited', 'redis_full'];
