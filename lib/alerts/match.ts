// Which new posts a new_post rule tells of: all of its conditions hold (any keyword, one of the sentiments, a
// rating at most the maximum); a condition left empty holds for every post.
import type { AlertPost, NewPostParams } from '../model/alert.ts';

export function matchesNewPost(params: NewPostParams, post: AlertPost): boolean {
  if (params.sentiments.length > 0 && (post.sentiment === null || !params.sentiments.includes(post.sentiment))) return false;
  if (params.maxRating !== null && (post.rating === null || post.rating > params.maxRating)) return false;
  if (params.keywords.length === 0) return true;
  const haystack = `${post.title ?? ''}\n${post.text}`.toLocaleLowerCase();
  return params.keywords.some((keyword) => haystack.includes(keyword.toLocaleLowerCase()));
}
