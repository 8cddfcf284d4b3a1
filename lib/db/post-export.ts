// Every post a filter selects, newest first, a batch at a time through a cursor: an export of a million posts
// holds one batch in memory, and stopping the iteration ends the query.
import type { Sql } from './client.ts';
import { type PostFilter, postConditions } from './post-filter.ts';
import { POST_COLUMNS, type PostRow, type StoredPost, storedPost } from './posts.ts';

export async function* exportPosts(sql: Sql, filter: PostFilter, batch = 1_000): AsyncGenerator<StoredPost[]> {
  const query = sql<PostRow[]>`
    select ${sql.unsafe(POST_COLUMNS)} from posts p
    where true ${postConditions(sql, filter)}
    order by p.published_at desc, p.id desc
  `;
  for await (const rows of query.cursor(batch)) yield rows.map(storedPost);
}
