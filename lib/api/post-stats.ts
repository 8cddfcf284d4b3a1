// GET /posts/stats: the request's interval, grouping, time zone and range, and the answer's shape (every bucket,
// with its count, average rating and the share of each sentiment label, overall and per group).
import { type StatsInterval, type StatsRequest, type StatsResult, type StatsRow, timeZoneInfo } from '../db/post-stats.ts';
import { ApiError } from '../errors.ts';
import type { postStats } from './contract/posts.ts';
import type { QueryOf } from './contract/route.ts';
import type { ApiDeps } from './deps.ts';
import { postFilter } from './post-params.ts';

// What a range is when the request names none: recent enough to read at a glance.
const DEFAULT_SPAN_MS: Record<StatsInterval, number> = { hour: 2 * 86_400_000, day: 30 * 86_400_000, week: 26 * 7 * 86_400_000, month: 730 * 86_400_000 };
const BUCKET_MS: Record<StatsInterval, number> = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 28 * 86_400_000 };
const MAX_BUCKETS = 2_000;

/** The range's defaults and bounds, and the time zone as PostgreSQL knows it, on what the definition checked. */
export async function statsRequest(query: QueryOf<typeof postStats>, deps: Pick<ApiDeps, 'sql'>): Promise<StatsRequest> {
  const { interval, group_by: group, tz } = query;
  if (!(await timeZoneInfo(deps.sql, tz)).known) throw new ApiError(400, 'invalid_tz', '`tz` must be an IANA time zone such as UTC, Europe/Paris or America/New_York');
  const filter = postFilter(query);
  const to = query.to ?? new Date().toISOString();
  const from = query.from ?? new Date(Date.parse(to) - DEFAULT_SPAN_MS[interval]).toISOString();
  if (Date.parse(from) >= Date.parse(to)) throw new ApiError(400, 'invalid_range', '`from` must be before `to`');
  if ((Date.parse(to) - Date.parse(from)) / BUCKET_MS[interval] > MAX_BUCKETS) {
    throw new ApiError(400, 'too_many_buckets', `at most ${MAX_BUCKETS} buckets a request: a shorter range or a longer interval`);
  }
  // The range is the request's own, not a filter on top of it.
  delete filter.from;
  delete filter.to;
  return { interval, groupBy: group && group !== 'none' ? group : null, tz, from, to, filter };
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
