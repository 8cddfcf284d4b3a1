// The keyset cursor of a /posts page: the last post's (published_at, id), opaque to clients, checked on the way back.
import type { PostCursor } from '../db/posts.ts';
import { ApiError } from '../errors.ts';

export function encodeCursor(cursor: PostCursor): string {
  return Buffer.from(JSON.stringify([cursor.publishedAt, cursor.id])).toString('base64url');
}

const CURSOR_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;
const MAX_BIGINT = 2n ** 63n - 1n;

/** A `next` value of an earlier page; anything else (forged, truncated, out of PostgreSQL's range) is a 400. */
export function decodeCursor(value: string | undefined): PostCursor | undefined {
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
