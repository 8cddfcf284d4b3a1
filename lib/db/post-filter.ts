// Which posts a request means, as one SQL condition that every reader of the posts table shares: the list, its
// export and the raw path of its statistics filter the same way.
import type { SentimentLabel } from '../model/post.ts';
import type { Sql } from './client.ts';

export interface PostFilter {
  sources?: string[];
  /** The tracked query (posts.query) the posts were found with. */
  query?: string;
  /** Full-text search (websearch syntax) over title, text and author. */
  text?: string;
  /** 'unscored': posts without a label. */
  sentiments?: (SentimentLabel | 'unscored')[];
  /** Posts whose rating rounds to one of these. */
  ratings?: number[];
  /** ISO 8601 times, from inclusive, to exclusive, sent as text so microseconds survive. */
  from?: string;
  to?: string;
}

/** `and ...` conditions on the alias `p` for the filter; empty for none. */
export function postConditions(sql: Sql, filter: PostFilter) {
  const labels = filter.sentiments?.filter((label) => label !== 'unscored') ?? [];
  const unscored = filter.sentiments?.includes('unscored') ?? false;
  return sql`
    ${filter.sources?.length ? sql`and p.source = any(${filter.sources}::text[])` : sql``}
    ${filter.query !== undefined ? sql`and p.query = ${filter.query}` : sql``}
    ${filter.text ? sql`and p.search @@ websearch_to_tsquery('simple', ${filter.text})` : sql``}
    ${filter.sentiments?.length ? sql`and (p.sentiment_label = any(${labels}::text[]) ${unscored ? sql`or p.sentiment_label is null` : sql``})` : sql``}
    ${filter.ratings?.length ? sql`and p.rating is not null and round(p.rating)::int = any(${filter.ratings}::int[])` : sql``}
    ${filter.from ? sql`and p.published_at >= ${filter.from}::text::timestamptz` : sql``}
    ${filter.to ? sql`and p.published_at < ${filter.to}::text::timestamptz` : sql``}
  `;
}
