// The filters every /posts route takes (the list, its export, its statistics), from what their definitions
// checked (POST_FILTER in lib/api/contract/posts.ts), into what the queries of lib/db/ take.
import type { PostFilter } from '../db/post-filter.ts';
import { ApiError } from '../errors.ts';
import { type POST_FILTER, listPosts } from './contract/posts.ts';
import type { Known, ParsedFields } from './contract/value.ts';

export function postFilter(query: ParsedFields<typeof POST_FILTER>): PostFilter {
  const filter: PostFilter = {};
  if (query.source) filter.sources = query.source;
  if (query.query !== undefined) filter.query = query.query;
  if (query.q !== undefined) filter.text = query.q;
  if (query.sentiment) filter.sentiments = query.sentiment;
  if (query.rating) filter.ratings = query.rating;
  if (query.from) filter.from = query.from;
  if (query.to) filter.to = query.to;
  if (query.from && query.to && Date.parse(query.from) >= Date.parse(query.to)) throw new ApiError(400, 'invalid_range', '`from` must be before `to`');
  return filter;
}

/** The filter of a query string read through GET /posts's definition, for pages that take the same filters. */
export function parsePostFilter(get: (name: string) => string | undefined, known: Known): PostFilter {
  return postFilter(listPosts.parse({ query: get }, known).query);
}
