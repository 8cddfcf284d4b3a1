// The query-string filters every /posts route takes (the list, its export, its statistics), parsed once with
// messages that say what was expected.
import type { PostFilter } from '../db/post-filter.ts';
import { ApiError } from '../errors.ts';
import { isLegacySourceName } from '../legacy/source-names.ts';
import { SENTIMENT_LABELS, type SentimentLabel } from '../model/post.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { textProblem } from '../text.ts';
import { MAX_QUERY_LENGTH } from './validate.ts';

type Query = (name: string) => string | undefined;

const TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;
const SENTIMENT_CHOICES = [...SENTIMENT_LABELS, 'unscored'] as const;

export function parsePostFilter(query: Query, sources: SourceRegistry): PostFilter {
  const filter: PostFilter = {};
  const sourceList = list(query('source'));
  if (sourceList) filter.sources = sourceList.map((name) => requirePostSource(name, sources));
  const tracked = query('query');
  if (tracked !== undefined && tracked !== '') filter.query = userText('query', tracked);
  const text = query('q')?.trim();
  if (text) filter.text = userText('q', text);
  const sentiments = list(query('sentiment'));
  if (sentiments) {
    for (const label of sentiments) {
      if (!(SENTIMENT_CHOICES as readonly string[]).includes(label)) throw new ApiError(400, 'invalid_sentiment', `\`sentiment\` must be one or more of ${SENTIMENT_CHOICES.join(', ')}, comma-separated`);
    }
    filter.sentiments = sentiments as (SentimentLabel | 'unscored')[];
  }
  const ratings = list(query('rating'));
  if (ratings) {
    if (!ratings.every((value) => /^\d{1,7}$/.test(value))) throw new ApiError(400, 'invalid_rating', '`rating` must be one or more whole numbers, comma-separated (Trustpilot stars are 1 to 5)');
    filter.ratings = ratings.map(Number);
  }
  const from = time('from', query('from'));
  const to = time('to', query('to'));
  if (from) filter.from = from;
  if (to) filter.to = to;
  if (from && to && Date.parse(from) >= Date.parse(to)) throw new ApiError(400, 'invalid_range', '`from` must be before `to`');
  return filter;
}

function list(value: string | undefined): string[] | null {
  if (value === undefined || value.trim() === '') return null;
  return [...new Set(value.split(',').map((item) => item.trim()).filter(Boolean))];
}

function userText(name: string, value: string): string {
  if (value.length > MAX_QUERY_LENGTH) throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be at most ${MAX_QUERY_LENGTH} characters`);
  const problem = textProblem(value);
  if (problem) throw new ApiError(400, `invalid_${name}`, `\`${name}\` ${problem}`);
  return value;
}

/** An ISO 8601 date or time (a date alone is midnight UTC), as an ISO string PostgreSQL can hold; undefined when absent. */
export function time(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const invalid = new ApiError(400, `invalid_${name}`, `\`${name}\` must be an ISO 8601 date or time, e.g. 2026-05-01 or 2026-05-01T12:00:00Z`);
  if (!TIME.test(value)) throw invalid;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw invalid;
  const date = new Date(ms);
  if (date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) throw invalid;
  return date.toISOString();
}

/** One of our sources, or a name the legacy import gave to an old system's source (`legacy-app-store`). */
export function requirePostSource(value: string, sources: SourceRegistry): string {
  if (isLegacySourceName(value) || sources.get(value)) return value;
  throw new ApiError(
    400,
    'unknown_source',
    `unknown source "${value.slice(0, 50)}"; valid sources: ${sources.names().join(', ')}, or legacy-<name> for posts imported from the old system`,
  );
}
