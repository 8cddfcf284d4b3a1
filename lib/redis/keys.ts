// Every Redis key the system uses (the queue's, the schedules', the API's per-client limit and the upstream
// limiter's), from one prefix (REDIS_PREFIX, "vibe" by default) so tests can run side by side in one Redis, each
// under its own prefix.

import type { FinalStatus } from '../model/job.ts';

/** The final statuses counted in a ZSET by finish time; dead jobs have their own list. */
export type CountedStatus = Exclude<FinalStatus, 'dead'>;

export interface RedisKeys {
  prefix: string;
  /** LIST of job ids waiting to run; the tail (last element) runs next. */
  pending: string;
  /** LIST of job ids taken by a worker. */
  processing: string;
  /** ZSET id -> due time (ms) of jobs waiting for a retry. */
  delayed: string;
  /** ZSET id -> lease expiry (ms) of jobs in processing. */
  leases: string;
  /** LIST of every job id, newest first: the index behind GET /jobs (a LIST entry costs a quarter of a ZSET's). */
  recent: string;
  /** ZSET id -> finished_at (ms) per final status: the 24 h counts. */
  finished: Record<CountedStatus, string>;
  /** LIST of quarantined job ids: their worker died on their last attempt (newest first). */
  dead: string;
  /** HASH of the queue's counters: fenced_rejections, and the job counters and attempt durations of GET /metrics. */
  stats: string;
  /** HASH of the counters GET /metrics sums over every process: HTTP requests and their durations, webhook deliveries. */
  metrics: string;
  /** Remembers an Idempotency-Key: "<request fingerprint> <job id>". */
  idempotency(scope: string, key: string): string;
  /** LIST of finished job ids not yet copied into PostgreSQL. */
  history: string;
  historyLock: string;
  /** LIST of outbox entries PostgreSQL refused (JSON: id, record, refusal), newest first, capped. */
  historyRejected: string;
  /** SET of scrape-all parents a finished child was copied to history for: settled (or dropped) by the next flush. */
  unsettledParents: string;
  /** Pub/sub channel carrying ids of running jobs to abort. */
  cancelChannel: string;
  /** ZSET worker id -> last heartbeat (ms). */
  workers: string;
  /** Prefix of job hashes: `${jobPrefix}${id}`. */
  jobPrefix: string;
  job(id: string): string;
  worker(id: string): string;
  /** The id of the backup job waiting or running, while there is one: a second one is refused meanwhile. */
  backupActive: string;
  /** Mutating requests from one client address in one window of the API's per-client limit (expires with it). */
  clientRate(address: string, window: number): string;
  /** A dashboard sign-in (JSON: role, CSRF token), under the SHA-256 of its cookie value; expires with the session. */
  dashboardSession(digest: string): string;
  /** HASH of a schedule's last run (tick, job id, note, error). */
  schedule(name: string): string;
  /** Claimed by the scheduler that fires this tick (SET NX), so two schedulers fire it once. */
  scheduleTick(name: string, tick: string): string;
  /** The fleet-wide limiter's keys for one upstream host. */
  host(host: string): { admissions: string; inFlight: string; holdUntil: string };
}

export function redisKeys(prefix: string): RedisKeys {
  const jobPrefix = `${prefix}:job:`;
  return {
    prefix,
    pending: `${prefix}:jobs:pending`,
    processing: `${prefix}:jobs:processing`,
    delayed: `${prefix}:jobs:delayed`,
    leases: `${prefix}:jobs:leases`,
    recent: `${prefix}:jobs:recent`,
    finished: {
      completed: `${prefix}:jobs:completed`,
      failed: `${prefix}:jobs:failed`,
      cancelled: `${prefix}:jobs:cancelled`,
    },
    dead: `${prefix}:jobs:dead`,
    stats: `${prefix}:stats`,
    metrics: `${prefix}:metrics`,
    idempotency: (scope, key) => `${prefix}:idempotency:${scope}:${key}`,
    history: `${prefix}:jobs:history`,
    historyLock: `${prefix}:jobs:history:lock`,
    historyRejected: `${prefix}:jobs:history:rejected`,
    unsettledParents: `${prefix}:jobs:parents:unsettled`,
    cancelChannel: `${prefix}:jobs:cancel`,
    workers: `${prefix}:workers`,
    jobPrefix,
    job: (id) => `${jobPrefix}${id}`,
    worker: (id) => `${prefix}:worker:${id}`,
    backupActive: `${prefix}:backup:active`,
    clientRate: (address, window) => `${prefix}:api:client:${address}:${window}`,
    dashboardSession: (digest) => `${prefix}:dashboard:session:${digest}`,
    schedule: (name) => `${prefix}:schedule:${name}`,
    scheduleTick: (name, tick) => `${prefix}:schedule:${name}:tick:${tick}`,
    host: (host) => ({
      admissions: `${prefix}:host:${host}:admissions`,
      inFlight: `${prefix}:host:${host}:inflight`,
      holdUntil: `${prefix}:host:${host}:hold`,
    }),
  };
}
