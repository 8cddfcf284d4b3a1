// The one place that decides how an attempt ends, for every cause: completed, retried after what delay, failed,
// cancelled, or handed back. (A job whose worker died has nobody to decide for it: the sweep script puts it back,
// or quarantines it as dead on its last attempt, in lib/queue/lua/sweep-10.lua.) What it decides is written by
// the finish script, fenced on the lease token; HTTP-level retries inside one attempt are the client's
// (lib/http/client.ts), and the fleet-wide host limiter may turn a long wait into a retry-after here.
import { type JobError, permanent, toJobError, transient } from '../errors.ts';
import type { Job, JobFailure, JobProgress } from '../model/job.ts';
import type { FinishDetails, FinishOutcome } from '../queue/leases.ts';
import type { QueueSettings } from '../queue/settings.ts';
import type { AbortCause } from './abort.ts';
import { retryDelayMs } from './backoff.ts';

export interface TimeLimit {
  ms: number;
  /** 'retry': a timed-out attempt is retried like any transient failure; 'fail': the job fails, with `hint`. */
  onExpiry: 'retry' | 'fail';
  /** What to do about it, for a job that fails on expiry (e.g. which setting raises the limit). */
  hint?: string;
}

export type AttemptEnd =
  | { kind: 'succeeded'; result: Record<string, unknown> }
  | { kind: 'aborted'; cause: AbortCause }
  | { kind: 'threw'; error: unknown };

export type Decision =
  | { outcome: FinishOutcome; details: FinishDetails; event: string; fields: Record<string, unknown> }
  /** The lease was lost: another worker may run the job; this one writes nothing. */
  | { outcome: null; event: string; fields: Record<string, unknown> };

// While our own database is down, a job is retried at least this often, without using up an attempt.
const OUTAGE_RETRY_CAP_MS = 30_000;

export function decideOutcome(
  job: Job,
  end: AttemptEnd,
  context: { settings: Pick<QueueSettings, 'retryBaseMs'>; timeLimit: TimeLimit; progress: JobProgress | null; now?: number },
): Decision {
  const { progress } = context;
  const now = context.now ?? Date.now();
  if (end.kind === 'succeeded') return { outcome: 'completed', details: { result: end.result, progress }, event: 'job_completed', fields: end.result };
  if (end.kind === 'aborted') {
    if (end.cause === 'lease_lost') return { outcome: null, event: 'job_lease_lost', fields: {} };
    if (end.cause === 'shutdown') return { outcome: 'release', details: { progress }, event: 'job_released', fields: {} };
    if (end.cause === 'cancelled') {
      return { outcome: 'cancelled', details: { error: failure('cancelled', 'cancelled by request', job, now), progress }, event: 'job_cancelled', fields: {} };
    }
    const { ms, onExpiry, hint } = context.timeLimit;
    const message = `the attempt ran longer than its time limit of ${Math.round(ms / 1000)} s and was stopped`;
    return decideFailure(job, onExpiry === 'fail' ? permanent('timed_out', hint ? `${message}: ${hint}` : message) : transient('timed_out', message), context, now);
  }
  return decideFailure(job, toJobError(end.error), context, now);
}

/**
 * A permanent error, or a transient one on the last attempt, fails the job; anything else is retried after a
 * backoff (never sooner than the upstream's Retry-After). The message says which, so a final failure never
 * promises a retry and a waiting one says when it runs again.
 */
function decideFailure(job: Job, error: JobError, context: { settings: Pick<QueueSettings, 'retryBaseMs'>; progress: JobProgress | null }, now: number): Decision {
  const { progress } = context;
  // Our own database being down is not the job's fault: it waits for it without using up its attempts.
  const keepAttempt = error.code === 'database_unavailable';
  if (error.permanent || (job.attempts >= job.maxAttempts && !keepAttempt)) {
    const message = error.permanent ? error.message : `${error.message}; gave up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}`;
    // A delivery that could not be made is a message lost unless someone looks: it waits in the dead-letter list,
    // where POST /jobs/{id}/retry sends it again once the receiver is fixed.
    if (job.kind === 'alert-delivery') {
      const dead = `${message}; kept in the dead-letter list: POST /jobs/${job.id}/retry sends it again`;
      return { outcome: 'dead', details: { error: failure(error.code, dead, job, now), progress }, event: 'job_dead_lettered', fields: { code: error.code, error: dead, permanent: error.permanent } };
    }
    return { outcome: 'failed', details: { error: failure(error.code, message, job, now), progress }, event: 'job_failed', fields: { code: error.code, error: message, permanent: error.permanent } };
  }
  const delay = keepAttempt
    ? Math.min(retryDelayMs(job.attempts, context.settings.retryBaseMs, null), OUTAGE_RETRY_CAP_MS)
    : retryDelayMs(job.attempts, context.settings.retryBaseMs, error.retryAfterMs);
  const when = `retrying in ${Math.max(1, Math.round(delay / 1000))} s`;
  const message = keepAttempt ? `${error.message}; ${when}, without using up an attempt` : `${error.message}; attempt ${job.attempts} of ${job.maxAttempts}, ${when}`;
  return {
    outcome: 'retry',
    details: { error: failure(error.code, message, job, now), progress, retryAt: now + delay, keepAttempt },
    event: 'job_retry_scheduled',
    fields: { code: error.code, error: error.message, retry_in_ms: delay, attempt_kept: keepAttempt },
  };
}

export function failure(code: string, message: string, job: Job, now = Date.now()): JobFailure {
  return { code, message, attempt: job.attempts, at: now };
}
