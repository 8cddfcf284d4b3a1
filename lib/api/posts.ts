import { Hono } from 'hono';
import { postStats } from '../db/post-stats.ts';
import { listPosts } from '../db/posts.ts';
import type { ApiDeps } from './deps.ts';
import { decodeCursor, encodeCursor } from './post-cursor.ts';
import { exportFormat, exportResponse, postTurns } from './post-export.ts';
import { parsePostFilter } from './post-params.ts';
import { parseStatsRequest, presentStats } from './post-stats.ts';
import { presentPost } from './present.ts';
import { integerParam } from './validate.ts';

export function postsRoutes(deps: ApiDeps) {
  const { search: searchTurns } = postTurns(deps);
  return new Hono()
    .get('/', async (c) => {
    const filter = parsePostFilter((name) => c.req.query(name), deps.sources);
    const limit = integerParam('limit', c.req.query('limit'), 50, 1, 200);
    const before = decodeCursor(c.req.query('before'));
    // One row more than asked tells whether another page exists, so the last page says next: null.
    const read = () => listPosts(deps.sql, { filter, limit: limit + 1, before });
    const rows = filter.text ? await searchTurns.run(read) : await read();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({ posts: page.map(presentPost), next: rows.length > limit && last ? encodeCursor(last.cursor) : null });
  })
    .get('/export', async (c) => {
      const format = exportFormat(c.req.query('format'));
      const filter = parsePostFilter((name) => c.req.query(name), deps.sources);
      return exportResponse(deps, filter, format);
    })
    .get('/stats', async (c) => {
      const request = await parseStatsRequest((name) => c.req.query(name), deps);
      const read = () => postStats(deps.sql, request);
      const result = request.filter.text ? await searchTurns.run(read) : await read();
      return c.json(presentStats(request, result));
    });
}
