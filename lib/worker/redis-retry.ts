import type { Logger } from '../log.ts';
import { sleep } from '../sleep.ts';

/**
 * Retries a Redis call through a short outage, backing off. Gives up (undefined) after `giveUpAfterMs`, about a
 * lease length: by then the sweeper will have taken the job back anyway, so holding on longer could only record a
 * stale result.
 */
export async function withRedisRetries<T>(call: () => Promise<T>, options: { giveUpAfterMs: number; log: Logger; jobId: string }): Promise<T | undefined> {
  const giveUpAt = Date.now() + options.giveUpAfterMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > giveUpAt) return undefined;
      options.log.warn('redis_call_failed', { job_id: options.jobId, error: (error as Error).message, attempt });
      await sleep(Math.min(100 * 2 ** attempt, 2_000));
    }
  }
}
