import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Job, JobFailure, JobProgress } from '../model/job.ts';
import type { QueueCore } from './core.ts';
import { fromHash, pairsToHash } from './record.ts';

export type ClaimResult = { status: 'claimed'; job: Job; token: string } | { status: 'missing' | 'gone' };
export type RenewResult = 'ok' | 'cancel_requested' | 'lost';
export type FinishOutcome = 'completed' | 'failed' | 'cancelled' | 'dead' | 'retry' | 'release';
export interface FinishDetails {
  result?: Record<string, unknown>;
  error?: JobFailure;
  retryAt?: number;
  keepAttempt?: boolean;
  progress?: JobProgress | null;
}
export interface FinishRequest {
  id: string;
  token: string;
  outcome: FinishOutcome;
  details: FinishDetails;
}

export interface SweepResult {
  promoted: number;
  recovered: number;
  /** Moved to the dead-letter list: their worker died on their last attempt. */
  quarantined: number;
  cancelled: number;
}

/**
 * The worker's side of the queue: take a job id (BLMOVE pending -> processing), lease it, renew the lease,
 * and finish it fenced by the lease token, so a worker that lost its lease cannot overwrite anything.
 */
export class JobLeases {
  constructor(private readonly core: QueueCore) {}

  private get keys() {
    return this.core.keys;
  }

  /** Calls `onCancel` with the id of each running job a cancel is asked for, on a connection of its own. */
  async listenForCancels(subscriber: Redis, onCancel: (id: string) => void): Promise<void> {
    const channel = this.keys.cancelChannel;
    subscriber.on('message', (from: string, id: string) => {
      if (from === channel) onCancel(id);
    });
    await subscriber.subscribe(channel);
  }

  /** Blocks on `blocking` (a connection of its own) for up to `timeoutSeconds`; null when nothing came. */
  take(blocking: Redis, timeoutSeconds: number): Promise<string | null> {
    return blocking.blmove(this.keys.pending, this.keys.processing, 'RIGHT', 'LEFT', timeoutSeconds);
  }

  async claim(id: string, workerId: string, now = Date.now()): Promise<ClaimResult> {
    const token = randomUUID();
    const reply = (await this.core.scripts.run(
      'claim',
      [this.keys.processing, this.keys.leases, this.keys.job(id)],
      [id, workerId, token, now, this.core.settings.leaseMs],
    )) as string[];
    const [status, ...fields] = reply;
    if (status !== 'claimed') return { status: status as 'missing' | 'gone' };
    return { status: 'claimed', job: fromHash(id, pairsToHash(fields))!, token };
  }

  /** Takes and leases up to `most` waiting jobs in one round trip, without blocking; [] when none waits. */
  async claimMany(workerId: string, most: number, now = Date.now()): Promise<{ job: Job; token: string }[]> {
    const tokens = Array.from({ length: most }, () => randomUUID());
    const reply = (await this.core.scripts.run(
      'claim-many',
      [this.keys.pending, this.keys.processing, this.keys.leases],
      [workerId, now, this.core.settings.leaseMs, most, this.keys.jobPrefix, ...tokens],
    )) as (string | number)[];
    const claims: { job: Job; token: string }[] = [];
    for (let i = 0; i < reply.length; ) {
      const token = String(reply[i + 1]);
      const count = Number(reply[i + 2]);
      const fields = reply.slice(i + 3, i + 3 + count).map(String);
      claims.push({ job: fromHash(String(reply[i]), pairsToHash(fields))!, token });
      i += 3 + count;
    }
    return claims;
  }

  async renew(id: string, token: string, progress: JobProgress | null, now = Date.now()): Promise<RenewResult> {
    const reply = await this.core.scripts.run(
      'renew',
      [this.keys.leases, this.keys.job(id), this.keys.stats],
      [id, token, now, this.core.settings.leaseMs, progress ? JSON.stringify(progress) : ''],
    );
    return reply === -1 ? 'lost' : reply === 1 ? 'cancel_requested' : 'ok';
  }

  /**
   * Ends the attempt. Returns the outcome applied, or 'fenced' when this token no longer holds the lease
   * (the job was recovered and may be running elsewhere): then nothing was written.
   */
  async finish(id: string, token: string, outcome: FinishOutcome, details: FinishDetails, now = Date.now()): Promise<FinishOutcome | 'fenced'> {
    const [applied] = await this.finishMany([{ id, token, outcome, details }], now);
    return applied!;
  }

  /** Ends several attempts in one round trip, each fenced by its own token; the outcomes come back in order. */
  async finishMany(attempts: FinishRequest[], now = Date.now()): Promise<(FinishOutcome | 'fenced')[]> {
    const k = this.keys;
    const args: (string | number)[] = [now, k.jobPrefix];
    for (const { id, token, outcome, details } of attempts) {
      const payload = outcome === 'completed' ? JSON.stringify(details.result ?? {}) : JSON.stringify(details.error ?? null);
      args.push(id, token, outcome, payload, details.retryAt ?? now, details.progress ? JSON.stringify(details.progress) : '', details.keepAttempt ? '1' : '0');
    }
    return (await this.core.scripts.run(
      'finish',
      [k.processing, k.leases, k.pending, k.delayed, k.finished.completed, k.finished.failed, k.finished.cancelled, k.history, k.stats, k.dead],
      args,
    )) as (FinishOutcome | 'fenced')[];
  }

  async sweep(now = Date.now(), batch = 100): Promise<SweepResult> {
    const crashed = JSON.stringify({
      code: 'worker_crashed',
      message: 'the worker running its last attempt died or hung (its lease expired); quarantined in the dead-letter list: POST /jobs/{id}/retry runs it again',
      at: now,
    });
    const cancelled = JSON.stringify({ code: 'cancelled', message: 'cancelled by request', at: now });
    const k = this.keys;
    const [promoted, recovered, quarantinedCount, cancelledCount] = (await this.core.scripts.run(
      'sweep',
      [k.pending, k.processing, k.delayed, k.leases, k.dead, k.finished.cancelled, k.finished.completed, k.recent, k.history, k.finished.failed],
      [now, k.jobPrefix, this.core.settings.leaseMs, this.core.settings.retentionMs, batch, crashed, cancelled],
    )) as number[];
    return { promoted: promoted!, recovered: recovered!, quarantined: quarantinedCount!, cancelled: cancelledCount! };
  }

  async heartbeat(info: { id: string; host: string; pid: number; concurrency: number; running: number; startedAt: number }, ttlMs: number, now = Date.now()): Promise<void> {
    await this.core.redis
      .multi()
      .zadd(this.keys.workers, now, info.id)
      .hset(this.keys.worker(info.id), {
        id: info.id,
        host: info.host,
        pid: info.pid,
        concurrency: info.concurrency,
        running: info.running,
        started_at: info.startedAt,
        last_seen: now,
      })
      .pexpire(this.keys.worker(info.id), ttlMs)
      .zremrangebyscore(this.keys.workers, '-inf', now - ttlMs)
      .exec();
  }

  async leaveWorkers(workerId: string): Promise<void> {
    await this.core.redis.multi().zrem(this.keys.workers, workerId).del(this.keys.worker(workerId)).exec();
  }
}
