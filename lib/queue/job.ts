// The job record as stored in its Redis hash (strings, times in ms) and as the rest of the code sees it.

export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** The statuses a job never leaves by itself (only a manual retry of a failed or dead one does): the one list, Lua included. */
export const FINAL_STATUSES = ['completed', 'failed', 'cancelled', 'dead'] as const satisfies readonly JobStatus[];
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export type JobKind = 'scrape' | 'scrape-all' | 'backup';

export interface JobProgress {
  pages_done: number;
  pages_planned: number | null;
  found: number;
  inserted: number;
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

/** The record's fields; the id is the key's suffix and is not stored again (40 B a job). */
export function toHashFields(job: NewJob, createdAt: number): string[] {
  return [
    'kind', job.kind,
    'source', job.source,
    'query', job.query,
    'limit', String(job.limit),
    'priority', String(job.priority),
    'status', 'pending',
    'attempts', '0',
    'max_attempts', String(job.maxAttempts),
    'created_at', String(createdAt),
    ...(job.fullRescan ? ['full_rescan', '1'] : []),
    ...(job.parent ? ['parent', job.parent] : []),
    ...(job.children ? ['children', JSON.stringify(job.children)] : []),
    ...(job.timeoutMs ? ['timeout_ms', String(job.timeoutMs)] : []),
  ];
}

/** The job whose record `hash` is (as HGETALL gives it: empty when there is none). */
export function fromHash(id: string, hash: Record<string, string>): Job | null {
  // Every record is created with its kind; a hash without one is no record.
  if (hash.kind === undefined) return null;
  return {
    id,
    kind: hash.kind as JobKind,
    source: hash.source ?? '',
    query: hash.query ?? '',
    limit: Number(hash.limit ?? 0),
    priority: Number(hash.priority ?? 0),
    status: (hash.status ?? 'pending') as JobStatus,
    attempts: Number(hash.attempts ?? 0),
    maxAttempts: Number(hash.max_attempts ?? 1),
    createdAt: Number(hash.created_at ?? 0),
    startedAt: optionalNumber(hash.started_at),
    finishedAt: optionalNumber(hash.finished_at),
    runAt: optionalNumber(hash.run_at),
    progress: optionalJson(hash.progress) as JobProgress | null,
    result: optionalJson(hash.result) as Record<string, unknown> | null,
    error: optionalJson(hash.error) as JobFailure | null,
    previousError: optionalJson(hash.previous_error) as JobFailure | null,
    timeoutMs: optionalNumber(hash.timeout_ms),
    worker: hash.worker ?? null,
    cancelRequested: hash.cancel_requested === '1',
    fullRescan: hash.full_rescan === '1',
    parent: hash.parent ?? null,
    children: (optionalJson(hash.children) as string[] | null) ?? [],
  };
}

/** HGETALL's flat array reply ([field, value, ...]) as an object. */
export function pairsToHash(pairs: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!;
  return hash;
}

export function isFinal(status: JobStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

function optionalNumber(value: string | undefined): number | null {
  return value === undefined || value === '' ? null : Number(value);
}

function optionalJson(value: string | undefined): unknown {
  if (value === undefined || value === '') return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}
