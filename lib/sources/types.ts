import type { HttpClient } from '../http/client.ts';
import type { Logger } from '../log.ts';

/** A post as a source maps it, before it is stored. */
export interface ScrapedPost {
  externalId: string;
  url: string;
  author: string | null;
  title: string | null;
  text: string;
  /** The upstream's own score: Trustpilot stars 1-5, a vote count elsewhere. */
  rating: number | null;
  language: string | null;
  publishedAt: Date;
  /** The company's public answer, where the upstream has one. */
  reply: { text: string; publishedAt: Date | null } | null;
  /** Upstream fields worth keeping that have no column (country, verification, likes, ...). */
  extra: Record<string, unknown>;
}

/** One page (or batch) of results, yielded as soon as it is parsed so the worker can store it and report progress. */
export interface ScrapedPage {
  posts: ScrapedPost[];
  /** 1-based number of this page. */
  page: number;
  /** How many pages the whole scrape expects to read, when the upstream says. */
  pagesPlanned: number | null;
  /** Free-form facts about what was resolved, e.g. the Trustpilot domain a brand name led to. */
  meta?: Record<string, unknown>;
}

export interface ScrapeContext {
  query: string;
  limit: number;
  /** Aborted when the job is cancelled, times out or loses its lease: pass it to every request and sleep. */
  signal: AbortSignal;
  http: HttpClient;
  /** The upstream origin, without a trailing slash: SOURCE_BASE_URL_<NAME> or the source's default. */
  baseUrl: string;
  log: Logger;
}

export interface Source {
  name: string;
  defaultBaseUrl: string;
  /** Checks a query before a job is accepted; returns a message when it cannot be scraped. */
  validateQuery?(query: string): string | null;
  scrape(ctx: ScrapeContext): AsyncIterable<ScrapedPage>;
}
