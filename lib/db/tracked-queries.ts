import type { Sql } from './client.ts';

export interface TrackedQuery {
  id: string;
  query: string;
  /** Null: every source usable at scrape time. */
  sources: string[] | null;
  created_at: Date;
}

export async function listTrackedQueries(sql: Sql): Promise<TrackedQuery[]> {
  return sql<TrackedQuery[]>`select id::text, query, sources, created_at from tracked_queries order by id`;
}

/** Adds the query, or replaces its sources when it is already tracked. */
export async function trackQuery(sql: Sql, query: string, sources: string[] | null): Promise<TrackedQuery> {
  const [row] = await sql<TrackedQuery[]>`
    insert into tracked_queries (query, sources) values (${query}, ${sources})
    on conflict (query) do update set sources = excluded.sources
    returning id::text, query, sources, created_at
  `;
  return row!;
}

export async function untrackQuery(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`delete from tracked_queries where id = ${id}::bigint returning id`;
  return rows.length > 0;
}
