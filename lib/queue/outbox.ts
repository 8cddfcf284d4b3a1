// The Redis side of the job history: the outbox every finished job enters in the same script that finishes it,
// the flush lock, the rejected list, and the scrape-all parents waiting to settle. lib/history/ copies from it
// into PostgreSQL and decides how parents settle; this file only keeps the Redis side atomic.
import { randomUUID } from 'node:crypto';
import type { Job } from '../model/job.ts';
import type { QueueCore } from './core.ts';
import { fromHash } from './record.ts';

const LOCK_MS = 30_000;
// The rejected list keeps the newest entries PostgreSQL refused, no more.
const REJECTED_KEPT = 10_000;

export type SettleOutcome = 'settled' | 'already' | 'waiting' | 'changed' | 'missing';

export class HistoryOutbox {
  constructor(private readonly core: QueueCore) {}

  /** Takes the flush lock (one flusher at a time); the token to give back, or null when another holds it. */
  async lock(): Promise<string | null> {
    const token = randomUUID();
    return (await this.core.redis.set(this.core.keys.historyLock, token, 'PX', LOCK_MS, 'NX')) === 'OK' ? token : null;
  }

  /** The oldest `size` entries, with their records as they are now (null for one that is gone). */
  async oldest(size: number): Promise<{ ids: string[]; records: (Record<string, string> | null)[]; jobs: (Job | null)[] }> {
    const { redis, keys } = this.core;
    const ids = await redis.lrange(keys.history, -size, -1);
    if (ids.length === 0) return { ids, records: [], jobs: [] };
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.job(id));
    const records = ((await pipeline.exec()) ?? []).map(([, hash]) => hash as Record<string, string>);
    return { ids, records, jobs: records.map((record, i) => fromHash(ids[i]!, record)) };
  }

  /** Puts parents in the unsettled set; done before their children's entries leave the outbox. */
  async markUnsettled(parentIds: string[]): Promise<void> {
    if (parentIds.length > 0) await this.core.redis.sadd(this.core.keys.unsettledParents, ...parentIds);
  }

  /**
   * Drops the oldest `count` entries (their records start to expire) and keeps `rejected` (JSON) aside, while
   * `token` still holds the lock, and gives the lock back. False when the lock was lost.
   */
  async acknowledge(token: string, count: number, rejected: string[] = []): Promise<boolean> {
    const { keys, settings, scripts } = this.core;
    const reply = await scripts.run('history-ack', [keys.historyLock, keys.history, keys.historyRejected], [token, count, settings.retentionMs, keys.jobPrefix, REJECTED_KEPT, ...rejected]);
    return reply === 1;
  }

  async *unsettledParents(): AsyncGenerator<string> {
    let cursor = '0';
    do {
      const [next, ids] = await this.core.redis.sscan(this.core.keys.unsettledParents, cursor, 'COUNT', 100);
      cursor = next;
      yield* ids;
    } while (cursor !== '0');
  }

  /**
   * Writes a parent's final state (`status` '' when its children are not all finished), unless a child's status
   * changed since `read` was taken: one script, checked against the children as they are.
   */
  async settle(parentId: string, status: string, result: string, error: string, read: { id: string; status: string }[]): Promise<SettleOutcome> {
    const { keys, scripts } = this.core;
    return (await scripts.run(
      'settle-parent',
      [keys.job(parentId), keys.unsettledParents, keys.history, keys.finished.completed, keys.finished.failed, keys.finished.cancelled],
      [parentId, Date.now(), keys.jobPrefix, status, result, error, ...read.flatMap((child) => [child.id, child.status])],
    )) as SettleOutcome;
  }
}
