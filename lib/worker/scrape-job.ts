import { type Sql, isConnectionError } from '../db/client.ts';
import { upsertPostsReturningNew } from '../db/posts.ts';
import { getScrapeState, recordSourceRun, saveScrapeState, storedExternalIds } from '../db/sources.ts';
import { JobError, permanent, transient } from '../errors.ts';
import { type HttpClient, withSourceLimits } from '../http/client.ts';
import type { Logger } from '../log.ts';
import type { Job, JobContext, JobProgress } from '../model/job.ts';
import { type PassOutcome, nextState, planPasses, reachedMark, runKind } from '../scrape/incremental.ts';
import { PageIntake, type RunBudget } from '../scrape/intake.ts';
import { withSentiment } from '../scrape/sentiment.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { JobAborted } from './abort.ts';

export interface ScrapeDeps {
  sources: SourceRegistry;
  http: HttpClient;
  sql: Sql;
  log: Logger;
  /** What one incremental run may read at most (SCRAPE_MAX_NEW_POSTS, SCRAPE_MAX_PAGES). */
  limits: { maxNewPosts: number; maxPages: number };
  /** Counts the new posts of each page (vibe_posts_ingested_total). */
  countIngested?: (source: string, count: number) => Promise<void>;
  /** Told of the posts a run inserted, once it ends (lib/alerts/evaluator.ts). */
  afterIngest?: (ingest: { source: string; query: string; postIds: string[]; backfill: boolean }) => Promise<unknown>;
}

/**
 * Runs one scrape: stores each page of posts as it arrives, so a later failure keeps what was read, and records
 * how far the (source, query) is covered only once the whole run succeeded, so a failed run leaves no gap.
 * A first run (and a full re-scan) stores the `limit` newest posts; a later run reads everything published since,
 * down to the mark, within SCRAPE_MAX_NEW_POSTS and SCRAPE_MAX_PAGES (lib/scrape/incremental.ts).
 */
export async function runScrapeJob(job: Job, ctx: JobContext, deps: ScrapeDeps): Promise<Record<string, unknown>> {
  const source = deps.sources.get(job.source);
  if (!source) throw permanent('invalid_query', `unknown source "${job.source}"; this worker knows ${deps.sources.names().join(', ')}`);
  const missing = source.missingSettings();
  if (missing) throw permanent('upstream_login_required', `source ${source.name} cannot run: ${missing}`);

  const progress: JobProgress = { pages_done: 0, pages_planned: null, found: 0, inserted: 0 };
  let meta: Record<string, unknown> = {};
  const newIds: string[] = [];
  let backfill = true;
  // The rules judge what was stored whether the run succeeded or not: a run that fails on page 3 kept pages 1-2.
  // A failed evaluation is logged, not the scrape's failure (the scheduled check judges the spike rules again).
  const evaluate = async () => {
    if (!deps.afterIngest || newIds.length === 0) return;
    try {
      await deps.afterIngest({ source: source.name, query: job.query, postIds: newIds, backfill });
    } catch (error) {
      deps.log.error('alert_evaluation_failed', { source: source.name, error: (error as Error).message });
    }
  };
  try {
    const state = await database(() => getScrapeState(deps.sql, source.name, job.query));
    const kind = runKind(state, job.fullRescan);
    // A first run (or a re-scan) stores the past, not news.
    backfill = kind !== 'incremental';
    const budget: RunBudget = { newPosts: kind === 'incremental' ? deps.limits.maxNewPosts : job.limit, pages: deps.limits.maxPages };
    // A first run and a re-scan store the `limit` newest posts, stored before or not; only an incremental run skips
    // what it has (without counting it) to get further down towards the mark.
    const known = kind === 'incremental' ? (ids: string[]) => database(() => storedExternalIds(deps.sql, source.name, ids)) : null;
    const outcomes: PassOutcome[] = [];
    for (const pass of planPasses(state, kind)) {
      if (budget.newPosts <= 0 || budget.pages <= 0) break;
      const intake = new PageIntake({ stopAt: pass.stopAt, budget, known });
      let lastResume: unknown = null;
      const pages = source.scrape({
        query: job.query,
        limit: budget.newPosts,
        signal: ctx.signal,
        http: withSourceLimits(deps.http, source),
        baseUrl: deps.sources.baseUrl(source.name),
        since: pass.stopAt,
        resumeFrom: pass.resumeFrom,
        take: intake.take,
        log: deps.log,
      });
      for await (const page of pages) {
        const scored = withSentiment(page.posts, source.ratingKind ?? 'votes');
        const inserted = await database(() => upsertPostsReturningNew(deps.sql, source.name, job.query, scored));
        newIds.push(...inserted);
        await deps.countIngested?.(source.name, inserted.length);
        progress.inserted += inserted.length;
        progress.found += page.posts.length;
        progress.pages_done += 1;
        progress.pages_planned = page.pagesPlanned;
        meta = { ...meta, ...page.meta };
        lastResume = page.resumeAt ?? null;
        await ctx.reportProgress({ ...progress });
      }
      outcomes.push({ cutBy: intake.cutBy, newest: intake.newest, lastResume });
      if (intake.cutBy) break;
    }
    const after = nextState(state, kind, outcomes);
    await database(async () => {
      if (after && after !== state) await saveScrapeState(deps.sql, source.name, job.query, after);
      await recordSourceRun(deps.sql, source.name, { ok: true });
    });
    const cutBy = outcomes.find((outcome) => outcome.cutBy)?.cutBy ?? null;
    await evaluate();
    return {
      found: progress.found,
      inserted: progress.inserted,
      pages: progress.pages_done,
      incremental: kind === 'incremental',
      // Whether every post published since the first run is now stored; false says the next run carries on.
      reached_mark: kind === 'first' ? null : kind === 'full_rescan' ? outcomes[0] !== undefined && !outcomes[0].cutBy : reachedMark(after),
      stopped_by: cutBy,
      ...(after?.gap ? { behind_since: after.gap.openedAt.toISOString() } : {}),
      ...meta,
    };
  } catch (error) {
    await evaluate();
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
