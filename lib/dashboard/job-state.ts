// What the job page shows of a job and its live stream sends: status, attempts, progress and error, with a
// scrape-all parent's figures read from its children as GET /jobs/{id} reads them.
import { type FamilySummary, summarise } from '../history/family.ts';
import type { JobStore } from '../history/job-store.ts';
import { type Job, type JobStatus, isFinal } from '../model/job.ts';

export interface JobState {
  id: string;
  status: JobStatus;
  final: boolean;
  attempts: number;
  maxAttempts: number;
  pagesDone: number;
  pagesPlanned: number | null;
  found: number;
  inserted: number;
  error: { code: string; message: string } | null;
  cancelRequested: boolean;
  children: FamilySummary['counts'] | null;
}

export async function jobState(store: JobStore, job: Job): Promise<{ state: JobState; children: Job[] }> {
  if (job.kind === 'scrape-all') {
    const children = await store.children(job);
    const summary = summarise(job, children);
    const status = isFinal(job.status) ? job.status : summary.status;
    const done = summary.counts.completed + summary.counts.failed + summary.counts.cancelled + summary.counts.dead;
    return {
      children,
      state: {
        id: job.id, status, final: isFinal(status), attempts: job.attempts, maxAttempts: job.maxAttempts,
        pagesDone: done, pagesPlanned: summary.counts.total, found: summary.found, inserted: summary.inserted,
        error: isFinal(status) ? summary.error : null, cancelRequested: job.cancelRequested, children: summary.counts,
      },
    };
  }
  const figures = job.result ?? job.progress ?? {};
  return {
    children: [],
    state: {
      id: job.id, status: job.status, final: isFinal(job.status), attempts: job.attempts, maxAttempts: job.maxAttempts,
      pagesDone: Number((job.progress as { pages_done?: unknown } | null)?.pages_done ?? 0),
      pagesPlanned: job.progress?.pages_planned ?? null,
      found: Number((figures as { found?: unknown }).found ?? 0),
      inserted: Number((figures as { inserted?: unknown }).inserted ?? 0),
      error: job.error ? { code: job.error.code, message: job.error.message } : null,
      cancelRequested: job.cancelRequested, children: null,
    },
  };
}
