import { Hono } from 'hono';
import { listTrackedQueries, trackQuery, untrackQuery } from '../db/tracked-queries.ts';
import { ApiError } from '../errors.ts';
import * as contract from './contract/others.ts';
import type { ApiDeps } from './deps.ts';
import { type TrackRequest, trackRequest } from './validate.ts';

/** Tracks the query, unless MAX_TRACKED_QUERIES others are tracked already. */
export async function addTrackedQuery(deps: Pick<ApiDeps, 'sql' | 'config'>, { query, sources }: TrackRequest) {
  const tracked = await listTrackedQueries(deps.sql);
  if (tracked.length >= deps.config.maxTrackedQueries && !tracked.some((row) => row.query === query)) {
    throw new ApiError(400, 'too_many_tracked_queries', `${tracked.length} queries are tracked, the most MAX_TRACKED_QUERIES allows; remove one (DELETE /queries/{id}) or raise the setting`);
  }
  return trackQuery(deps.sql, query, sources);
}

/** GET/POST/DELETE /queries: what the automatic scrape tracks. */
export function queriesRoutes(deps: ApiDeps) {
  return new Hono()
    .get('/', async (c) => {
      const rows = await listTrackedQueries(deps.sql);
      return c.json({ queries: rows.map((row) => ({ ...row, created_at: row.created_at.toISOString() })) });
    })
    .post('/', async (c) => {
      const { row, outcome } = await addTrackedQuery(deps, trackRequest((await contract.trackQuery.read(c, deps)).body, deps.sources));
      return c.json({ ...row, created_at: row.created_at.toISOString(), outcome }, outcome === 'created' ? 201 : 200, outcome === 'created' ? { location: `/queries/${row.id}` } : {});
    })
    .delete('/:id', async (c) => {
      const { id } = (await contract.untrackQuery.read(c, deps)).path;
      if (!(await untrackQuery(deps.sql, id))) throw new ApiError(404, 'query_not_found', `no tracked query with id "${id.slice(0, 32)}"`);
      return c.body(null, 204);
    });
}
