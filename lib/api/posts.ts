import { Hono } from 'hono';
import { postStats } from '../db/post-stats.ts';
import { listPosts } from '../db/posts.ts';
import * as contract from './contract/posts.ts';
import type { ApiDeps } from './deps.ts';
import { decodeCursor, encodeCursor } from './post-cursor.ts';
import { exportResponse, postTurns } from './post-export.ts';
import { postFilter } from './post-params.ts';
import { presentStats, statsRequest } from './post-stats.ts';
import { presentPost } from './present.ts';

export function postsRoutes(deps: ApiDeps) {
  const { search: searchTurns } = postTurns(deps);
  return new Hono()
    .get('/', async (c) => {
      const { query } = await contract.listPosts.read(c, deps);
      const filter = postFilter(query);
      const { limit } = query;
      const before = decodeCursor(query.before);
      // One row more than asked tells whether another page exists, so the last page says next: null.
      const read = () => listPosts(deps.sql, { filter, limit: limit + 1, before });
      const rows = filter.text ? await searchTurns.run(read) : await read();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return c.json({ posts: page.map(presentPost), next: rows.length > limit && last ? encodeCursor(last.cursor) : null });
    })
    .get('/export', async (c) => {
      const { query } = await contract.exportPosts.read(c, deps);
      return exportResponse(deps, postFilter(query), query.format, c);
    })
    .get('/stats', async (c) => {
      const request = await statsRequest((await contract.postStats.read(c, deps)).query, deps);
      const read = () => postStats(deps.sql, request);
      const result = request.filter.text ? await searchTurns.run(read) : await read();
      return c.json(presentStats(request, result));
    });
}
