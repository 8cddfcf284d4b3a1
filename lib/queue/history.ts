import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/client.ts';
import { saveJobHistory } from '../db/jobs.ts';
import { settleParents } from './family.ts';
import { fromHash, isFinal, type Job } from './job.ts';
import type { JobQueue } from './queue.ts';

// Small batches: copying one stalls this worker's event loop, and a job that arrives meanwhile waits for it (a
// batch of 200 doubled the add->start p99 in bench:queue); the drain below takes as many as there are.
const BATCH = 50;
const LOCK_MS = 30_000;
const DRAIN_BUDGET_MS = 2_000;

/**
 * Flushes batch after batch while the outbox is full, for up to `budgetMs`: a worker's maintenance tick comes
 * every few seconds, and one batch per tick would let a burst of short jobs outrun the copy (their records
 * cannot start to expire until copied). Returns how many entries were copied.
 */
export async function drainJobHistory(queue: JobQueue, sql: Sql, budgetMs = DRAIN_BUDGET_MS): Promise<number> {
  const until = Date.now() + budgetMs;
  let copied = 0;
  for (;;) {
    const batch = await flushJobHistory(queue, sql);
    copied += batch;
    if (batch < BATCH || Date.now() >= until) return copied;
  }
}

/**
 * Copies finished jobs from the Redis outbox (filled atomically when a job finishes) into PostgreSQL.
 * One flusher at a time holds a lock; entries leave the outbox only after they are written, and only then does
 * a record's retention clock start, so a Postgres outage delays the history but loses none of it. Returns how
 * many entries were copied.
 */
export async function flushJobHistory(queue: JobQueue, sql: Sql): Promise<number> {
  const { redis, keys } = queue;
  const token = randomUUID();
  if ((await redis.set(keys.historyLock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return 0;
  try {
    const ids = await redis.lrange(keys.history, -BATCH, -1);
    if (ids.length === 0) {
      await queue.scripts.run('history-ack', [keys.historyLock, keys.history], [token, 0, queue.settings.retentionMs, keys.jobPrefix]);
      return 0;
    }
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.job(id));
    const jobs = ((await pipeline.exec()) ?? [])
      .map(([, hash], i) => fromHash(ids[i]!, hash as Record<string, string>))
      .filter((job): job is Job => job !== null && isFinal(job.status));
    await saveJobHistory(sql, jobs);
    await queue.scripts.run('history-ack', [keys.historyLock, keys.history], [token, ids.length, queue.settings.retentionMs, keys.jobPrefix]);
    // Children finishing is what finishes a scrape-all parent; this is the one place that sees them all.
    await settleParents(queue, jobs.flatMap((job) => (job.parent ? [job.parent] : [])));
    return ids.length;
  } catch (error) {
    // Acknowledging nothing releases our lock (and only ours) so the next flush can try again.
    await queue.scripts.run('history-ack', [keys.historyLock, keys.history], [token, 0, queue.settings.retentionMs, keys.jobPrefix]).catch(() => {});
    throw error;
  }
}
