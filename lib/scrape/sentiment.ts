// Every post's sentiment at ingest, the same way for a scrape, a legacy import and a backfill: the source's stars
// decide the label when it has them (the text score is kept beside it), the text does otherwise.
import type { PostSentiment, ScrapedPost } from '../model/post.ts';
import { scoreSentiment } from '../sentiment/index.ts';

/** What a post's `rating` is: stars (Trustpilot's 1-5) decide the label; votes and points say nothing about it. */
export type RatingKind = 'stars' | 'votes';

export function sentimentOf(post: Pick<ScrapedPost, 'text' | 'title' | 'language' | 'rating'>, ratingKind: RatingKind): PostSentiment {
  return scoreSentiment({ text: post.text, title: post.title, language: post.language, stars: ratingKind === 'stars' ? post.rating : null });
}

export function withSentiment(posts: ScrapedPost[], ratingKind: RatingKind): ScrapedPost[] {
  return posts.map((post) => ({ ...post, sentiment: sentimentOf(post, ratingKind) }));
}
