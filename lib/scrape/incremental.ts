import type { HighWaterMark, ScrapedPost } from '../sources/types.ts';

/**
 * For upstreams that list newest first: keeps the posts newer than the mark and says whether the page reached
 * it, so the scrape can stop there. Posts published in the same second as the mark are kept (the upsert
 * deduplicates them): two posts can share a timestamp, and dropping one would lose it for good.
 */
export function splitAtMark(posts: ScrapedPost[], since: HighWaterMark | null): { fresh: ScrapedPost[]; reachedMark: boolean } {
  if (!since) return { fresh: posts, reachedMark: false };
  const mark = since.publishedAt.getTime();
  const fresh: ScrapedPost[] = [];
  let reachedMark = false;
  for (const post of posts) {
    const at = post.publishedAt.getTime();
    if (post.externalId === since.externalId || at < mark) {
      reachedMark = true;
      continue;
    }
    fresh.push(post);
  }
  return { fresh, reachedMark };
}
