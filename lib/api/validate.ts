// The checks of a request that no single value can make, run on what the route definitions (lib/api/contract/)
// already checked: whether every named source takes every query and can run now, how many jobs a fan-out makes.
import { ApiError } from '../errors.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { type scrape, scrapeAll } from './contract/jobs.ts';
import { trackQuery } from './contract/others.ts';
import type { BodyOf } from './contract/route.ts';

export interface ScrapeRequest {
  source: string;
  query: string;
  limit: number;
  priority: number;
  fullRescan: boolean;
  timeoutMs?: number;
}

export function scrapeRequest(body: BodyOf<typeof scrape>): ScrapeRequest {
  return {
    source: body.source,
    query: body.query,
    limit: body.limit,
    priority: body.priority,
    fullRescan: body.full_rescan,
    ...(body.timeout_ms === undefined ? {} : { timeoutMs: body.timeout_ms }),
  };
}

export interface ScrapeAllRequest {
  queries: string[];
  sources: string[];
  limit: number;
  priority: number;
  fullRescan: boolean;
}

const MAX_FAN_OUT = 200;

/** Without `sources`, every source usable now; a named source that is not usable is refused, saying why. */
export function scrapeAllRequest(body: BodyOf<typeof scrapeAll>, sources: SourceRegistry): ScrapeAllRequest {
  const queries = body.queries!;
  const names = body.sources
    ? requireUsableSources(body.sources, sources)
    : sources.all().filter((source) => source.missingSettings() === null).map((source) => source.name);
  if (queries.length * names.length > MAX_FAN_OUT) {
    throw new ApiError(400, 'too_many_jobs', `${queries.length} queries × ${names.length} sources is ${queries.length * names.length} jobs; at most ${MAX_FAN_OUT} per request`);
  }
  for (const name of names) {
    for (const query of queries) requireQueryTaken(sources, name, query);
  }
  return { queries, sources: names, limit: body.limit, priority: body.priority, fullRescan: body.full_rescan };
}

export interface TrackRequest {
  query: string;
  /** Null: every source usable at scrape time. */
  sources: string[] | null;
}

/** POST /queries: a query and, optionally, the sources to scrape it on (each usable now, each taking the query). */
export function trackRequest(body: BodyOf<typeof trackQuery>, sources: SourceRegistry): TrackRequest {
  if (!body.sources) return { query: body.query, sources: null };
  const names = requireUsableSources(body.sources, sources);
  for (const name of names) requireQueryTaken(sources, name, body.query);
  return { query: body.query, sources: names };
}

/** Named sources must be able to run now: a 400 saying what to set, for scrape-all and tracked queries alike. */
function requireUsableSources(names: string[], sources: SourceRegistry): string[] {
  for (const name of names) {
    const missing = sources.get(name)!.missingSettings();
    if (missing) throw new ApiError(400, 'source_unusable', `source ${name} cannot run yet: ${missing}`);
  }
  return names;
}

function requireQueryTaken(sources: SourceRegistry, name: string, query: string): void {
  const problem = sources.get(name)!.validateQuery?.(query);
  if (problem) throw new ApiError(400, 'invalid_query', `${name}: ${problem}`);
}

// The checks of the declared values by the names handlers reading a field by hand have used; a route read that way
// must still be declared in lib/api/contract/, or the contract test fails on it.
export { booleanField, integerField, onlyFields as requireFields, requireQuery, requireSource } from './contract/body.ts';
export { integerText as integerParam } from './contract/params.ts';

/** POST /queries's checks on a body at hand (the dashboard's form). */
export function parseTrackRequest(raw: unknown, sources: SourceRegistry): TrackRequest {
  return trackRequest(trackQuery.parse({ body: raw }, { sources }).body, sources);
}

/** POST /jobs/scrape-all's checks on a body at hand (the dashboard's "scrape now"). */
export function parseScrapeAllRequest(raw: unknown, sources: SourceRegistry): ScrapeAllRequest {
  return scrapeAllRequest(scrapeAll.parse({ body: raw }, { sources }).body, sources);
}
