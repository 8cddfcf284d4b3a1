import type postgres from 'postgres';
import type { Job, JobFailure, JobStatus } from '../model/job.ts';
import type { Sql } from './client.ts';
import { storableJson, storableText } from './storable.ts';

interface JobRow {
  id: string;
  kind: string;
  source: string | null;
  query: string | null;
  params: { limit?: number; max_attempts?: number; full_rescan?: boolean; parent?: string | null; children?: string[] };
  status: JobStatus;
  priority: number;
  attempts: number;
  result: Record<string, unknown> | null;
  error: JobFailure | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date;
}

/** Upserts finished jobs by id: copying the same outbox entry twice is harmless. */
export async function saveJobHistory(sql: Sql, jobs: Job[]): Promise<void> {
  if (jobs.length === 0) return;
  // A job retried by hand finishes twice, so the outbox can hold its id twice; one row per id per statement.
  const latest = [...new Map(jobs.map((job) => [job.id, job])).values()];
  const rows = latest.map((job) => ({
    id: job.id,
    kind: job.kind,
    source: job.source ? storableText(job.source) : null,
    query: job.query ? storableText(job.query) : null,
    params: sql.json({ limit: job.limit, max_attempts: job.maxAttempts, full_rescan: job.fullRescan, parent: job.parent, children: job.children } as postgres.JSONValue),
    status: job.status,
    priority: job.priority,
    attempts: job.attempts,
    result: job.result === null ? null : sql.json(storableJson(job.result) as postgres.JSONValue),
    error: job.error === null ? null : sql.json(storableJson(job.error) as postgres.JSONValue),
    created_at: new Date(job.createdAt),
    started_at: job.startedAt === null ? null : new Date(job.startedAt),
    finished_at: new Date(job.finishedAt ?? Date.now()),
  }));
  await sql`
    insert into jobs ${sql(rows)}
    on conflict (id) do update set
      status = excluded.status,
      attempts = excluded.attempts,
      result = excluded.result,
      error = excluded.error,
      started_at = excluded.started_at,
      finished_at = excluded.finished_at
  `;
}

export async function getJobHistory(sql: Sql, id: string): Promise<Job | null> {
  const [row] = await sql<JobRow[]>`select * from jobs where id = ${id}`;
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind as Job['kind'],
    source: row.source ?? '',
    query: row.query ?? '',
    limit: row.params.limit ?? 0,
    priority: row.priority,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.params.max_attempts ?? row.attempts,
    createdAt: row.created_at.getTime(),
    startedAt: row.started_at?.getTime() ?? null,
    finishedAt: row.finished_at.getTime(),
    runAt: null,
    progress: null,
    result: row.result,
    error: row.error,
    previousError: null,
    timeoutMs: null,
    worker: null,
    cancelRequested: false,
    fullRescan: row.params.full_rescan ?? false,
    parent: row.params.parent ?? null,
    children: row.params.children ?? [],
  };
}

/**
 * Whether PostgreSQL refused a row for what it holds (a value out of range, a broken constraint, a value too
 * large), as opposed to being unreachable or our own schema being wrong: only such a row may be set aside.
 */
export function isRefusedRow(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return code.startsWith('22') || code.startsWith('23') || code.startsWith('54');
}

export interface LastRun {
  query: string;
  source: string;
  status: JobStatus;
  finished_at: Date;
  result: Record<string, unknown> | null;
  error: JobFailure | null;
}

/** The newest finished scrape of each (query, source) pair that has one, one index probe a pair. */
export async function lastScrapeRuns(sql: Sql, queries: string[], sources: string[]): Promise<LastRun[]> {
  if (queries.length === 0 || sources.length === 0) return [];
  return sql<LastRun[]>`
    select q.query, s.source, j.status, j.finished_at, j.result, j.error
    from unnest(${queries}::text[]) as q(query)
    cross join unnest(${sources}::text[]) as s(source)
    cross join lateral (
      select status, finished_at, result, error from jobs
      where jobs.source = s.source and jobs.query = q.query and jobs.kind = 'scrape'
      order by finished_at desc limit 1
    ) j
  `;
}
