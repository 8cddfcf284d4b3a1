import { Hono } from 'hono';
import { listTrackedQueries, trackQuery, untrackQuery } from '../db/tracked-queries.ts';
import { ApiError } from '../errors.ts';
import type { ApiDeps } from './deps.ts';
import { readJson } from './read-json.ts';
import { requireQuery, requireSource, requireUsableSources } from './validate.ts';

/** GET/POST/DELETE /queries: what the automatic scrape tracks. */
export function queriesRoutes(deps: ApiDeps) {
  return new Hono()
    .get('/', async (c) => {
      const rows = await listTrackedQueries(deps.sql);
      return c.json({ queries: rows.map((row) => ({ ...row, created_at: row.created_at.toISOString() })) });
    })
    .post('/', async (c) => {
      const body = await readJson(c.req.raw);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ApiError(400, 'invalid_body', 'the body must be a JSON object like {"query":"ovhcloud.com","sources":["trustpilot"]}');
      }
      const { query: rawQuery, sources: rawSources, ...rest } = body as Record<string, unknown>;
      if (Object.keys(rest).length > 0) throw new ApiError(400, 'unknown_field', `unknown field ${Object.keys(rest).map((k) => `\`${k}\``).join(', ')}; expected query, sources`);
      const query = requireQuery(rawQuery);
      let sources: string[] | null = null;
      if (rawSources !== undefined && rawSources !== null) {
        if (!Array.isArray(rawSources) || rawSources.length === 0) throw new ApiError(400, 'invalid_sources', '`sources` must be a non-empty array of source names, or left out for every usable source');
        sources = requireUsableSources([...new Set(rawSources.map((name) => requireSource(name, deps.sources, 'sources[]')))], deps.sources);
        for (const name of sources) {
          const problem = deps.sources.get(name)!.validateQuery?.(query);
          if (problem) throw new ApiError(400, 'invalid_query', `${name}: ${problem}`);
        }
      }
      const tracked = await listTrackedQueries(deps.sql);
      if (tracked.length >= deps.config.maxTrackedQueries && !tracked.some((row) => row.query === query)) {
        throw new ApiError(400, 'too_many_tracked_queries', `${tracked.length} queries are tracked, the most MAX_TRACKED_QUERIES allows; remove one (DELETE /queries/{id}) or raise the setting`);
      }
      const { row, outcome } = await trackQuery(deps.sql, query, sources);
      return c.json({ ...row, created_at: row.created_at.toISOString(), outcome }, outcome === 'created' ? 201 : 200, outcome === 'created' ? { location: `/queries/${row.id}` } : {});
    })
    .delete('/:id', async (c) => {
      const id = c.req.param('id');
      if (!/^\d{1,18}$/.test(id) || !(await untrackQuery(deps.sql, id))) throw new ApiError(404, 'query_not_found', `no tracked query with id "${id.slice(0, 32)}"`);
      return c.body(null, 204);
    });
}
