import { type Sql, isConnectionError } from '../db/client.ts';
import { upsertPosts } from '../db/posts.ts';
import { permanent, transient } from '../errors.ts';
import type { HttpClient } from '../http/client.ts';
import type { Logger } from '../log.ts';
import type { Job, JobProgress } from '../queue/job.ts';
import type { SourceRegistry } from '../sources/registry.ts';

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

/** Runs one scrape: stores each page of posts as it arrives, so a later failure keeps what was read. */
export async function runScrapeJob(job: Job, ctx: JobContext, deps: ScrapeDeps): Promise<Record<string, unknown>> {
  const source = deps.sources.get(job.source);
  if (!source) throw permanent('invalid_query', `unknown source "${job.source}"; this worker knows ${deps.sources.names().join(', ')}`);
  const progress: JobProgress = { pages_done: 0, pages_planned: null, found: 0, inserted: 0 };
  let meta: Record<string, unknown> = {};
  const pages = source.scrape({
    query: job.query,
    limit: job.limit,
    signal: ctx.signal,
    http: deps.http,
    baseUrl: deps.sources.baseUrl(source.name),
    log: deps.log,
  });
  for await (const page of pages) {
    progress.inserted += await storePosts(deps.sql, source.name, job.query, page.posts);
    progress.found += page.posts.length;
    progress.pages_done += 1;
    progress.pages_planned = page.pagesPlanned;
    meta = { ...meta, ...page.meta };
    await ctx.reportProgress({ ...progress });
  }
  return { found: progress.found, inserted: progress.inserted, pages: progress.pages_done, ...meta };
}

async function storePosts(sql: Sql, source: string, query: string, posts: Parameters<typeof upsertPosts>[3]): Promise<number> {
  try {
    return await upsertPosts(sql, source, query, posts);
  } catch (error) {
    if (isConnectionError(error)) {
      throw transient('database_unavailable', `PostgreSQL is unavailable, posts were not stored: ${(error as Error).message}`, null, error);
    }
    throw error;
  }
}
