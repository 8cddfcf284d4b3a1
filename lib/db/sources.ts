import type postgres from 'postgres';
import type { ScrapeState } from '../model/post.ts';
import type { Sql } from './client.ts';
import { storableJson } from './storable.ts';

interface StateRow {
  newest_published_at: Date;
  newest_external_id: string;
  gap_top_published_at: Date | null;
  gap_top_external_id: string | null;
  gap_resume: unknown;
  gap_opened_at: Date | null;
}

/** The (source, query)'s mark and gap, or null before its first run stored anything. */
export async function getScrapeState(sql: Sql, source: string, query: string): Promise<ScrapeState | null> {
  const [row] = await sql<StateRow[]>`
    select newest_published_at, newest_external_id, gap_top_published_at, gap_top_external_id, gap_resume, gap_opened_at
    from source_marks where source = ${source} and query = ${query}
  `;
  if (!row) return null;
  const gap = row.gap_top_published_at && row.gap_top_external_id !== null
    ? { top: { publishedAt: row.gap_top_published_at, externalId: row.gap_top_external_id }, resume: row.gap_resume ?? null, openedAt: row.gap_opened_at ?? row.gap_top_published_at }
    : null;
  return { mark: { publishedAt: row.newest_published_at, externalId: row.newest_external_id }, gap };
}

/**
 * Writes the state a run ended with. The mark never moves backwards, so a run that started before another one
 * finished cannot rewind what that one reached.
 */
export async function saveScrapeState(sql: Sql, source: string, query: string, state: ScrapeState): Promise<void> {
  const { mark, gap } = state;
  const resume = gap && gap.resume !== null && gap.resume !== undefined ? sql.json(gap.resume as postgres.JSONValue) : null;
  await sql`
    insert into source_marks (source, query, newest_published_at, newest_external_id, gap_top_published_at, gap_top_external_id, gap_resume, gap_opened_at)
    values (${source}, ${query}, ${mark.publishedAt}, ${mark.externalId}, ${gap?.top.publishedAt ?? null}, ${gap?.top.externalId ?? null}, ${resume}, ${gap?.openedAt ?? null})
    on conflict (source, query) do update set
      newest_published_at = greatest(source_marks.newest_published_at, excluded.newest_published_at),
      newest_external_id = case when excluded.newest_published_at >= source_marks.newest_published_at
                                then excluded.newest_external_id else source_marks.newest_external_id end,
      gap_top_published_at = excluded.gap_top_published_at,
      gap_top_external_id = excluded.gap_top_external_id,
      gap_resume = excluded.gap_resume,
      gap_opened_at = excluded.gap_opened_at,
      updated_at = now()
  `;
}

/** Which of `externalIds` this source has stored already. */
export async function storedExternalIds(sql: Sql, source: string, externalIds: string[]): Promise<Set<string>> {
  if (externalIds.length === 0) return new Set();
  const rows = await sql<{ external_id: string }[]>`
    select external_id from posts where source = ${source} and external_id = any(${externalIds}::text[])
  `;
  return new Set(rows.map((row) => row.external_id));
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
  const error = sql.json(storableJson(outcome.error) as postgres.JSONValue);
  await sql`
    insert into source_runs (source, last_failure_at, last_error) values (${source}, now(), ${error})
    on conflict (source) do update set last_failure_at = now(), last_error = excluded.last_error
  `;
}

export async function listSourceRuns(sql: Sql): Promise<SourceRun[]> {
  return sql<SourceRun[]>`select source, last_success_at, last_failure_at, last_error from source_runs`;
}
