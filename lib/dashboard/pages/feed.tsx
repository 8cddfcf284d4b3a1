// The feed: posts newest first with the API's own filters, paged by keyset (`before`, as GET /posts does), and an
// export of what the filter selects.
import { Hono } from 'hono';
import type { ApiDeps } from '../../api/deps.ts';
import { decodeCursor, encodeCursor } from '../../api/post-cursor.ts';
import * as contract from '../../api/contract/posts.ts';
import { exportResponse, postTurns } from '../../api/post-export.ts';
import { parsePostFilter, postFilter } from '../../api/post-params.ts';
import type { PostFilter } from '../../db/post-filter.ts';
import { type PostCursor, listPosts } from '../../db/posts.ts';
import { listTrackedQueries } from '../../db/tracked-queries.ts';
import { ApiError } from '../../errors.ts';
import { SENTIMENT_LABELS } from '../../model/post.ts';
import { queryString } from '../format.ts';
import { Empty, Layout, render } from '../layout.tsx';
import { PostItem } from '../post.tsx';
import type { DashboardEnv } from '../viewer.ts';

export const FEED_PAGE = 25;
const FILTER_NAMES = ['source', 'query', 'q', 'sentiment', 'rating', 'from', 'to'] as const;

export function feedRoutes(deps: ApiDeps) {
  const { search } = postTurns(deps);
  return new Hono<DashboardEnv>()
    .get('/', async (c) => {
      const raw = Object.fromEntries(FILTER_NAMES.map((name) => [name, c.req.query(name) ?? ''])) as Record<(typeof FILTER_NAMES)[number], string>;
      let filter: PostFilter | null = null;
      let error: string | null = null;
      let before: PostCursor | undefined;
      try {
        filter = parsePostFilter((name) => raw[name as (typeof FILTER_NAMES)[number]], deps);
        before = decodeCursor(c.req.query('before'));
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        error = e.message;
      }
      const read = filter ? () => listPosts(deps.sql, { filter: filter!, limit: FEED_PAGE + 1, before }) : async () => [];
      const [rows, tracked] = await Promise.all([filter?.text ? search.run(read) : read(), listTrackedQueries(deps.sql)]);
      const page = rows.slice(0, FEED_PAGE);
      const last = page.at(-1);
      const next = rows.length > FEED_PAGE && last ? encodeCursor(last.cursor) : null;
      const filterQuery = queryString(raw);
      const viewer = c.get('viewer');
      return render(
        c,
        <Layout title="Feed" path="/ui/feed" viewer={viewer} error={error}>
          <form method="get" action="/ui/feed" class="filters" aria-label="Filter the posts">
            <label>Source
              <select name="source">
                <option value="">all sources</option>
                {deps.sources.names().map((name) => <option value={name} selected={raw.source === name}>{name}</option>)}
              </select>
            </label>
            <label>Tracked query
              <select name="query">
                <option value="">all queries</option>
                {tracked.map((t) => <option value={t.query} selected={raw.query === t.query}>{t.query}</option>)}
                {raw.query && !tracked.some((t) => t.query === raw.query) ? <option value={raw.query} selected>{raw.query}</option> : null}
              </select>
            </label>
            <label>Sentiment
              <select name="sentiment">
                <option value="">any</option>
                {[...SENTIMENT_LABELS, 'unscored'].map((label) => <option value={label} selected={raw.sentiment === label}>{label}</option>)}
              </select>
            </label>
            <label>Rating
              <input type="text" inputmode="numeric" name="rating" value={raw.rating} size={4} placeholder="1-5" />
            </label>
            <label>From <input type="date" name="from" value={raw.from.slice(0, 10)} /></label>
            <label>Before <input type="date" name="to" value={raw.to.slice(0, 10)} /></label>
            <label class="grow">Text <input type="search" name="q" value={raw.q} placeholder="words in title, text or author" /></label>
            <button type="submit" class="button primary">Filter</button>
            <a href="/ui/feed" class="button">Clear</a>
          </form>
          <p class="exports">
            Export this filter: <a href={`/ui/feed/export${queryString({ ...raw, format: 'csv' })}`}>CSV</a>{' · '}
            <a href={`/ui/feed/export${queryString({ ...raw, format: 'ndjson' })}`}>NDJSON</a>
          </p>
          <section aria-label="Posts" class="posts">
            {page.length === 0 ? <Empty>{error ? 'Fix the filter to see posts.' : 'No posts match.'}</Empty> : page.map((post) => <PostItem post={post} />)}
          </section>
          <nav class="pager" aria-label="Pages">
            {before ? <a href={`/ui/feed${filterQuery}`}>Newest</a> : null}
            {next ? <a href={`/ui/feed${queryString({ ...raw, before: next })}`} rel="next">Older posts</a> : null}
          </nav>
        </Layout>,
        error ? 400 : 200,
      );
    })
    .get('/export', async (c) => {
      const { query } = contract.exportPosts.parse({ query: (name) => c.req.query(name) }, deps);
      return exportResponse(deps, postFilter(query), query.format, c);
    });
}
