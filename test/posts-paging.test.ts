// Walking GET /posts by its `next` cursor over hundreds of rows (synthetic, inserted here): ids of one to six
// digits, many rows sharing one timestamp, and timestamps with microseconds, as imported data has.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

interface Row {
  id: number;
  source: string;
  at: string;
  body: string;
}

describe('paging through GET /posts', () => {
  let services: TestServices;
  let app: Hono;
  const rows: Row[] = [];

  before(async () => {
    services = await startServices('posts_paging');
    const queue = new JobQueue(services.redis, queueSettings(services.config));
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
    // 400 rows: ids 1-9, 80-89, then spread up to six digits; a quarter share one instant, others differ by a
    // microsecond, which a millisecond cursor cannot tell apart.
    const ids = [...Array.from({ length: 9 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => 80 + i), ...Array.from({ length: 381 }, (_, i) => 100 + i * 2_600)];
    for (const [i, id] of ids.entries()) {
      const at = i % 4 === 0 ? '2026-03-01 12:00:00+00' : `2026-03-01 12:00:00.${String(i % 7 === 0 ? 500_000 + (i % 3) : 500_000 + i).padStart(6, '0')}+00`;
      rows.push({ id, source: i % 3 === 0 ? 'hackernews' : 'trustpilot', at, body: i % 5 === 0 ? 'outage again' : 'all fine' });
    }
    for (const row of rows) {
      await services.sql`
        insert into posts (id, source, external_id, query, url, body, published_at)
        overriding system value
        values (${row.id}, ${row.source}, ${`e${row.id}`}, 'acme', ${`https://example.com/${row.id}`}, ${row.body}, ${row.at}::text::timestamptz)
      `;
    }
  });
  after(() => services?.close());

  async function walk(filter: string, limit: number): Promise<string[]> {
    const seen: string[] = [];
    let next: string | null = null;
    for (let pages = 0; pages < 1_000; pages++) {
      const res = await app.request(`/posts?limit=${limit}${filter}${next ? `&before=${next}` : ''}`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { posts: { id: string }[]; next: string | null };
      seen.push(...body.posts.map((post) => post.id));
      next = body.next;
      if (!next) return seen;
    }
    assert.fail('the walk did not end');
  }

  const newestFirst = (selected: Row[]) =>
    [...selected].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.id - a.id)).map((row) => String(row.id));

  for (const limit of [1, 7, 50, 200]) {
    test(`pages of ${limit} visit every row once, newest first`, async () => {
      assert.deepEqual(await walk('', limit), newestFirst(rows));
    });
  }

  test('with a source filter, pages visit every row of that source once', async () => {
    assert.deepEqual(await walk('&source=hackernews', 7), newestFirst(rows.filter((row) => row.source === 'hackernews')));
  });

  test('with a text search, pages visit every matching row once', async () => {
    assert.deepEqual(await walk('&q=outage', 7), newestFirst(rows.filter((row) => row.body.includes('outage'))));
  });

  test('the cursor carries the stored time to the microsecond', async () => {
    const res = await app.request('/posts?limit=1');
    const { next } = (await res.json()) as { next: string };
    const [at] = JSON.parse(Buffer.from(next, 'base64url').toString('utf8')) as [string, string];
    assert.match(at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  test('a cursor whose id does not fit a bigint, or whose date PostgreSQL cannot hold, is a 400', async () => {
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const bad of [
      ['2026-03-01T12:00:00.000000Z', '9999999999999999999'],
      ['+275760-09-13T00:00:00.000Z', '5'],
      ['2026-02-30T12:00:00.000000Z', '5'],
      ['2026-03-01T24:00:00Z', '5'],
      ['2026-03-01T12:00:00.0000001Z', '5'],
    ]) {
      const res = await app.request(`/posts?before=${cursor(bad)}`);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_cursor');
    }
  });
});
