import type { Sql } from './client.ts';

export interface TrackedQuery {
  id: string;
  query: string;
  /** Null: every source usable at scrape time. */
  sources: string[] | null;
  created_at: Date;
}

export async function listTrackedQueries(sql: Sql): Promise<TrackedQuery[]> {
  return sql<TrackedQuery[]>`select id::text, query, sources, created_at from tracked_queries order by tracked_queries.id`;
}

export type TrackOutcome = 'created' | 'existing' | 'updated';

/**
 * Adds the query; a query already tracked keeps its id and gets the sources given (`updated`), or is left as it
 * is when they are the same (`existing`). Sources are kept sorted, so the same set written in another order is
 * the same. The row is looked up before it is inserted, so asking again does not use up an id.
 */
export async function trackQuery(sql: Sql, query: string, sources: string[] | null): Promise<{ row: TrackedQuery; outcome: TrackOutcome }> {
  const wanted = sources ? [...sources].sort() : null;
  const select = () => sql<TrackedQuery[]>`select id::text, query, sources, created_at from tracked_queries where query = ${query}`;
  let [row] = await select();
  if (!row) {
    [row] = await sql<TrackedQuery[]>`
      insert into tracked_queries (query, sources) values (${query}, ${wanted})
      on conflict (query) do nothing
      returning id::text, query, sources, created_at
    `;
    if (row) return { row, outcome: 'created' };
    // Another request added it in between.
    [row] = await select();
  }
  if (sameSources(row!.sources, wanted)) return { row: row!, outcome: 'existing' };
  const [updated] = await sql<TrackedQuery[]>`
    update tracked_queries set sources = ${wanted} where id = ${row!.id}::bigint
    returning id::text, query, sources, created_at
  `;
  return { row: updated!, outcome: 'updated' };
}

function sameSources(a: string[] | null, b: string[] | null): boolean {
  if (a === null || b === null) return a === b;
  const sorted = [...a].sort();
  return sorted.length === b.length && sorted.every((name, i) => name === b[i]);
}

export async function untrackQuery(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`delete from tracked_queries where id = ${id}::bigint returning id`;
  return rows.length > 0;
}
