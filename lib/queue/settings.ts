import type { Config } from '../config.ts';

export interface QueueSettings {
  prefix: string;
  leaseMs: number;
  retentionMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Most jobs waiting at once (pending or due for a retry); an enqueue past it is refused. 0 or absent: no cap. */
  maxWaiting?: number;
}

export function queueSettings(config: Config): QueueSettings {
  return {
    prefix: config.redisPrefix,
    leaseMs: config.jobLeaseMs,
    retentionMs: config.jobRetentionMs,
    maxAttempts: config.jobMaxAttempts,
    retryBaseMs: config.jobRetryBaseMs,
    maxWaiting: config.maxWaitingJobs,
  };
}
