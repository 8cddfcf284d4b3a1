// Every post a filter selects, newest first, a batch at a time through a cursor: an export of a million posts
// holds one batch in memory, and stopping the iteration ends the query.
import type { Sql } from './client.ts';
import { type PostFilter, postConditions } from './post-filter.ts';
import { POST_COLUMNS, type PostRow, type StoredPost, storedPost } from './posts.ts';

// Smaller batches leave fewer rows alive when a scavenge comes: over an export of a million posts the scavenger
// copied 36 MB at 250 rows against 167 MB at 1,000, and the export was no slower (--trace-gc-nvp).
const BATCH_ROWS = 250;

export async function* exportPosts(sql: Sql, filter: PostFilter, batch = BATCH_ROWS): AsyncGenerator<StoredPost[]> {
  const query = sql<PostRow[]>`
    select ${sql.unsafe(POST_COLUMNS)} from posts p
    where true ${postConditions(sql, filter)}
    order by p.published_at desc, p.id desc
  `;
  const cursor = query.cursor(batch)[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (let step = await cursor.next(); !step.done; step = await cursor.next()) {
      yield storedPosts(step);
    }
    finished = true;
  } finally {
    if (!finished) await cursor.return?.();
  }
}

/**
 * The batch, taken out of the cursor's result first. postgres.js's iterator results stay reachable for longer
 * than their batch, and with the rows still in them V8 moved most of every batch to its old generation before
 * it died: 40% of what the cursor allocated was promoted, against 0.3% once the result lets go of its rows
 * (--trace-gc-nvp). That dead old generation was most of what an export added to the API's memory.
 */
function storedPosts(step: IteratorYieldResult<PostRow[]>): StoredPost[] {
  const rows = step.value;
  step.value = [];
  return rows.map(storedPost);
}
