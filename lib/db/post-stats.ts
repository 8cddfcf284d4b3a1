// Post counts per time bucket, for trend charts: read from the hourly rollup (post_stats_hourly, kept by triggers
// in the statement that writes the posts) when the filter and the time zone allow it, else from the posts table
// itself. Every bucket of the range is returned, the empty ones too, so a chart draws a gap as a gap.
import type { Sql } from './client.ts';
import type { PostFilter } from './post-filter.ts';
import { postConditions } from './post-filter.ts';

export const STATS_INTERVALS = ['hour', 'day', 'week', 'month'] as const;
export type StatsInterval = (typeof STATS_INTERVALS)[number];
export const STATS_GROUPS = ['source', 'sentiment', 'query'] as const;
export type StatsGroup = (typeof STATS_GROUPS)[number];

export interface StatsRequest {
  interval: StatsInterval;
  groupBy: StatsGroup | null;
  /** An IANA time zone PostgreSQL knows; buckets start at its midnights (and its Mondays, its first days). */
  tz: string;
  /** ISO times; the range is widened to whole buckets. */
  from: string;
  to: string;
  filter: PostFilter;
}

export interface StatsRow {
  /** The bucket's start as an instant (ISO, UTC) and as the time zone's wall clock. */
  start: string;
  local: string;
  /** The group's key (source, label or 'unscored', query); null without grouping, and for an empty bucket. */
  key: string | null;
  posts: number;
  rated: number;
  rating_sum: number;
  negative: number;
  neutral: number;
  positive: number;
  unscored: number;
}

export interface StatsResult {
  rows: StatsRow[];
  /** Which table answered: the rollup, or the posts themselves (full-text search, ratings, a half-hour time zone). */
  from: 'rollup' | 'posts';
}

// pg_timezone_names reads the server's every zone file on each query (about 60 ms here), so the answer for a known
// zone is kept for an hour: its offset changes twice a year at most, and a tzdata upgrade is seen within the hour.
const ZONE_CACHE_MS = 3_600_000;
const ZONE_CACHE_SIZE = 500;
const knownZones = new Map<string, { wholeHours: boolean; until: number }>();

/** Whether PostgreSQL knows the zone, and whether its offset is whole hours (so hourly counts add up to its days). */
export async function timeZoneInfo(sql: Sql, tz: string): Promise<{ known: boolean; wholeHours: boolean }> {
  const cached = knownZones.get(tz);
  if (cached && cached.until > Date.now()) return { known: true, wholeHours: cached.wholeHours };
  const [row] = await sql<{ whole: boolean }[]>`
    select extract(minute from utc_offset) = 0 and extract(second from utc_offset) = 0 as whole from pg_timezone_names where name = ${tz}
  `;
  if (row !== undefined) {
    if (knownZones.size >= ZONE_CACHE_SIZE) knownZones.clear();
    knownZones.set(tz, { wholeHours: row.whole, until: Date.now() + ZONE_CACHE_MS });
  }
  return { known: row !== undefined, wholeHours: row?.whole ?? false };
}

export async function postStats(sql: Sql, request: StatsRequest): Promise<StatsResult> {
  const { interval, tz, filter } = request;
  const step = `1 ${interval}`;
  const localFormat = interval === 'hour' ? 'YYYY-MM-DD"T"HH24:MI' : 'YYYY-MM-DD';
  const zone = await timeZoneInfo(sql, tz);
  const fromRollup = zone.wholeHours && !filter.text && !filter.ratings?.length && filter.from === undefined && filter.to === undefined;
  // The buckets, as wall-clock times of the zone, from the one holding `from` to the one holding the last instant before `to`.
  const series = sql`
    select generate_series(
      date_trunc(${interval}, ${request.from}::text::timestamptz at time zone ${tz}),
      date_trunc(${interval}, (${request.to}::text::timestamptz - interval '1 microsecond') at time zone ${tz}),
      ${step}::interval
    ) as bucket
  `;
  const bounds = sql`
    select min(bucket) at time zone ${tz} as lower, (max(bucket) + ${step}::interval) at time zone ${tz} as upper from series
  `;
  // Days, weeks and months of UTC are whole UTC days: a day's row of the daily rollup stands for 24 hourly ones.
  const rollup = interval !== 'hour' && UTC_ZONES.has(tz) ? 'daily' : 'hourly';
  const data = fromRollup ? rollupData(sql, request, rollup) : postsData(sql, request);
  const rows = await sql<StatsRow[]>`
    with series as (${series}), bounds as (${bounds}), data as (${data})
    select to_char(series.bucket at time zone ${tz} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as start,
           to_char(series.bucket, ${localFormat}) as local,
           data.key, coalesce(data.posts, 0)::int as posts, coalesce(data.rated, 0)::int as rated,
           coalesce(data.rating_sum, 0)::float8 as rating_sum,
           coalesce(data.negative, 0)::int as negative, coalesce(data.neutral, 0)::int as neutral,
           coalesce(data.positive, 0)::int as positive, coalesce(data.unscored, 0)::int as unscored
    from series left join data on data.bucket = series.bucket
    order by series.bucket, data.key nulls first
  `;
  return { rows, from: fromRollup ? 'rollup' : 'posts' };
}

const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'UCT', 'Etc/UCT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu']);

function rollupData(sql: Sql, request: StatsRequest, rollup: 'hourly' | 'daily') {
  const { interval, tz, groupBy, filter } = request;
  const key = groupBy === 'source' ? sql`s.source` : groupBy === 'query' ? sql`s.query` : groupBy === 'sentiment' ? sql`coalesce(nullif(s.label, ''), 'unscored')` : sql`null::text`;
  const labels = filter.sentiments?.map((label) => (label === 'unscored' ? '' : label));
  return sql`
    select date_trunc(${interval}, s.at at time zone ${tz}) as bucket, ${key} as key,
           sum(s.posts) as posts, sum(s.rated) as rated, sum(s.rating_sum) as rating_sum,
           sum(s.posts) filter (where s.label = 'negative') as negative,
           sum(s.posts) filter (where s.label = 'neutral') as neutral,
           sum(s.posts) filter (where s.label = 'positive') as positive,
           sum(s.posts) filter (where s.label = '') as unscored
    from ${rollup === 'daily' ? sql`(select day as at, * from post_stats_daily) s` : sql`(select hour as at, * from post_stats_hourly) s`}, bounds
    where s.at >= bounds.lower and s.at < bounds.upper and s.posts <> 0
      ${filter.sources?.length ? sql`and s.source = any(${filter.sources}::text[])` : sql``}
      ${filter.query !== undefined ? sql`and s.query = ${filter.query}` : sql``}
      ${labels?.length ? sql`and s.label = any(${labels}::text[])` : sql``}
    group by 1, 2
  `;
}

function postsData(sql: Sql, request: StatsRequest) {
  const { interval, tz, groupBy, filter } = request;
  const key = groupBy === 'source' ? sql`p.source` : groupBy === 'query' ? sql`p.query` : groupBy === 'sentiment' ? sql`coalesce(p.sentiment_label, 'unscored')` : sql`null::text`;
  return sql`
    select date_trunc(${interval}, p.published_at at time zone ${tz}) as bucket, ${key} as key,
           count(*) as posts, count(p.rating) as rated, coalesce(sum(p.rating), 0) as rating_sum,
           count(*) filter (where p.sentiment_label = 'negative') as negative,
           count(*) filter (where p.sentiment_label = 'neutral') as neutral,
           count(*) filter (where p.sentiment_label = 'positive') as positive,
           count(*) filter (where p.sentiment_label is null) as unscored
    from posts p, bounds
    where p.published_at >= bounds.lower and p.published_at < bounds.upper
      ${postConditions(sql, { ...filter, from: undefined, to: undefined })}
    group by 1, 2
  `;
}
