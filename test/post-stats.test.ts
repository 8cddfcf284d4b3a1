// GET /posts/stats: every bucket of the range (empty ones too), in the time zone asked for, grouped as asked, and
// the hourly rollup the fast path reads agreeing with the posts table after inserts, updates and deletes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { upsertPosts } from '../lib/db/posts.ts';
import { silentLogger } from '../lib/log.ts';
import type { ScrapedPost } from '../lib/model/post.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

interface Bucket {
  start: string;
  local: string;
  count: number;
  avg_rating: number | null;
  sentiment: { negative: number; neutral: number; positive: number; unscored: number } | null;
  groups?: { key: string | null; count: number }[];
}
interface Stats {
  read_from: 'rollup' | 'posts';
  buckets: Bucket[];
}

const post = (id: string, at: string, fields: Partial<ScrapedPost> = {}): ScrapedPost => ({
  externalId: id,
  url: `https://example.com/${id}`,
  author: null,
  title: null,
  text: `post ${id}`,
  rating: null,
  language: null,
  publishedAt: new Date(at),
  reply: null,
  extra: {},
  ...fields,
});
const label = (value: 'negative' | 'neutral' | 'positive') => ({ sentiment: { score: value === 'negative' ? -0.5 : value === 'positive' ? 0.5 : 0, label: value, method: 'lexicon-v1', language: 'en' } });

describe('post statistics over time', () => {
  let services: TestServices;
  let app: Hono;

  before(async () => {
    services = await startServices('post_stats');
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue: undefined as never, sources: await loadSourceRegistry(services.config), log: silentLogger });
    // Five days of March 2026 with posts on the 1st, 2nd (late evening UTC) and 4th only.
    await upsertPosts(services.sql, 'trustpilot', 'acme.com', [
      post('t1', '2026-03-01T10:00:00Z', { rating: 1, ...label('negative') }),
      post('t2', '2026-03-01T11:00:00Z', { rating: 5, ...label('positive') }),
      post('t3', '2026-03-02T23:30:00Z', { rating: 4, ...label('positive') }),
    ]);
    await upsertPosts(services.sql, 'hackernews', 'acme', [
      post('h1', '2026-03-01T12:00:00Z', label('negative')),
      post('h2', '2026-03-04T08:00:00Z', label('neutral')),
      post('h3', '2026-03-04T09:00:00Z'),
    ]);
  });
  after(async () => {
    await services?.close();
  });

  const stats = async (query: string) => {
    const response = await app.request(`/posts/stats?${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Stats;
  };

  test('every day of the range is a bucket, the empty ones with a count of 0 and no shares', async () => {
    const { buckets, read_from } = await stats('interval=day&from=2026-03-01&to=2026-03-06');
    assert.equal(read_from, 'rollup');
    assert.deepEqual(
      buckets.map((bucket) => [bucket.local, bucket.count]),
      [['2026-03-01', 3], ['2026-03-02', 1], ['2026-03-03', 0], ['2026-03-04', 2], ['2026-03-05', 0]],
    );
    const [first, , empty] = buckets;
    assert.equal(first!.avg_rating, 3);
    assert.deepEqual(first!.sentiment, { negative: 0.6667, neutral: 0, positive: 0.3333, unscored: 0 });
    assert.equal(empty!.sentiment, null);
    assert.equal(empty!.avg_rating, null);
  });

  test('in another time zone, a post late in the evening UTC counts on the next local day', async () => {
    const { buckets } = await stats('interval=day&from=2026-03-01&to=2026-03-06&tz=Europe/Paris');
    const day = (local: string) => buckets.find((bucket) => bucket.local === local);
    assert.equal(day('2026-03-02')?.count, 0);
    assert.equal(day('2026-03-03')?.count, 1);
    // The bucket starts at Paris's midnight, 23:00 UTC the day before.
    assert.equal(day('2026-03-03')?.start, '2026-03-02T23:00:00Z');
    // A zone half an hour off UTC cannot be read from hourly counts: the posts answer, with the same totals.
    const india = await stats('interval=day&from=2026-03-01&to=2026-03-06&tz=Asia/Kolkata');
    assert.equal(india.read_from, 'posts');
    assert.equal(india.buckets.reduce((total, bucket) => total + bucket.count, 0), 6);
    assert.equal(india.buckets.find((bucket) => bucket.local === '2026-03-03')?.count, 1);
  });

  test('grouped by source, sentiment or query, each bucket lists its groups and their counts', async () => {
    const bySource = await stats('interval=day&from=2026-03-01&to=2026-03-02&group_by=source');
    assert.deepEqual(bySource.buckets[0]!.groups!.map((group) => [group.key, group.count]), [['hackernews', 1], ['trustpilot', 2]]);
    const bySentiment = await stats('interval=week&from=2026-03-02&to=2026-03-09&group_by=sentiment');
    assert.equal(bySentiment.buckets.length, 1);
    assert.deepEqual(bySentiment.buckets[0]!.groups!.map((group) => [group.key, group.count]), [['neutral', 1], ['positive', 1], ['unscored', 1]]);
    const byQuery = await stats('interval=month&from=2026-03-01&to=2026-04-01&group_by=query');
    assert.deepEqual(byQuery.buckets[0]!.groups!.map((group) => [group.key, group.count]), [['acme', 3], ['acme.com', 3]]);
  });

  test('the filters of GET /posts apply, on the rollup and on the posts alike', async () => {
    const total = (result: Stats) => result.buckets.reduce((sum, bucket) => sum + bucket.count, 0);
    const range = 'interval=day&from=2026-03-01&to=2026-03-06';
    assert.equal(total(await stats(`${range}&source=trustpilot`)), 3);
    assert.equal(total(await stats(`${range}&sentiment=negative`)), 2);
    assert.equal(total(await stats(`${range}&sentiment=unscored`)), 1);
    assert.equal(total(await stats(`${range}&query=acme`)), 3);
    const rated = await stats(`${range}&rating=4,5`);
    assert.equal(rated.read_from, 'posts');
    assert.equal(total(rated), 2);
  });

  test('the hourly rollup matches the posts after re-scrapes that change a label, a rating and a time, and deletes', async () => {
    const { sql } = services;
    await upsertPosts(sql, 'trustpilot', 'acme.com', [
      post('t1', '2026-03-01T10:00:00Z', { rating: 2, ...label('negative') }),
      post('t2', '2026-03-03T11:00:00Z', { rating: 5, ...label('neutral') }),
      post('t4', '2026-03-03T11:10:00Z', { rating: 3 }),
    ]);
    await sql`update posts set sentiment_label = 'positive' where external_id = 'h3'`;
    await sql`delete from posts where external_id = 'h1'`;
    const fromPosts = await sql`
      select date_trunc('hour', published_at) as hour, source, query, coalesce(sentiment_label, '') as label,
             count(*)::int as posts, count(rating)::int as rated, coalesce(sum(rating), 0)::float8 as rating_sum
      from posts group by 1, 2, 3, 4 order by 1, 2, 3, 4
    `;
    const fromRollup = await sql`
      select hour, source, query, label, posts, rated, rating_sum from post_stats_hourly where posts <> 0 order by 1, 2, 3, 4
    `;
    assert.deepEqual([...fromRollup], [...fromPosts]);
    const daysFromPosts = await sql`
      select date_trunc('day', published_at, 'UTC') as day, source, query, coalesce(sentiment_label, '') as label,
             count(*)::int as posts, count(rating)::int as rated, coalesce(sum(rating), 0)::float8 as rating_sum
      from posts group by 1, 2, 3, 4 order by 1, 2, 3, 4
    `;
    const daysFromRollup = await sql`
      select day, source, query, label, posts, rated, rating_sum from post_stats_daily where posts <> 0 order by 1, 2, 3, 4
    `;
    assert.deepEqual([...daysFromRollup], [...daysFromPosts]);
    // The daily rollup (UTC days) and the hourly one (any whole-hour zone) and the posts answer alike.
    const utc = await stats('interval=day&from=2026-03-01&to=2026-03-06&group_by=sentiment');
    const utcFromHours = await stats('interval=day&from=2026-03-01&to=2026-03-06&group_by=sentiment&tz=Africa/Abidjan');
    const utcFromPosts = await stats('interval=day&from=2026-03-01&to=2026-03-06&group_by=sentiment&rating=0,1,2,3,4,5');
    assert.deepEqual(utc.buckets.map((bucket) => bucket.count), [1, 1, 2, 2, 0]);
    assert.deepEqual(utcFromHours.buckets, utc.buckets);
    assert.deepEqual(utcFromPosts.buckets.map((bucket) => bucket.count), [1, 1, 2, 0, 0]);
    await sql`truncate posts`;
    const [left] = await sql<{ count: string }[]>`select (select count(*) from post_stats_hourly) + (select count(*) from post_stats_daily) as count`;
    assert.equal(String(left!.count), '0');
  });

  test('a bad interval, grouping, time zone or range, or too many buckets, is a 400 with a code', async () => {
    for (const [query, code] of [
      ['interval=minute', 'invalid_interval'],
      ['group_by=author', 'invalid_group_by'],
      ['tz=Mars/Olympus_Mons', 'invalid_tz'],
      ['from=2026-03-05&to=2026-03-01', 'invalid_range'],
      ['interval=hour&from=2020-01-01&to=2026-01-01', 'too_many_buckets'],
      ['sentiment=furious', 'invalid_sentiment'],
    ]) {
      const response = await app.request(`/posts/stats?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code, query);
    }
  });
});
