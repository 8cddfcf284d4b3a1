import { Hono } from 'hono';
import type { Sql } from '../db/client.ts';
import { exportPosts } from '../db/post-export.ts';
import type { PostFilter } from '../db/post-filter.ts';
import { postStats } from '../db/post-stats.ts';
import { type PostCursor, type StoredPost, listPosts } from '../db/posts.ts';
import { ApiError } from '../errors.ts';
import * as contract from './contract/posts.ts';
import { csvRow } from './csv.ts';
import type { ApiDeps } from './deps.ts';
import { postFilter } from './post-params.ts';
import { presentStats, statsRequest } from './post-stats.ts';
import { presentPost } from './present.ts';
import { Turns } from './turns.ts';

export function postsRoutes(deps: ApiDeps) {
  // Full-text searches wait for a turn (API_SEARCH_CONCURRENCY), so a flood of them leaves connections for the rest.
  const searchTurns = new Turns(deps.config.apiSearchConcurrency, deps.config.apiSearchQueue, 'full-text searches');
  const exportTurns = new Turns(deps.config.apiExportConcurrency, 0, 'exports');
  return new Hono()
    .get('/', async (c) => {
    const { query } = await contract.listPosts.read(c, deps);
    const filter = postFilter(query);
    const { limit } = query;
    const before = decodeCursor(query.before);
    // One row more than asked tells whether another page exists, so the last page says next: null.
    const read = () => listPosts(deps.sql, { filter, limit: limit + 1, before });
    const rows = filter.text ? await searchTurns.run(read) : await read();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return c.json({ posts: page.map(presentPost), next: rows.length > limit && last ? encodeCursor(last.cursor) : null });
  })
    .get('/export', async (c) => {
      const { query } = await contract.exportPosts.read(c, deps);
      const { format } = query;
      const filter = postFilter(query);
      const release = await exportTurns.acquire();
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
      // Behind @hono/node-server the raw response: a client that stopped reading has its socket closed.
      const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
      const stall = {
        ms: deps.config.apiExportStallMs,
        onStall: () => {
          outgoing?.destroy();
          return outgoing !== undefined;
        },
      };
      return new Response(exportStream(deps.exportSql ?? deps.sql, filter, format, release, stall), {
        headers: {
          'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="posts-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
          'cache-control': 'no-store',
        },
      });
    })
    .get('/stats', async (c) => {
      const request = await statsRequest((await contract.postStats.read(c, deps)).query, deps);
      const read = () => postStats(deps.sql, request);
      const result = request.filter.text ? await searchTurns.run(read) : await read();
      return c.json(presentStats(request, result));
    });
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

const CSV_HEADER = ['id', 'source', 'external_id', 'query', 'published_at', 'url', 'author', 'title', 'text', 'rating', 'language',
  'sentiment_label', 'sentiment_score', 'sentiment_method', 'reply_text', 'reply_published_at', 'first_seen_at', 'extra'];

/**
 * The export as a stream the client pulls: one cursor batch is read when the last one has been sent, so memory
 * stays at a batch whatever the size; a client that goes away cancels the stream, which ends the cursor's query.
 */
function exportStream(
  sql: Sql,
  filter: PostFilter,
  format: 'csv' | 'ndjson',
  release: () => void,
  stall: { ms: number; onStall(): boolean },
): ReadableStream<Uint8Array> {
  const batches = exportPosts(sql, filter);
  const encoder = new TextEncoder();
  let headerSent = format !== 'csv';
  let stallTimer: NodeJS.Timeout | undefined;
  const finish = async () => {
    clearTimeout(stallTimer);
    release();
    await batches.return(undefined).catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      clearTimeout(stallTimer);
      // A client that stops reading without closing would hold a turn and a connection with an open cursor for
      // as long as it liked: the next pull not coming within the stall limit of a chunk sent ends the export.
      const sent = (chunk: string) => {
        controller.enqueue(encoder.encode(chunk));
        stallTimer = setTimeout(() => {
          void finish();
          // Closing the socket cancels the stream through the server; without a socket to close, the stream ends.
          if (!stall.onStall()) controller.error(new Error('the client stopped reading the export'));
        }, stall.ms);
        stallTimer.unref();
      };
      try {
        if (!headerSent) {
          headerSent = true;
          sent(csvRow(CSV_HEADER));
          return;
        }
        const next = await batches.next();
        if (next.done) {
          release();
          controller.close();
          return;
        }
        const text = format === 'csv' ? next.value.map(csvLine).join('') : next.value.map((post) => `${JSON.stringify(presentPost(post))}\n`).join('');
        sent(text);
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    cancel: finish,
  });
}

function csvLine(post: StoredPost): string {
  const p = presentPost(post);
  return csvRow([
    p.id, p.source, p.external_id, p.query, p.published_at, p.url, p.author, p.title, p.text, p.rating, p.language,
    p.sentiment?.label ?? null, p.sentiment?.score ?? null, p.sentiment?.method ?? null, p.reply?.text ?? null, p.reply?.published_at ?? null,
    p.first_seen_at, JSON.stringify(p.extra),
  ]);
}
