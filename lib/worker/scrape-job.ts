import { type Sql, isConnectionError } from '../db/client.ts';
import { upsertPosts } from '../db/posts.ts';
import { advanceHighWaterMark, getHighWaterMark, recordSourceRun } from '../db/sources.ts';
import { JobError, permanent, transient } from '../errors.ts';
import { type HttpClient, withRateLimit } from '../http/client.ts';
import type { Logger } from '../log.ts';
import type { Job, JobProgress } from '../queue/job.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import type { ScrapedPost } from '../sources/types.ts';
import { JobAborted } from './abort.ts';

export interface ScrapeDeps {
  sources: SourceRegistry;
  http: HttpClient;
  sql: Sql;
  log: Logger;
}

export interface JobContext {
  signal: AbortSignal;
  reportProgress(progress: JobProgress): Promise<void>;
}

/**
 * Runs one scrape: stores each page of posts as it arrives, so a later failure keeps what was read, and moves
 * the (source, query) high-water mark only once the whole run succeeded, so a failed run leaves no gap.
 */
export async function runScrapeJob(job: Job, ctx: JobContext, deps: ScrapeDeps): Promise<Record<string, unknown>> {
  const source = deps.sources.get(job.source);
  if (!source) throw permanent('invalid_query', `unknown source "${job.source}"; this worker knows ${deps.sources.names().join(', ')}`);
  const missing = source.missingSettings();
  if (missing) throw permanent('upstream_login_required', `source ${source.name} cannot run: ${missing}`);

  const progress: JobProgress = { pages_done: 0, pages_planned: null, found: 0, inserted: 0 };
  let meta: Record<string, unknown> = {};
  let newest: ScrapedPost | null = null;
  try {
    const since = job.fullRescan ? null : await database(() => getHighWaterMark(deps.sql, source.name, job.query));
    const pages = source.scrape({
      query: job.query,
      limit: job.limit,
      signal: ctx.signal,
      http: withRateLimit(deps.http, source.rateLimit),
      baseUrl: deps.sources.baseUrl(source.name),
      since,
      log: deps.log,
    });
    for await (const page of pages) {
      progress.inserted += await database(() => upsertPosts(deps.sql, source.name, job.query, page.posts));
      progress.found += page.posts.length;
      progress.pages_done += 1;
      progress.pages_planned = page.pagesPlanned;
      meta = { ...meta, ...page.meta };
      for (const post of page.posts) if (!newest || post.publishedAt > newest.publishedAt) newest = post;
      await ctx.reportProgress({ ...progress });
    }
    await database(async () => {
      if (newest) await advanceHighWaterMark(deps.sql, source.name, job.query, [newest]);
      await recordSourceRun(deps.sql, source.name, { ok: true });
    });
    return { found: progress.found, inserted: progress.inserted, pages: progress.pages_done, incremental: since !== null, ...meta };
  } catch (error) {
    if (!(error instanceof JobAborted) && !ctx.signal.aborted && error instanceof JobError && error.code !== 'database_unavailable') {
      await recordSourceRun(deps.sql, source.name, { ok: false, error: { code: error.code, message: error.message } }).catch(() => {});
    }
    throw error;
  }
}

async function database<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isConnectionError(error)) {
      throw transient('database_unavailable', `PostgreSQL is unavailable, posts were not stored: ${(error as Error).message}`, null, error);
    }
    throw error;
  }
}
