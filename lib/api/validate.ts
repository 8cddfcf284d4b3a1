// Request checks at the edge: each failure names the field and what was expected.
import { BACKUP_TYPES, type BackupType } from '../backup/files.ts';
import { ApiError } from '../errors.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { textProblem } from '../text.ts';

export interface ScrapeRequest {
  source: string;
  query: string;
  limit: number;
  priority: number;
  fullRescan: boolean;
  timeoutMs?: number;
}

const SCRAPE_FIELDS = ['source', 'query', 'limit', 'priority', 'full_rescan', 'timeout_ms'];
export const MAX_QUERY_LENGTH = 200;

export function parseScrapeRequest(body: unknown, sources: SourceRegistry): ScrapeRequest {
  const fields = requireFields(body, SCRAPE_FIELDS, '{"source":"trustpilot","query":"ovhcloud.com"}');
  const source = requireSource(fields.source, sources);
  const query = requireQuery(fields.query);
  const problem = sources.get(source)?.validateQuery?.(query);
  if (problem) throw new ApiError(400, 'invalid_query', problem);
  return {
    source,
    query,
    limit: integerField('limit', fields.limit, 50, 1, 200),
    priority: integerField('priority', fields.priority, 0, 0, 10),
    fullRescan: booleanField('full_rescan', fields.full_rescan, false),
    ...(fields.timeout_ms === undefined ? {} : { timeoutMs: integerField('timeout_ms', fields.timeout_ms, 0, 1_000, 3_600_000) }),
  };
}

export interface ScrapeAllRequest {
  queries: string[];
  sources: string[];
  limit: number;
  priority: number;
  fullRescan: boolean;
}

const SCRAPE_ALL_FIELDS = ['queries', 'sources', 'limit', 'priority', 'full_rescan'];
const MAX_FAN_OUT = 200;

/** Without `sources`, every source usable now; a named source that is not usable is refused, saying why. */
export function parseScrapeAllRequest(body: unknown, sources: SourceRegistry): ScrapeAllRequest {
  const fields = requireFields(body, SCRAPE_ALL_FIELDS, '{"queries":["ovhcloud.com"],"sources":["trustpilot"]}');
  if (!Array.isArray(fields.queries) || fields.queries.length === 0) {
    throw new ApiError(400, 'invalid_queries', '`queries` must be a non-empty array of strings');
  }
  const queries = [...new Set(fields.queries.map((query) => requireQuery(query)))];
  let names: string[];
  if (fields.sources === undefined) {
    names = sources.all().filter((source) => source.missingSettings() === null).map((source) => source.name);
  } else {
    if (!Array.isArray(fields.sources) || fields.sources.length === 0) {
      throw new ApiError(400, 'invalid_sources', '`sources` must be a non-empty array of source names, or left out for every usable source');
    }
    names = requireUsableSources([...new Set(fields.sources.map((name) => requireSource(name, sources, 'sources[]')))], sources);
  }
  if (queries.length * names.length > MAX_FAN_OUT) {
    throw new ApiError(400, 'too_many_jobs', `${queries.length} queries × ${names.length} sources is ${queries.length * names.length} jobs; at most ${MAX_FAN_OUT} per request`);
  }
  for (const name of names) {
    for (const query of queries) {
      const problem = sources.get(name)!.validateQuery?.(query);
      if (problem) throw new ApiError(400, 'invalid_query', `${name}: ${problem}`);
    }
  }
  return {
    queries,
    sources: names,
    limit: integerField('limit', fields.limit, 50, 1, 200),
    priority: integerField('priority', fields.priority, 0, 0, 10),
    fullRescan: booleanField('full_rescan', fields.full_rescan, false),
  };
}

/** POST /jobs/backup: an optional {"type": "manual" | "hourly" | "daily"}, manual by default. */
export function parseBackupRequest(body: unknown): BackupType {
  const { type = 'manual' } = requireFields(body, ['type'], '{"type":"manual"}, or empty');
  if (!BACKUP_TYPES.includes(type as BackupType)) throw new ApiError(400, 'invalid_type', `\`type\` must be one of ${BACKUP_TYPES.join(', ')}`);
  return type as BackupType;
}

export interface TrackRequest {
  query: string;
  /** Null: every source usable at scrape time. */
  sources: string[] | null;
}

/** POST /queries: a query and, optionally, the sources to scrape it on (each usable now, each taking the query). */
export function parseTrackRequest(body: unknown, sources: SourceRegistry): TrackRequest {
  const fields = requireFields(body, ['query', 'sources'], '{"query":"ovhcloud.com","sources":["trustpilot"]}');
  const query = requireQuery(fields.query);
  if (fields.sources === undefined || fields.sources === null) return { query, sources: null };
  if (!Array.isArray(fields.sources) || fields.sources.length === 0) {
    throw new ApiError(400, 'invalid_sources', '`sources` must be a non-empty array of source names, or left out for every usable source');
  }
  const names = requireUsableSources([...new Set(fields.sources.map((name) => requireSource(name, sources, 'sources[]')))], sources);
  for (const name of names) {
    const problem = sources.get(name)!.validateQuery?.(query);
    if (problem) throw new ApiError(400, 'invalid_query', `${name}: ${problem}`);
  }
  return { query, sources: names };
}

/** A JSON object body holding only `allowed` fields, or a 400 saying what was expected (`example`). */
export function requireFields(body: unknown, allowed: readonly string[], example: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_body', `the body must be a JSON object like ${example}`);
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ApiError(400, 'unknown_field', `unknown field ${unknown.map((k) => `\`${k}\``).join(', ')}; expected ${allowed.join(', ')}`);
  }
  return body as Record<string, unknown>;
}

export function booleanField(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be true or false`);
  return value;
}

export function requireSource(value: unknown, sources: SourceRegistry, field = 'source'): string {
  const valid = sources.names().join(', ');
  if (typeof value !== 'string' || value === '') {
    throw new ApiError(400, 'invalid_source', `\`${field}\` must be one of: ${valid}`);
  }
  if (!sources.get(value)) throw new ApiError(400, 'unknown_source', `unknown source "${value.slice(0, 50)}"; valid sources: ${valid}`);
  return value;
}

/** Named sources must be able to run now: a 400 saying what to set, for scrape-all and tracked queries alike. */
export function requireUsableSources(names: string[], sources: SourceRegistry): string[] {
  for (const name of names) {
    const missing = sources.get(name)!.missingSettings();
    if (missing) throw new ApiError(400, 'source_unusable', `source ${name} cannot run yet: ${missing}`);
  }
  return names;
}

export function requireQuery(value: unknown): string {
  if (typeof value !== 'string') throw new ApiError(400, 'invalid_query', '`query` must be a string: a company domain or brand name');
  const query = value.trim();
  if (query === '') throw new ApiError(400, 'invalid_query', '`query` must not be empty');
  if (query.length > MAX_QUERY_LENGTH) throw new ApiError(400, 'invalid_query', `\`query\` must be at most ${MAX_QUERY_LENGTH} characters`);
  const problem = textProblem(query);
  if (problem) throw new ApiError(400, 'invalid_query', `\`query\` ${problem}`);
  return query;
}

/** A JSON body field: absent means the default; anything but an integer in range is refused. */
export function integerField(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A query-string parameter: absent means the default; the text must be a plain integer in range. */
export function integerParam(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be an integer from ${min} to ${max}`);
  }
  return Number(value);
}
