// The job record as stored in its Redis hash (strings, times in ms).
import type { Job, JobKind, JobFailure, JobProgress, JobStatus, NewJob } from '../model/job.ts';

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
