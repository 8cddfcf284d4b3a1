// The contract every source file meets. A source is one file, lib/sources/<name>.ts, exporting
// `createSource(setup)`; the registry finds it by its file name, so nothing else needs to know it exists.
import type { EnvReader } from '../config.ts';
import type { HttpClient } from '../http/client.ts';
import type { Logger } from '../log.ts';
import type { HighWaterMark, ScrapedPost, TakePage } from '../model/post.ts';
import type { RateLimit } from '../model/rate-limit.ts';
import type { RatingKind } from '../scrape/sentiment.ts';

/** One page (or batch) of results, yielded as soon as it is parsed so the worker can store it and report progress. */
export interface ScrapedPage {
  posts: ScrapedPost[];
  /** 1-based number of this page. */
  page: number;
  /** How many pages the whole scrape expects to read, when known. */
  pagesPlanned: number | null;
  /** Facts about what was resolved, e.g. the Trustpilot domain a brand name led to (snake_case keys). */
  meta?: Record<string, unknown>;
  /**
   * Where this page and everything older can be read again (a page number, an upper time bound), for sources
   * whose listing can start there: a run cut short resumes from it next time (ScrapeContext.resumeFrom). JSON.
   */
  resumeAt?: unknown;
}

export interface ScrapeContext {
  query: string;
  /** New posts this pass may still store: a hint for page sizes and shares; `take` enforces it. */
  limit: number;
  /** Aborted when the job is cancelled, times out or loses its lease: pass it to every request and sleep. */
  signal: AbortSignal;
  /** Already bound to this source's rate limit, shared by every worker through Redis. */
  http: HttpClient;
  /** The upstream origin, without a trailing slash: SOURCE_BASE_URL_<NAME> or the source's default. */
  baseUrl: string;
  /** Where this pass stops (null on a first run and a full re-scan): a hint for upstream filters; `take` enforces it. */
  since: HighWaterMark | null;
  /** Start here instead of at the newest post: a `resumeAt` this source gave a page of an earlier run, or null. */
  resumeFrom: unknown;
  /** Every page read goes through it, and its answer decides whether to read on. */
  take: TakePage;
  log: Logger;
}

export interface SourceSetting {
  name: string;
  description: string;
  /** Needed before the source can run at all (else it only changes defaults or limits). */
  required?: boolean;
  /** Never shown, only whether it is set. */
  secret?: boolean;
}

export interface Source {
  name: string;
  defaultBaseUrl: string;
  /** One line for GET /sources: what it reads. */
  description: string;
  /** The environment variables it reads (documented in docs/sources.md and .env.example). */
  settings: SourceSetting[];
  /** Published limit of the upstream, applied per host; may depend on whether credentials are set. */
  rateLimit: RateLimit;
  /** What its posts' `rating` is: 'stars' decide the sentiment label (Trustpilot); anything else is a vote count. */
  ratingKind?: RatingKind;
  /** The largest upstream body it reads, as sent and decoded, when not the client's default (MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** An attempt's time limit when the job gives none (default 10 minutes). */
  timeoutMs?: number;
  /** What must be set before a job can run, or null when the source is usable now. */
  missingSettings(): string | null;
  /** Checks a query before a job is accepted; returns a message when it cannot be scraped. */
  validateQuery?(query: string): string | null;
  scrape(ctx: ScrapeContext): AsyncIterable<ScrapedPage>;
}

export interface SourceSetup {
  /** Reads the source's own variables; a bad value throws a ConfigError naming it. */
  env: EnvReader;
}

export interface SourceModule {
  createSource(setup: SourceSetup): Source;
}
