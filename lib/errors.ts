// Errors are values with a code. ApiError knows its HTTP response; JobError tells the queue whether an
// attempt may be retried (transient) or must fail the job at once (permanent).

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 415 | 429 | 503,
    readonly code: string,
    message: string,
    /** Sent as Retry-After with a 429 or 503. */
    readonly options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }
}

export type JobErrorCode =
  | 'upstream_not_found'
  | 'upstream_blocked'
  | 'upstream_login_required'
  | 'upstream_rate_limited'
  | 'upstream_unavailable'
  | 'upstream_bad_response'
  | 'upstream_too_large'
  | 'upstream_redirect_refused'
  | 'invalid_query'
  | 'database_unavailable'
  | 'timed_out'
  | 'cancelled'
  | 'lease_lost'
  | 'worker_crashed'
  | 'delivery_refused'
  | 'delivery_rejected'
  | 'delivery_unavailable'
  | 'destination_gone'
  | 'internal';

export class JobError extends Error {
  override name = 'JobError';
  readonly code: JobErrorCode;
  readonly permanent: boolean;
  /** The upstream asked us to wait this long (Retry-After); the retry is not scheduled sooner. */
  readonly retryAfterMs: number | null;
  /** The upstream's error answer, for sources whose APIs explain themselves in the body (first 4 KB). */
  upstream: { status: number; body: string } | null = null;

  constructor(code: JobErrorCode, message: string, options: { permanent: boolean; retryAfterMs?: number | null; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.code = code;
    this.permanent = options.permanent;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

export const permanent = (code: JobErrorCode, message: string, cause?: unknown) =>
  new JobError(code, message, { permanent: true, cause });

export const transient = (code: JobErrorCode, message: string, retryAfterMs?: number | null, cause?: unknown) =>
  new JobError(code, message, { permanent: false, retryAfterMs, cause });

/** Anything thrown by a job that is not a JobError is an unexpected bug or I/O fault: retry it. */
export function toJobError(error: unknown): JobError {
  if (error instanceof JobError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return transient('internal', message, null, error);
}
