// GET /posts/export and the dashboard's export of the same filter: one stream, one limit on how many run at once.
import type { Context } from 'hono';
import type { Sql } from '../db/client.ts';
import { exportPosts } from '../db/post-export.ts';
import type { PostFilter } from '../db/post-filter.ts';
import type { StoredPost } from '../db/posts.ts';
import { csvRow } from './csv.ts';
import type { ApiDeps } from './deps.ts';
import { presentPost } from './present.ts';
import { Turns } from './turns.ts';

export type ExportFormat = 'csv' | 'ndjson';

const turnsOf = new WeakMap<ApiDeps, { search: Turns; export: Turns }>();

/**
 * The turns every reader of posts in this process shares (the JSON routes and the dashboard's pages): full-text
 * searches wait for one of API_SEARCH_CONCURRENCY, so a flood of them leaves connections for the rest; exports get
 * one of API_EXPORT_CONCURRENCY or a 503.
 */
export function postTurns(deps: ApiDeps): { search: Turns; export: Turns } {
  let turns = turnsOf.get(deps);
  if (!turns) {
    turns = {
      search: new Turns(deps.config.apiSearchConcurrency, deps.config.apiSearchQueue, 'full-text searches'),
      export: new Turns(deps.config.apiExportConcurrency, 0, 'exports'),
    };
    turnsOf.set(deps, turns);
  }
  return turns;
}

export async function exportResponse(deps: ApiDeps, filter: PostFilter, format: ExportFormat, c: Context): Promise<Response> {
  const release = await postTurns(deps).export.acquire();
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
