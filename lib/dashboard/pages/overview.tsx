// The overview: for a period and a tracked query, posts a day by source, the sentiment share a day, the average
// rating a day, the newest negative posts, the newest alert events, and whether the scrapers are healthy.
import { Hono } from 'hono';
import { alertEventsPage } from '../../api/alert-events.ts';
import type { ApiDeps } from '../../api/deps.ts';
import { parsePostFilter } from '../../api/post-params.ts';
import { postStats } from '../../db/post-stats.ts';
import { listPosts } from '../../db/posts.ts';
import { listSourceRuns } from '../../db/sources.ts';
import { listTrackedQueries } from '../../db/tracked-queries.ts';
import { ApiError } from '../../errors.ts';
import { AlertEventList } from '../alert-event.tsx';
import { type ChartBucket, GappedLine, StackedBars } from '../chart.tsx';
import { count, percent, utc } from '../format.ts';
import { Empty, Layout, notice, render } from '../layout.tsx';
import { PostItem } from '../post.tsx';
import type { DashboardEnv } from '../viewer.ts';

export const PERIODS = [7, 30, 90] as const;
const DAY_MS = 86_400_000;
const ALERT_EVENTS = 5;

export function overviewRoutes(deps: ApiDeps) {
  return new Hono<DashboardEnv>().get('/', async (c) => {
    const periodText = c.req.query('period') ?? '30';
    const days = PERIODS.find((p) => String(p) === periodText);
    if (!days) throw new ApiError(400, 'invalid_period', '`period` must be 7, 30 or 90 (days)');
    const { query } = parsePostFilter((name) => (name === 'query' ? c.req.query('query') : undefined), deps);
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const from = new Date(today - (days - 1) * DAY_MS).toISOString();
    const to = new Date(today + DAY_MS).toISOString();
    const filter = query === undefined ? {} : { query };
    const [stats, negative, runs, counts, tracked, { events: alertEvents }] = await Promise.all([
      postStats(deps.sql, { interval: 'day', groupBy: 'source', tz: 'UTC', from, to, filter }),
      listPosts(deps.sql, { filter: { ...filter, sentiments: ['negative'], from }, limit: 5 }),
      listSourceRuns(deps.sql),
      deps.queue.counts(),
      listTrackedQueries(deps.sql),
      alertEventsPage(deps, { limit: ALERT_EVENTS }),
    ]);
    const byDay = new Map<string, { sources: Record<string, number>; negative: number; neutral: number; positive: number; rated: number; ratingSum: number }>();
    const seen = new Set<string>();
    for (const row of stats.rows) {
      const day = byDay.get(row.local) ?? { sources: {}, negative: 0, neutral: 0, positive: 0, rated: 0, ratingSum: 0 };
      if (row.key !== null && row.posts > 0) {
        day.sources[row.key] = row.posts;
        seen.add(row.key);
      }
      day.negative += row.negative;
      day.neutral += row.neutral;
      day.positive += row.positive;
      day.rated += row.rated;
      day.ratingSum += row.rating_sum;
      byDay.set(row.local, day);
    }
    const daysList = [...byDay.entries()];
    const volume: ChartBucket[] = daysList.map(([day, d]) => ({ day, values: d.sources }));
    const sentiment: ChartBucket[] = daysList.map(([day, d]) => ({ day, values: { negative: d.negative, neutral: d.neutral, positive: d.positive } }));
    const rating = daysList.map(([day, d]) => ({ day, value: d.rated > 0 ? d.ratingSum / d.rated : null, n: d.rated }));
    const total = daysList.reduce((sum, [, d]) => sum + Object.values(d.sources).reduce((a, b) => a + b, 0), 0);
    const negativeTotal = daysList.reduce((sum, [, d]) => sum + d.negative, 0);
    const scoredTotal = daysList.reduce((sum, [, d]) => sum + d.negative + d.neutral + d.positive, 0);
    const runsBySource = new Map(runs.map((run) => [run.source, run]));
    const failing = deps.sources.all().filter((source) => {
      const run = runsBySource.get(source.name);
      return run?.last_failure_at && (!run.last_success_at || run.last_failure_at > run.last_success_at);
    });
    const unusable = deps.sources.all().filter((source) => source.missingSettings() !== null);
    const viewer = c.get('viewer');
    const sourceSeries = [...seen].sort().map((key) => ({ key, label: key }));
    const feedLink = (extra: string) => `/ui/feed?${new URLSearchParams({ ...(query ? { query } : {}), from: from.slice(0, 10) }).toString()}${extra}`;
    return render(
      c,
      <Layout title="Overview" path="/ui/" viewer={viewer} notice={notice(c)}>
        <form method="get" action="/ui/" class="filters" aria-label="Period and query">
          <label>Period
            <select name="period">
              {PERIODS.map((p) => <option value={String(p)} selected={p === days}>{`last ${p} days`}</option>)}
            </select>
          </label>
          <label>Tracked query
            <select name="query">
              <option value="" selected={query === undefined}>all queries</option>
              {tracked.map((t) => <option value={t.query} selected={t.query === query}>{t.query}</option>)}
              {query !== undefined && !tracked.some((t) => t.query === query) ? <option value={query} selected>{query}</option> : null}
            </select>
          </label>
          <button type="submit" class="button">Show</button>
        </form>
        <section class="figures" aria-label="Totals">
          <p><strong>{count(total)}</strong> posts</p>
          <p><strong>{percent(negativeTotal, scoredTotal)}</strong> negative</p>
          <p><strong>{count(counts.dead)}</strong> dead jobs</p>
          <p><strong>{count(failing.length)}</strong> sources failing</p>
        </section>
        <section aria-labelledby="volume-h">
          <h2 id="volume-h">Posts a day by source</h2>
          {total === 0 ? <Empty>No posts in this period.</Empty> : <StackedBars id="volume-chart" label="Posts a day by source" buckets={volume} series={sourceSeries} />}
        </section>
        <section aria-labelledby="sentiment-h">
          <h2 id="sentiment-h">Sentiment share a day</h2>
          {scoredTotal === 0 ? <Empty>No scored posts in this period.</Empty> : (
            <StackedBars id="sentiment-chart" label="Sentiment share a day" share buckets={sentiment}
              series={[{ key: 'negative', label: 'negative' }, { key: 'neutral', label: 'neutral' }, { key: 'positive', label: 'positive' }]} />
          )}
        </section>
        <section aria-labelledby="rating-h">
          <h2 id="rating-h">Average rating a day</h2>
          {rating.every((r) => r.value === null) ? <Empty>No rated posts in this period.</Empty> : <GappedLine id="rating-chart" label="Average rating a day" unit="average rating" buckets={rating} />}
        </section>
        <section aria-labelledby="negative-h">
          <h2 id="negative-h">Newest negative posts</h2>
          {negative.length === 0 ? <Empty>No negative posts in this period.</Empty> : negative.map((post) => <PostItem post={post} full={false} />)}
          <p><a href={feedLink('&sentiment=negative')}>All negative posts of the period</a></p>
        </section>
        <section aria-labelledby="alerts-h">
          <h2 id="alerts-h">Alert events</h2>
          {alertEvents.length === 0 ? <Empty>No alert has fired yet.</Empty> : <AlertEventList events={alertEvents} />}
          <p><a href="/ui/alerts">All alert rules and events</a></p>
        </section>
        <section aria-labelledby="health-h">
          <h2 id="health-h">Scraper health</h2>
          <ul class="health">
            {failing.map((source) => {
              const run = runsBySource.get(source.name)!;
              return <li class="bad">{`${source.name}: failing since ${utc(run.last_failure_at)}${run.last_error ? ` (${run.last_error.code}: ${run.last_error.message})` : ''}`}</li>;
            })}
            {unusable.map((source) => <li class="warn">{`${source.name}: not usable, ${source.missingSettings()}`}</li>)}
            {counts.dead > 0 ? <li class="bad"><a href="/ui/queue?status=dead">{`${count(counts.dead)} dead jobs`}</a></li> : null}
            {failing.length === 0 && unusable.length === 0 && counts.dead === 0 ? <li class="good">Every source is usable and none is failing; no dead jobs.</li> : null}
            <li>{`${count(counts.pending)} jobs waiting, ${count(counts.processing)} running, ${count(counts.failed_24h)} failed in 24 h`}</li>
          </ul>
        </section>
      </Layout>,
    );
  });
}
