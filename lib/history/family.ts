// A scrape-all job is a parent record whose children are ordinary scrape jobs. The parent never runs: its
// status and totals are read from its children, and once every child has finished the history flusher
// records its final state (settleParents): copying a child to history puts its parent in the unsettled set.
import { type Job, type JobStatus, isFinal } from '../model/job.ts';
import type { HistoryOutbox } from '../queue/outbox.ts';
import type { JobStore } from './job-store.ts';

export interface FamilySummary {
  status: JobStatus;
  counts: Record<JobStatus, number> & { total: number };
  found: number;
  inserted: number;
  children: Job[];
  error: { code: string; message: string } | null;
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

/**
 * Settles every parent in the unsettled set: each whose children have all finished gets its final state; one with
 * a child still waiting leaves the set until that child finishes. Each parent is one atomic script call, and the
 * set keeps a parent until it is settled, so a process that dies at any point leaves the work to the next flush.
 */
export async function settleParents(outbox: HistoryOutbox, store: JobStore): Promise<number> {
  let settled = 0;
  for await (const id of outbox.unsettledParents()) {
    const parent = await store.get(id);
    const children = parent ? await store.children(parent) : [];
    const summary = parent ? summarise(parent, children) : null;
    const status = summary && isFinal(summary.status) ? summary.status : '';
    const result = summary ? JSON.stringify({ found: summary.found, inserted: summary.inserted, children: summary.counts }) : '{}';
    const error = summary?.error ? JSON.stringify(summary.error) : '';
    if ((await outbox.settle(id, status, result, error, children)) === 'settled') settled += 1;
  }
  return settled;
}
