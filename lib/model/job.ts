// A job as every layer speaks of it: its kinds and statuses (with the one list of final ones), what it records
// while it runs, and what a running job is given. How it is stored is the queue's business (lib/queue/record.ts).

export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** The statuses a job never leaves by itself (only a manual retry of a failed or dead one does): the one list, Lua included. */
export const FINAL_STATUSES = ['completed', 'failed', 'cancelled', 'dead'] as const satisfies readonly JobStatus[];
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export const JOB_KINDS = ['scrape', 'scrape-all', 'backup', 'sentiment-backfill', 'alert-check', 'alert-delivery'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Upper bounds (seconds) of the attempt-duration histogram the finish script keeps (vibe_job_duration_seconds). */
export const JOB_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

export interface JobProgress {
  /** Pages read (a scrape) or batches scored (a backfill). */
  pages_done: number;
  pages_planned: number | null;
  found: number;
  inserted: number;
  /** Where a job that works through a table goes on from when it runs again (a backfill: the last post id done). */
  cursor?: string;
}

export interface JobFailure {
  code: string;
  message: string;
  attempt?: number;
  at?: number;
}

export interface Job {
  id: string;
  kind: JobKind;
  source: string;
  query: string;
  limit: number;
  priority: number;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** When a retry is due, while the job waits in the delayed set. */
  runAt: number | null;
  progress: JobProgress | null;
  result: Record<string, unknown> | null;
  error: JobFailure | null;
  /** The error of the run before a manual retry (POST /jobs/{id}/retry). */
  previousError: JobFailure | null;
  /** Per-attempt time limit (ms); past it the attempt fails with timed_out. */
  timeoutMs: number | null;
  worker: string | null;
  cancelRequested: boolean;
  /** Ignore the incremental mark and read everything up to `limit`. */
  fullRescan: boolean;
  /** The scrape-all job that fanned this one out. */
  parent: string | null;
  /** A scrape-all job's children. */
  children: string[];
}

export interface NewJob {
  kind: JobKind;
  source: string;
  query: string;
  limit: number;
  priority: number;
  maxAttempts: number;
  fullRescan?: boolean;
  parent?: string;
  children?: string[];
  timeoutMs?: number;
}

export function isFinal(status: JobStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/** What a job's code is given while it runs. */
export interface JobContext {
  /** Aborted when the job is cancelled, times out or loses its lease. */
  signal: AbortSignal;
  reportProgress(progress: JobProgress): Promise<void>;
}
