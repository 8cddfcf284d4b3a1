const MAX_BACKOFF_MS = 60 * 60_000;
const MAX_RETRY_AFTER_MS = 6 * 60 * 60_000;

/**
 * Delay before attempt `attempt + 1`: base, 2x base, 4x base, ... with +-20 % jitter so jobs that failed
 * together do not retry together; never sooner than the upstream's Retry-After.
 */
export function retryDelayMs(attempt: number, baseMs: number, retryAfterMs: number | null, random = Math.random): number {
  const exponential = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
  const jittered = Math.round(exponential * (0.8 + 0.4 * random()));
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}
