// Rescoring stored posts, batch by batch in id order: what a sentiment backfill reads and writes.
import type { PostSentiment } from '../model/post.ts';
import type { Sql } from './client.ts';

export interface PostToScore {
  id: string;
  source: string;
  title: string | null;
  body: string;
  language: string | null;
  rating: number | null;
}

/**
 * The next posts after `afterId` to score: with `all`, every one; otherwise those no scorer of `version` judged
 * (never scored, or by an older version: a method's version is its `-v<N>` part).
 */
export async function postsToScore(sql: Sql, options: { afterId: string; version: string; all: boolean; batch: number }): Promise<PostToScore[]> {
  // Not the posts' own language column: the language a scorer judged in is in sentiment_language, and a source's
  // own language (Trustpilot's) in language.
  return sql<PostToScore[]>`
    select id::text, source, title, body, language, rating from posts
    where id > ${options.afterId}::bigint
      ${options.all ? sql`` : sql`and (sentiment_method is null or sentiment_method !~ ${`-${options.version}(:|$)`})`}
    -- posts.id, not the selected text alias, which would sort '10' before '9'.
    order by posts.id
    limit ${options.batch}
  `;
}

export async function countPostsToScore(sql: Sql, options: { version: string; all: boolean }): Promise<number> {
  const [row] = await sql<{ count: string }[]>`
    select count(*)::text as count from posts
    ${options.all ? sql`` : sql`where sentiment_method is null or sentiment_method !~ ${`-${options.version}(:|$)`}`}
  `;
  return Number(row?.count ?? 0);
}

/** Writes each post's new sentiment in one statement. */
export async function saveSentiments(sql: Sql, scored: { id: string; sentiment: PostSentiment }[]): Promise<void> {
  if (scored.length === 0) return;
  const column = <T>(value: (row: { id: string; sentiment: PostSentiment }) => T) => scored.map(value);
  await sql`
    update posts set sentiment_score = s.score, sentiment_label = s.label, sentiment_method = s.method, sentiment_language = s.language
    from unnest(
      ${column((row) => row.id)}::bigint[],
      ${column((row) => row.sentiment.score)}::real[],
      ${column((row) => row.sentiment.label)}::text[],
      ${column((row) => row.sentiment.method)}::text[],
      ${column((row) => row.sentiment.language)}::text[]
    ) as s (id, score, label, method, language)
    where posts.id = s.id
  `;
}
