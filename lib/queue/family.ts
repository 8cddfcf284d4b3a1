// A scrape-all job is a parent record whose children are ordinary scrape jobs. The parent never runs: its
// status and totals are read from its children, and once every child has finished the history flusher
// records its final state (settleParents).
import { type Job, type JobStatus, fromHash, isFinal } from './job.ts';
import type { JobQueue } from './queue.ts';

export interface FamilySummary {
  status: JobStatus;
  counts: Record<JobStatus, number> & { total: number };
  found: number;
  inserted: number;
  children: Job[];
  error: { code: string; message: string } | null;
}

export async function loadChildren(queue: JobQueue, parent: Job, fallback?: (id: string) => Promise<Job | null>): Promise<Job[]> {
  if (parent.children.length === 0) return [];
  const pipeline = queue.redis.pipeline();
  for (const id of parent.children) pipeline.hgetall(queue.keys.job(id));
  const replies = (await pipeline.exec()) ?? [];
  const children: Job[] = [];
  for (const [index, [, hash]] of replies.entries()) {
    const child = fromHash(parent.children[index]!, hash as Record<string, string>) ?? (await fallback?.(parent.children[index]!)) ?? null;
    if (child) children.push(child);
  }
  return children;
}

/** The parent's state from its children: running while any child waits or runs; finished when all have. */
export function summarise(parent: Job, children: Job[]): FamilySummary {
  const counts = { total: parent.children.length, pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0, dead: 0 };
  let found = 0;
  let inserted = 0;
  for (const child of children) {
    counts[child.status] += 1;
    const figures = child.result ?? child.progress ?? {};
    found += Number((figures as { found?: unknown }).found ?? 0);
    inserted += Number((figures as { inserted?: unknown }).inserted ?? 0);
  }
  // A child whose record is gone from both Redis and PostgreSQL can only have finished long ago.
  const unaccounted = counts.total - children.length;
  const waiting = counts.pending + counts.running;
  let status: JobStatus;
  let error: FamilySummary['error'] = null;
  if (waiting > 0) status = counts.running + counts.completed + counts.failed + counts.cancelled > 0 ? 'running' : 'pending';
  else if (counts.completed === counts.total - unaccounted && counts.total > 0) status = 'completed';
  else if (counts.cancelled === counts.total) status = 'cancelled';
  else if (counts.completed === 0) status = 'failed';
  else {
    status = 'completed';
    error = { code: 'partial_failure', message: `${counts.failed + counts.cancelled + counts.dead} of ${counts.total} child jobs did not complete` };
  }
  if (status === 'failed') error = { code: 'children_failed', message: `none of the ${counts.total} child jobs completed` };
  return { status, counts, found, inserted, children, error };
}

/** Records the final state of each parent whose children have all finished. Idempotent. */
export async function settleParents(queue: JobQueue, parentIds: Iterable<string>): Promise<number> {
  let settled = 0;
  for (const id of new Set(parentIds)) {
    const parent = await queue.get(id);
    if (!parent || isFinal(parent.status)) continue;
    const summary = summarise(parent, await loadChildren(queue, parent));
    if (!isFinal(summary.status)) continue;
    const now = Date.now();
    const finalStatus = summary.status as 'completed' | 'failed' | 'cancelled';
    const key = queue.keys.job(id);
    const transaction = queue.redis
      .multi()
      .hset(key, {
        status: finalStatus,
        finished_at: now,
        result: JSON.stringify({ found: summary.found, inserted: summary.inserted, children: summary.counts }),
      });
    if (summary.error) transaction.hset(key, 'error', JSON.stringify(summary.error));
    await transaction
      .zadd(queue.keys.finished[finalStatus], now, id)
      .lpush(queue.keys.history, id)
      .exec();
    settled += 1;
  }
  return settled;
}
