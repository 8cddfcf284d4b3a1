import { publicUrl, withPublicLinks } from '../http/public-url.ts';
import type { PostSentiment, ScrapedPost, SentimentLabel } from '../model/post.ts';
import type { Sql } from './client.ts';
import { type PostFilter, postConditions } from './post-filter.ts';
import { storableJson, storableOptionalText, storableText } from './storable.ts';

export interface StoredPost {
  id: string;
  source: string;
  external_id: string;
  query: string;
  url: string;
  author: string | null;
  title: string | null;
  text: string;
  rating: number | null;
  language: string | null;
  published_at: Date;
  reply: { text: string; published_at: Date | null } | null;
  extra: Record<string, unknown>;
  sentiment: PostSentiment | null;
  first_seen_at: Date;
}

/**
 * Upserts by (source, external_id) in one statement and returns how many rows were new.
 * `xmax = 0` is true only for a row this statement inserted, which tells inserts from updates without a second query.
 * Rows travel as one array per column through unnest: a page of 20 posts is 11 parameters rather than 260,
 * which postgres.js binds with less work, and the statement text is the same whatever the batch size.
 */
export async function upsertPosts(sql: Sql, source: string, query: string, posts: ScrapedPost[]): Promise<number> {
  return (await upsertPostsReturningNew(sql, source, query, posts)).length;
}

/** Like upsertPosts, returning the ids of the rows that were new: what the alert rules judge after an ingest. */
export async function upsertPostsReturningNew(sql: Sql, source: string, query: string, posts: ScrapedPost[]): Promise<string[]> {
  if (posts.length === 0) return [];
  const rows = dedupeByExternalId(posts.map(storablePost));
  const column = <T>(value: (post: ScrapedPost) => T) => rows.map(value);
  const result = await sql<{ id: string; inserted: boolean }[]>`
    insert into posts (source, external_id, query, url, author, title, body, rating, language, published_at, reply_body, reply_published_at, extra,
                       sentiment_score, sentiment_label, sentiment_method, sentiment_language)
    select ${source}, external_id, ${storableText(query)}, url, author, title, body, rating, language, published_at, reply_body, reply_published_at, extra::jsonb,
           sentiment_score, sentiment_label, sentiment_method, sentiment_language
    from unnest(
      ${column((post) => post.externalId)}::text[],
      ${column((post) => post.url)}::text[],
      ${column((post) => post.author)}::text[],
      ${column((post) => post.title)}::text[],
      ${column((post) => post.text)}::text[],
      ${column((post) => post.rating)}::real[],
      ${column((post) => post.language)}::text[],
      ${column((post) => post.publishedAt.toISOString())}::timestamptz[],
      ${column((post) => post.reply?.text ?? null)}::text[],
      ${column((post) => post.reply?.publishedAt?.toISOString() ?? null)}::timestamptz[],
      -- As text: postgres.js would encode each element of a jsonb[] again, storing a JSON string, not the object.
      ${column((post) => JSON.stringify(post.extra))}::text[],
      ${column((post) => post.sentiment?.score ?? null)}::real[],
      ${column((post) => post.sentiment?.label ?? null)}::text[],
      ${column((post) => post.sentiment?.method ?? null)}::text[],
      ${column((post) => post.sentiment?.language ?? null)}::text[]
    ) as post (external_id, url, author, title, body, rating, language, published_at, reply_body, reply_published_at, extra,
               sentiment_score, sentiment_label, sentiment_method, sentiment_language)
    on conflict (source, external_id) do update set
      url = excluded.url,
      author = excluded.author,
      title = excluded.title,
      body = excluded.body,
      rating = excluded.rating,
      language = excluded.language,
      published_at = excluded.published_at,
      reply_body = excluded.reply_body,
      reply_published_at = excluded.reply_published_at,
      extra = excluded.extra,
      -- Posts written without a judgement (a caller that scores none) keep the one they have.
      sentiment_score = case when excluded.sentiment_method is null then posts.sentiment_score else excluded.sentiment_score end,
      sentiment_label = case when excluded.sentiment_method is null then posts.sentiment_label else excluded.sentiment_label end,
      sentiment_method = coalesce(excluded.sentiment_method, posts.sentiment_method),
      sentiment_language = case when excluded.sentiment_method is null then posts.sentiment_language else excluded.sentiment_language end,
      last_seen_at = now()
    returning id::text as id, (xmax = 0) as inserted
  `;
  return result.filter((row) => row.inserted).map((row) => row.id);
}

export interface PostCursor {
  /** published_at exactly as stored, to the microsecond (ISO 8601, UTC). */
  publishedAt: string;
  id: string;
}

export interface PostQuery {
  filter: PostFilter;
  limit: number;
  before?: PostCursor;
}

/** The columns a stored post is read with, on the alias `p`. */
export const POST_COLUMNS = `p.id::text as id, p.source, p.external_id, p.query, p.url, p.author, p.title, p.body, p.rating, p.language,
  p.published_at, p.reply_body, p.reply_published_at, p.extra, p.first_seen_at,
  p.sentiment_score, p.sentiment_label, p.sentiment_method, p.sentiment_language`;

export interface PostRow {
  id: string;
  source: string;
  external_id: string;
  query: string;
  url: string;
  author: string | null;
  title: string | null;
  body: string;
  rating: number | null;
  language: string | null;
  published_at: Date;
  reply_body: string | null;
  reply_published_at: Date | null;
  extra: Record<string, unknown>;
  first_seen_at: Date;
  sentiment_score: number | null;
  sentiment_label: SentimentLabel | null;
  sentiment_method: string | null;
  sentiment_language: string | null;
}

// Field by field rather than with rest and spread, which build the object a property at a time: 2.2 KB a row
// against 0.2 KB (sampling heap profiler), and during an export most of those objects reached V8's old generation
// before they died.
export function storedPost(row: PostRow): StoredPost {
  return {
    id: row.id,
    source: row.source,
    external_id: row.external_id,
    query: row.query,
    url: row.url,
    author: row.author,
    title: row.title,
    text: row.body,
    rating: row.rating,
    language: row.language,
    published_at: row.published_at,
    reply: row.reply_body === null ? null : { text: row.reply_body, published_at: row.reply_published_at },
    extra: row.extra,
    sentiment:
      row.sentiment_method === null
        ? null
        : { score: row.sentiment_score, label: row.sentiment_label, method: row.sentiment_method, language: row.sentiment_language },
    first_seen_at: row.first_seen_at,
  };
}

/** Newest first, keyset-paginated on (published_at, id) so new rows never shift a page. */
export async function listPosts(sql: Sql, query: PostQuery): Promise<(StoredPost & { cursor: PostCursor })[]> {
  // The cursor carries published_at as text to the microsecond: a JS Date keeps milliseconds, and a page
  // boundary between two rows of the same millisecond would otherwise skip one of them. It goes in as text, cast
  // in SQL: a parameter typed timestamptz is sent through a Date by postgres.js, which drops the microseconds.
  const rows = await sql<(PostRow & { cursor_at: string })[]>`
    select ${sql.unsafe(POST_COLUMNS)},
           to_char(p.published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
    from posts p
    where true ${postConditions(sql, query.filter)}
      ${query.before ? sql`and (p.published_at, p.id) < (${query.before.publishedAt}::text::timestamptz, ${query.before.id}::bigint)` : sql``}
    order by p.published_at desc, p.id desc
    limit ${query.limit}
  `;
  return rows.map(({ cursor_at, ...row }) => ({ ...storedPost(row), cursor: { publishedAt: cursor_at, id: row.id } }));
}

function storablePost(post: ScrapedPost): ScrapedPost {
  return {
    ...post,
    externalId: storableText(post.externalId),
    // Stored as not-a-link (empty) when the upstream's link is not http(s): the API shows it as null.
    url: publicUrl(storableText(post.url)) ?? '',
    author: storableOptionalText(post.author),
    title: storableOptionalText(post.title),
    text: storableText(post.text),
    language: storableOptionalText(post.language),
    reply: post.reply ? { ...post.reply, text: storableText(post.reply.text) } : null,
    extra: withPublicLinks(storableJson(post.extra) as Record<string, unknown>),
  };
}

// Two reviews with the same id in one batch would make ON CONFLICT fail ("cannot affect row a second time").
function dedupeByExternalId(posts: ScrapedPost[]): ScrapedPost[] {
  const seen = new Map<string, ScrapedPost>();
  for (const post of posts) seen.set(post.externalId, post);
  return [...seen.values()];
}
