import { Hono } from 'hono';
import { type StoredPost, listPosts } from '../db/posts.ts';
import { ApiError } from '../errors.ts';
import { isLegacySourceName } from '../legacy/source-names.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import type { ApiDeps } from './deps.ts';
import { presentPost } from './present.ts';
import { MAX_QUERY_LENGTH, integerParam } from './validate.ts';

export function postsRoutes(deps: ApiDeps) {
  return new Hono().get('/', async (c) => {
    const sourceParam = c.req.query('source');
    const source = sourceParam === undefined || sourceParam === '' ? undefined : requirePostSource(sourceParam, deps.sources);
    const text = c.req.query('q')?.trim() || undefined;
    if (text && text.length > MAX_QUERY_LENGTH) throw new ApiError(400, 'invalid_q', `\`q\` must be at most ${MAX_QUERY_LENGTH} characters`);
    const limit = integerParam('limit', c.req.query('limit'), 50, 1, 200);
    const before = decodeCursor(c.req.query('before'));
    // One row more than asked tells whether another page exists, so the last page says next: null.
    const rows = await listPosts(deps.sql, { source, text, limit: limit + 1, before });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({ posts: page.map(presentPost), next: rows.length > limit && last ? encodeCursor(last) : null });
  });
}

/** One of our sources, or a name the legacy import gave to an old system's source (`legacy-app-store`). */
function requirePostSource(value: string, sources: SourceRegistry): string {
  if (isLegacySourceName(value) || sources.get(value)) return value;
  throw new ApiError(
    400,
    'unknown_source',
    `unknown source "${value.slice(0, 50)}"; valid sources: ${sources.names().join(', ')}, or legacy-<name> for posts imported from the old system`,
  );
}

function encodeCursor(post: StoredPost): string {
  return Buffer.from(JSON.stringify([post.published_at.toISOString(), post.id])).toString('base64url');
}

function decodeCursor(value: string | undefined): { publishedAt: Date; id: string } | undefined {
  if (value === undefined || value === '') return undefined;
  const invalid = new ApiError(400, 'invalid_cursor', '`before` must be the `next` value of a previous /posts page');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid;
  const [at, id] = decoded as unknown[];
  const publishedAt = new Date(typeof at === 'string' ? at : NaN);
  if (Number.isNaN(publishedAt.getTime()) || typeof id !== 'string' || !/^\d{1,19}$/.test(id)) throw invalid;
  return { publishedAt, id };
}
