import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/client.ts';
import { getJobHistory, isRefusedRow, saveJobHistory } from '../db/jobs.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { isFinal, type Job } from '../model/job.ts';
import { settleParents } from './family.ts';
import type { JobQueue } from './queue.ts';
import { fromHash } from './record.ts';

// Small batches: copying one stalls this worker's event loop, and a job that arrives meanwhile waits for it (a
// batch of 200 doubled the add->start p99 in bench:queue); the drain below takes as many as there are.
const BATCH = 50;
const LOCK_MS = 30_000;
const DRAIN_BUDGET_MS = 2_000;
const REJECTED_KEPT = 10_000;

/**
 * Flushes batch after batch while the outbox is full, for up to `budgetMs`: a worker's maintenance tick comes
 * every few seconds, and one batch per tick would let a burst of short jobs outrun the copy (their records
 * cannot start to expire until copied). Then settles the scrape-all parents whose children were copied.
 * Returns how many entries were copied.
 */
export async function drainJobHistory(queue: JobQueue, sql: Sql, log: Logger = silentLogger, budgetMs = DRAIN_BUDGET_MS): Promise<number> {
  const until = Date.now() + budgetMs;
  let copied = 0;
  for (;;) {
    const batch = await copyJobHistory(queue, sql, log);
    copied += batch;
    if (batch < BATCH || Date.now() >= until) break;
  }
  await settleParents(queue, (id) => getJobHistory(sql, id));
  return copied;
}

/** One batch copied, then the parents of what it copied settled: what a maintenance tick does, in small. */
export async function flushJobHistory(queue: JobQueue, sql: Sql, log: Logger = silentLogger): Promise<number> {
  const copied = await copyJobHistory(queue, sql, log);
  await settleParents(queue, (id) => getJobHistory(sql, id));
  return copied;
}

/**
 * Copies finished jobs from the Redis outbox (filled atomically when a job finishes) into PostgreSQL.
 * One flusher at a time holds a lock; entries leave the outbox only after they are written, and only then does
 * a record's retention clock start, so a Postgres outage delays the history but loses none of it. A row
 * PostgreSQL refuses for its content is set aside (GET /jobs/status counts them) and the rest go on. The parent
 * of every copied child joins the unsettled set before the entries leave the outbox, so a process that dies
 * between the two steps leaves the parent to the next flush. Returns how many entries were handled.
 */
export async function copyJobHistory(queue: JobQueue, sql: Sql, log: Logger = silentLogger): Promise<number> {
  const { redis, keys } = queue;
  const token = randomUUID();
  if ((await redis.set(keys.historyLock, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return 0;
  const ack = (count: number, rejected: string[] = []) =>
    queue.scripts.run('history-ack', [keys.historyLock, keys.history, keys.historyRejected], [token, count, queue.settings.retentionMs, keys.jobPrefix, REJECTED_KEPT, ...rejected]);
  try {
    const ids = await redis.lrange(keys.history, -BATCH, -1);
    if (ids.length === 0) {
      await ack(0);
      return 0;
    }
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.job(id));
    const hashes = ((await pipeline.exec()) ?? []).map(([, hash]) => hash as Record<string, string>);
    const jobs = hashes
      .map((hash, i) => fromHash(ids[i]!, hash))
      .filter((job): job is Job => job !== null && isFinal(job.status));
    const refused = await saveSettingAside(sql, jobs);
    const rejected = refused.map(({ job, error }) => {
      log.error('job_history_row_refused', { job_id: job.id, error: error.message });
      return JSON.stringify({ id: job.id, record: hashes[ids.indexOf(job.id)], error: error.message, at: new Date().toISOString() });
    });
    // Children finishing is what finishes a scrape-all parent; this is the one place that sees them all.
    const parents = [...new Set(jobs.flatMap((job) => (job.parent ? [job.parent] : [])))];
    if (parents.length > 0) await redis.sadd(keys.unsettledParents, ...parents);
    await ack(ids.length, rejected);
    return ids.length;
  } catch (error) {
    // Acknowledging nothing releases our lock (and only ours) so the next flush can try again.
    await ack(0).catch(() => {});
    throw error;
  }
}

/** Writes the batch in one statement; when PostgreSQL refuses it for a row's content, row by row, returning the refused. */
async function saveSettingAside(sql: Sql, jobs: Job[]): Promise<{ job: Job; error: Error }[]> {
  try {
    await saveJobHistory(sql, jobs);
    return [];
  } catch (error) {
    if (!isRefusedRow(error)) throw error;
  }
  const refused: { job: Job; error: Error }[] = [];
  for (const job of jobs) {
    try {
      await saveJobHistory(sql, [job]);
    } catch (error) {
      if (!isRefusedRow(error)) throw error;
      refused.push({ job, error: error as Error });
    }
  }
  return refused;
}
