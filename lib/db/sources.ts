import type postgres from 'postgres';
import type { HighWaterMark, ScrapedPost } from '../sources/types.ts';
import type { Sql } from './client.ts';

export async function getHighWaterMark(sql: Sql, source: string, query: string): Promise<HighWaterMark | null> {
  const [row] = await sql<{ newest_published_at: Date; newest_external_id: string }[]>`
    select newest_published_at, newest_external_id from source_marks where source = ${source} and query = ${query}
  `;
  return row ? { publishedAt: row.newest_published_at, externalId: row.newest_external_id } : null;
}

/** Moves the mark forward to the newest of `posts`; never backwards, so an older re-scan cannot rewind it. */
export async function advanceHighWaterMark(sql: Sql, source: string, query: string, posts: ScrapedPost[]): Promise<void> {
  const newest = posts.reduce<ScrapedPost | null>((best, post) => (!best || post.publishedAt > best.publishedAt ? post : best), null);
  if (!newest) return;
  await sql`
    insert into source_marks (source, query, newest_published_at, newest_external_id)
    values (${source}, ${query}, ${newest.publishedAt}, ${newest.externalId})
    on conflict (source, query) do update set
      newest_published_at = excluded.newest_published_at,
      newest_external_id = excluded.newest_external_id,
      updated_at = now()
    where source_marks.newest_published_at < excluded.newest_published_at
  `;
}

export interface SourceRun {
  source: string;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_error: { code: string; message: string } | null;
}

export async function recordSourceRun(sql: Sql, source: string, outcome: { ok: true } | { ok: false; error: { code: string; message: string } }): Promise<void> {
  if (outcome.ok) {
    await sql`
      insert into source_runs (source, last_success_at) values (${source}, now())
      on conflict (source) do update set last_success_at = now()
    `;
    return;
  }
  const error = sql.json(outcome.error as unknown as postgres.JSONValue);
  await sql`
    insert into source_runs (source, last_failure_at, last_error) values (${source}, now(), ${error})
    on conflict (source) do update set last_failure_at = now(), last_error = excluded.last_error
  `;
}

export async function listSourceRuns(sql: Sql): Promise<SourceRun[]> {
  return sql<SourceRun[]>`select source, last_success_at, last_failure_at, last_error from source_runs`;
}
