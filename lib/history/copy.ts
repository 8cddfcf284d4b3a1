// Copies finished jobs from the Redis outbox (filled atomically when a job finishes) into PostgreSQL, then settles
// the scrape-all parents whose children were copied. What happens when a job finishes, in order: the finish script
// puts it in the outbox (lib/queue/lua/finish-10.lua) -> copyJobHistory writes it to the jobs table and marks its
// parent unsettled -> settleParents (./family.ts) records the parent's final state, which enters the outbox too.
import type { Sql } from '../db/client.ts';
import { isRefusedRow, saveJobHistory } from '../db/jobs.ts';
import { type Logger, silentLogger } from '../log.ts';
import { type Job, isFinal } from '../model/job.ts';
import type { HistoryOutbox } from '../queue/outbox.ts';
import type { JobQueue } from '../queue/queue.ts';
import { settleParents } from './family.ts';
import { JobStore } from './job-store.ts';

// Small batches: copying one stalls this worker's event loop, and a job that arrives meanwhile waits for it (a
// batch of 200 doubled the add->start p99 in bench:queue); the drain below takes as many as there are.
const BATCH = 50;
const DRAIN_BUDGET_MS = 2_000;

/**
 * Flushes batch after batch while the outbox is full, for up to `budgetMs`: a worker's maintenance tick comes
 * every few seconds, and one batch per tick would let a burst of short jobs outrun the copy (their records
 * cannot start to expire until copied). Then settles the scrape-all parents whose children were copied.
 * Returns how many entries were copied.
 */
export async function drainJobHistory(queue: JobQueue, sql: Sql, log: Logger = silentLogger, budgetMs = DRAIN_BUDGET_MS): Promise<number> {
  const outbox = queue.outbox();
  const until = Date.now() + budgetMs;
  let copied = 0;
  for (;;) {
    const batch = await copyJobHistory(outbox, sql, log);
    copied += batch;
    if (batch < BATCH || Date.now() >= until) break;
  }
  await settleParents(outbox, new JobStore(queue, sql));
  return copied;
}

/** One batch copied, then the parents of what it copied settled: what a maintenance tick does, in small. */
export async function flushJobHistory(queue: JobQueue, sql: Sql, log: Logger = silentLogger): Promise<number> {
  const outbox = queue.outbox();
  const copied = await copyJobHistory(outbox, sql, log);
  await settleParents(outbox, new JobStore(queue, sql));
  return copied;
}

/**
 * One flusher at a time holds the lock; entries leave the outbox only after they are written, and only then does a
 * record's retention clock start, so a PostgreSQL outage delays the history but loses none of it. A row
 * PostgreSQL refuses for its content is set aside (GET /jobs/status counts them) and the rest go on. The parent
 * of every copied child joins the unsettled set before the entries leave the outbox, so a process that dies
 * between the two steps leaves the parent to the next flush. Returns how many entries were handled.
 */
export async function copyJobHistory(outbox: HistoryOutbox, sql: Sql, log: Logger = silentLogger): Promise<number> {
  const token = await outbox.lock();
  if (token === null) return 0;
  try {
    const { ids, records, jobs: all } = await outbox.oldest(BATCH);
    const jobs = all.filter((job): job is Job => job !== null && isFinal(job.status));
    const refused = await saveSettingAside(sql, jobs);
    const rejected = refused.map(({ job, error }) => {
      log.error('job_history_row_refused', { job_id: job.id, error: error.message });
      return JSON.stringify({ id: job.id, record: records[ids.indexOf(job.id)], error: error.message, at: new Date().toISOString() });
    });
    // Children finishing is what finishes a scrape-all parent; this is the one place that sees them all.
    await outbox.markUnsettled([...new Set(jobs.flatMap((job) => (job.parent ? [job.parent] : [])))]);
    await outbox.acknowledge(token, ids.length, rejected);
    return ids.length;
  } catch (error) {
    // Acknowledging nothing releases our lock (and only ours) so the next flush can try again.
    await outbox.acknowledge(token, 0).catch(() => {});
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
