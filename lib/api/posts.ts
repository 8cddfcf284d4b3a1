import { Hono } from 'hono';
import { type PostCursor, listPosts } from '../db/posts.ts';
import { ApiError } from '../errors.ts';
import { isLegacySourceName } from '../legacy/source-names.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { textProblem } from '../text.ts';
import type { ApiDeps } from './deps.ts';
import { presentPost } from './present.ts';
import { Turns } from './turns.ts';
import { MAX_QUERY_LENGTH, integerParam } from './validate.ts';

export function postsRoutes(deps: ApiDeps) {
  // Full-text searches wait for a turn (API_SEARCH_CONCURRENCY), so a flood of them leaves connections for the rest.
  const searchTurns = new Turns(deps.config.apiSearchConcurrency, deps.config.apiSearchQueue, 'full-text searches');
  return new Hono().get('/', async (c) => {
    const sourceParam = c.req.query('source');
    const source = sourceParam === undefined || sourceParam === '' ? undefined : requirePostSource(sourceParam, deps.sources);
    const text = c.req.query('q')?.trim() || undefined;
    if (text && text.length > MAX_QUERY_LENGTH) throw new ApiError(400, 'invalid_q', `\`q\` must be at most ${MAX_QUERY_LENGTH} characters`);
    const problem = text ? textProblem(text) : null;
    if (problem) throw new ApiError(400, 'invalid_q', `\`q\` ${problem}`);
    const limit = integerParam('limit', c.req.query('limit'), 50, 1, 200);
    const before = decodeCursor(c.req.query('before'));
    // One row more than asked tells whether another page exists, so the last page says next: null.
    const read = () => listPosts(deps.sql, { source, text, limit: limit + 1, before });
    const rows = text ? await searchTurns.run(read) : await read();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({ posts: page.map(presentPost), next: rows.length > limit && last ? encodeCursor(last.cursor) : null });
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

function encodeCursor(cursor: PostCursor): string {
  return Buffer.from(JSON.stringify([cursor.publishedAt, cursor.id])).toString('base64url');
}

const CURSOR_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;
const MAX_BIGINT = 2n ** 63n - 1n;

/** A `next` value of an earlier page; anything else (forged, truncated, out of PostgreSQL's range) is a 400. */
function decodeCursor(value: string | undefined): PostCursor | undefined {
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
  if (typeof at !== 'string' || typeof id !== 'string' || !/^\d{1,19}$/.test(id) || BigInt(id) > MAX_BIGINT) throw invalid;
  const parts = CURSOR_TIME.exec(at);
  if (!parts) throw invalid;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls "February 30" over into March: a date that does not come back the same does not exist.
  if (year < 1 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw invalid;
  return { publishedAt: at, id };
}
