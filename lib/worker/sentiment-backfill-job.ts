// Scores stored posts again with today's scorer, e.g. after it improved: batch after batch in id order, each batch
// one read and one write, its progress (and where it got to) reported after each, so a run killed midway goes on
// from the last batch it finished when it runs again.
import type { Sql } from '../db/client.ts';
import { countPostsToScore, postsToScore, saveSentiments } from '../db/sentiment-backfill.ts';
import type { Job, JobContext, JobProgress } from '../model/job.ts';
import { type RatingKind, sentimentOf } from '../scrape/sentiment.ts';
import { SENTIMENT_VERSION } from '../sentiment/index.ts';

const BATCH = 1_000;

export async function runSentimentBackfill(job: Job, ctx: JobContext, deps: { sql: Sql; ratingKind(source: string): RatingKind }): Promise<Record<string, unknown>> {
  const all = job.query === 'all';
  // A run after a crash goes on from the cursor its last attempt reported.
  const previous = job.progress;
  let afterId = previous?.cursor ?? '0';
  const progress: JobProgress = { pages_done: previous?.pages_done ?? 0, pages_planned: null, found: previous?.found ?? 0, inserted: previous?.inserted ?? 0, cursor: afterId };
  const left = await countPostsToScore(deps.sql, { version: SENTIMENT_VERSION, all });
  progress.pages_planned = progress.pages_done + Math.ceil(left / BATCH);
  for (;;) {
    ctx.signal.throwIfAborted();
    const posts = await postsToScore(deps.sql, { afterId, version: SENTIMENT_VERSION, all, batch: BATCH });
    if (posts.length === 0) break;
    const scored = posts.map((post) => ({ id: post.id, sentiment: sentimentOf({ text: post.body, title: post.title, language: post.language, rating: post.rating }, deps.ratingKind(post.source)) }));
    await saveSentiments(deps.sql, scored);
    afterId = posts.at(-1)!.id;
    progress.pages_done += 1;
    progress.found += posts.length;
    progress.inserted += scored.filter((row) => row.sentiment.label !== null).length;
    progress.cursor = afterId;
    await ctx.reportProgress({ ...progress });
  }
  return { scored: progress.found, labelled: progress.inserted, batches: progress.pages_done, version: SENTIMENT_VERSION, all };
}
