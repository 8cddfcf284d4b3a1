// GET /posts/stats: the request's interval, grouping, time zone and range, and the answer's shape (every bucket,
// with its count, average rating and the share of each sentiment label, overall and per group).
import { STATS_GROUPS, STATS_INTERVALS, type StatsGroup, type StatsInterval, type StatsRequest, type StatsResult, type StatsRow, timeZoneInfo } from '../db/post-stats.ts';
import { ApiError } from '../errors.ts';
import type { ApiDeps } from './deps.ts';
import { parsePostFilter, time } from './post-params.ts';

// What a range is when the request names none: recent enough to read at a glance.
const DEFAULT_SPAN_MS: Record<StatsInterval, number> = { hour: 2 * 86_400_000, day: 30 * 86_400_000, week: 26 * 7 * 86_400_000, month: 730 * 86_400_000 };
const BUCKET_MS: Record<StatsInterval, number> = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 28 * 86_400_000 };
const MAX_BUCKETS = 2_000;

type Query = (name: string) => string | undefined;

export async function parseStatsRequest(query: Query, deps: Pick<ApiDeps, 'sql' | 'sources'>): Promise<StatsRequest> {
  const interval = (query('interval') ?? 'day') as StatsInterval;
  if (!STATS_INTERVALS.includes(interval)) throw new ApiError(400, 'invalid_interval', `\`interval\` must be one of ${STATS_INTERVALS.join(', ')}`);
  const group = query('group_by');
  if (group !== undefined && group !== '' && group !== 'none' && !(STATS_GROUPS as readonly string[]).includes(group)) {
    throw new ApiError(400, 'invalid_group_by', `\`group_by\` must be one of ${STATS_GROUPS.join(', ')} or none`);
  }
  const tz = query('tz') || 'UTC';
  if (tz.length > 64 || !(await timeZoneInfo(deps.sql, tz)).known) throw new ApiError(400, 'invalid_tz', '`tz` must be an IANA time zone such as UTC, Europe/Paris or America/New_York');
  const filter = parsePostFilter(query, deps.sources);
  const to = time('to', query('to')) ?? new Date().toISOString();
  const from = time('from', query('from')) ?? new Date(Date.parse(to) - DEFAULT_SPAN_MS[interval]).toISOString();
  if (Date.parse(from) >= Date.parse(to)) throw new ApiError(400, 'invalid_range', '`from` must be before `to`');
  if ((Date.parse(to) - Date.parse(from)) / BUCKET_MS[interval] > MAX_BUCKETS) {
    throw new ApiError(400, 'too_many_buckets', `at most ${MAX_BUCKETS} buckets a request: a shorter range or a longer interval`);
  }
  // The range is the request's own, not a filter on top of it.
  delete filter.from;
  delete filter.to;
  return { interval, groupBy: group && group !== 'none' ? (group as StatsGroup) : null, tz, from, to, filter };
}

interface Figures {
  count: number;
  avg_rating: number | null;
  /** Shares of the bucket's posts; null for an empty bucket. */
  sentiment: { negative: number; neutral: number; positive: number; unscored: number } | null;
}

function figures(rows: StatsRow[]): Figures {
  const sum = (field: keyof Pick<StatsRow, 'posts' | 'rated' | 'rating_sum' | 'negative' | 'neutral' | 'positive' | 'unscored'>) => rows.reduce((total, row) => total + row[field], 0);
  const count = sum('posts');
  const rated = sum('rated');
  const share = (n: number) => Math.round((n / count) * 10_000) / 10_000;
  return {
    count,
    avg_rating: rated > 0 ? Math.round((sum('rating_sum') / rated) * 100) / 100 : null,
    sentiment: count > 0 ? { negative: share(sum('negative')), neutral: share(sum('neutral')), positive: share(sum('positive')), unscored: share(sum('unscored')) } : null,
  };
}

export function presentStats(request: StatsRequest, result: StatsResult) {
  const buckets = new Map<string, StatsRow[]>();
  for (const row of result.rows) buckets.set(row.start, [...(buckets.get(row.start) ?? []), row]);
  return {
    interval: request.interval,
    tz: request.tz,
    group_by: request.groupBy,
    from: request.from,
    to: request.to,
    read_from: result.from,
    buckets: [...buckets.values()].map((rows) => {
      const withData = rows.filter((row) => row.posts > 0);
      return {
        start: rows[0]!.start,
        local: rows[0]!.local,
        ...figures(withData),
        ...(request.groupBy ? { groups: withData.map((row) => ({ key: row.key, ...figures([row]) })) } : {}),
      };
    }),
  };
}
