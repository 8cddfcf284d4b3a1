import type { ScrapedPost } from '../sources/types.ts';
import type { Sql } from './client.ts';

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
  first_seen_at: Date;
}

/**
 * Upserts by (source, external_id) in one statement and returns how many rows were new.
 * `xmax = 0` is true only for a row this statement inserted, which tells inserts from updates without a second query.
 * Rows travel as one array per column through unnest: a page of 20 posts is 11 parameters rather than 260,
 * which postgres.js binds with less work, and the statement text is the same whatever the batch size.
 */
export async function upsertPosts(sql: Sql, source: string, query: string, posts: ScrapedPost[]): Promise<number> {
  if (posts.length === 0) return 0;
  const rows = dedupeByExternalId(posts);
  const column = <T>(value: (post: ScrapedPost) => T) => rows.map(value);
  const result = await sql<{ inserted: boolean }[]>`
    insert into posts (source, external_id, query, url, author, title, body, rating, language, published_at, reply_body, reply_published_at, extra)
    select ${source}, external_id, ${query}, url, author, title, body, rating, language, published_at, reply_body, reply_published_at, extra::jsonb
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
      ${column((post) => JSON.stringify(post.extra))}::text[]
    ) as post (external_id, url, author, title, body, rating, language, published_at, reply_body, reply_published_at, extra)
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
      last_seen_at = now()
    returning (xmax = 0) as inserted
  `;
  return result.filter((row) => row.inserted).length;
}

export interface PostQuery {
  source?: string;
  text?: string;
  limit: number;
  before?: { publishedAt: Date; id: string };
}

/** Newest first, keyset-paginated on (published_at, id) so new rows never shift a page. */
export async function listPosts(sql: Sql, query: PostQuery): Promise<StoredPost[]> {
  const rows = await sql<(Omit<StoredPost, 'reply' | 'text'> & { body: string; reply_body: string | null; reply_published_at: Date | null })[]>`
    select id::text, source, external_id, query, url, author, title, body, rating, language, published_at,
           reply_body, reply_published_at, extra, first_seen_at
    from posts
    where true
      ${query.source ? sql`and source = ${query.source}` : sql``}
      ${query.text ? sql`and search @@ websearch_to_tsquery('simple', ${query.text})` : sql``}
      ${query.before ? sql`and (published_at, id) < (${query.before.publishedAt}, ${query.before.id}::bigint)` : sql``}
    order by published_at desc, id desc
    limit ${query.limit}
  `;
  return rows.map(({ body, reply_body, reply_published_at, ...row }) => ({
    ...row,
    text: body,
    reply: reply_body === null ? null : { text: reply_body, published_at: reply_published_at },
  }));
}

export async function countPosts(sql: Sql, source?: string): Promise<number> {
  const [row] = await sql<{ count: string }[]>`
    select count(*)::text as count from posts ${source ? sql`where source = ${source}` : sql``}
  `;
  return Number(row?.count ?? 0);
}

// Two reviews with the same id in one batch would make ON CONFLICT fail ("cannot affect row a second time").
function dedupeByExternalId(posts: ScrapedPost[]): ScrapedPost[] {
  const seen = new Map<string, ScrapedPost>();
  for (const post of posts) seen.set(post.externalId, post);
  return [...seen.values()];
}
