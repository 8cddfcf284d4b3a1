import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ConfigError, EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark } from '../lib/model/post.ts';
import { apiError, createSource, createStackOverflowSource, msUntilUtcMidnight, parseQuestions } from '../lib/sources/stackoverflow.ts';
import type { ScrapedPage } from '../lib/sources/types.ts';
import { type FakeUpstream, type Reply, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected } from './helpers/job-errors.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

type Question = Record<string, unknown> & { question_id: number; creation_date: number };

/** The capture is ndjson of `items` only (the wrapper was not saved); tests wrap the items themselves. */
const realItems = fixture('stackoverflow/so-questions-duckdb-items-2023-03.ndjson')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line) as Question);

const SEARCH = '/2.3/search/advanced';

interface FakeOptions {
  /** Stack Exchange's fromdate filter; off to check the scraper stops at the mark on its own. */
  honourFromdate?: boolean;
  quotaRemaining?: (page: number) => number;
  backoff?: (page: number) => number | undefined;
}

/** Serves `/search/advanced` from `items` as Stack Exchange does: a gzip wrapper with has_more and the quota. */
function serveStackExchange(upstream: FakeUpstream, items: Question[], options: FakeOptions = {}): void {
  upstream.on('GET', SEARCH, (req) => {
    const page = Number(req.query.get('page') ?? 1);
    const pageSize = Number(req.query.get('pagesize') ?? 30);
    const fromdate = req.query.get('fromdate');
    const matching = fromdate && options.honourFromdate !== false ? items.filter((item) => item.creation_date >= Number(fromdate)) : items;
    const wrapper = {
      items: matching.slice((page - 1) * pageSize, page * pageSize),
      has_more: page * pageSize < matching.length,
      quota_max: 300,
      quota_remaining: options.quotaRemaining?.(page) ?? 300 - page,
      ...(options.backoff?.(page) ? { backoff: options.backoff(page) } : {}),
    };
    return gzipJson(wrapper);
  });
}

function gzipJson(body: unknown, status = 200): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify(body)),
  };
}

const options = { site: 'stackoverflow', key: null, pageSize: 100 };

describe('parsing the real 2023 duckdb questions (wrapped in a search wrapper by the test)', () => {
  const posts = parseQuestions({ items: realItems, has_more: false }, 'stackoverflow');

  test('reads every field of the newest question', () => {
    const first = posts[0]!;
    assert.equal(first.externalId, '75805412');
    assert.equal(first.url, 'https://stackoverflow.com/questions/75805412/duckdb-truncate-a-timestamp-to-a-15-minute-interval');
    assert.equal(first.author, 'Mark Harrison');
    assert.equal(first.title, 'DuckDB: Truncate a timestamp to a 15 minute interval?');
    assert.equal(first.text, 'DuckDB: Truncate a timestamp to a 15 minute interval?', 'no body in the capture: the text is the title');
    assert.equal(first.rating, 0);
    assert.equal(first.language, null);
    assert.equal(first.publishedAt.toISOString(), '2023-03-21T19:03:42.000Z');
    assert.equal(first.reply, null);
    assert.deepEqual(first.extra, { tags: ['duckdb'], answer_count: 1, is_answered: true, view_count: 50, site: 'stackoverflow' });
  });

  test('decodes the HTML entities Stack Exchange puts in titles', () => {
    const escaped = posts.find((post) => post.externalId === '75640414')!;
    assert.match(escaped.title!, /^duckdb getting 'Error: IO Error: Frame requires too much memory for decoding' /);
    assert.equal(escaped.text, escaped.title);
    assert.ok(posts.every((post) => !/&#?\w+;/.test(post.title ?? '')));
  });

  test('reads 30 questions newest first, negative scores and tags lists included', () => {
    assert.equal(posts.length, 30);
    assert.ok(posts.every((post, i) => i === 0 || post.publishedAt <= posts[i - 1]!.publishedAt));
    assert.equal(posts.find((post) => post.externalId === '75665044')!.rating, -1);
    assert.deepEqual(posts.find((post) => post.externalId === '75777109')!.extra.tags, ['python', 'json', 'python-3.x', 'duckdb']);
    assert.equal(posts.at(-1)!.publishedAt.toISOString(), '2022-12-13T18:28:07.000Z');
  });

  test('rejects a wrapper without items as upstream_bad_response', () => {
    assert.throws(() => parseQuestions({ has_more: false }, 'stackoverflow'), (error: unknown) => error instanceof JobError && error.code === 'upstream_bad_response');
  });
});

describe('parsing question bodies (synthetic filter=withbody wrapper)', () => {
  const wrapper = JSON.parse(fixture('stackoverflow/search-advanced-withbody-synthetic.json')) as Record<string, unknown>;
  const [withBody, emptyBody] = parseQuestions(wrapper, 'stackoverflow');

  test('turns the HTML body into plain paragraphs with entities decoded', () => {
    assert.equal(withBody!.text, "Synthetic question: running COPY t FROM 'data.csv' fails & prints:\n\nError: can't open file\n\nWhat am I missing?");
    assert.equal(withBody!.title, 'Synthetic: why does COPY fail with "can\'t open file"?');
    assert.equal(withBody!.author, 'José Synthetic');
  });

  test('falls back to the title when the body is empty, and keeps a deleted user\'s display name', () => {
    assert.equal(emptyBody!.text, 'Synthetic: a question whose body is empty');
    assert.equal(emptyBody!.author, 'user90000000');
  });
});

describe('Stack Exchange error wrappers (synthetic bodies)', () => {
  test('a throttle_violation is transient, retried after the seconds it names', () => {
    const error = apiError(JSON.parse(fixture('stackoverflow/error-throttle-violation-synthetic.json')), options);
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.permanent, false);
    assert.equal(error.retryAfterMs, 3_600_000);
    assert.match(error.message, /throttle_violation 502/);
  });

  test('a rejected key fails at once and names STACKEXCHANGE_KEY', () => {
    const error = apiError(JSON.parse(fixture('stackoverflow/error-bad-key-synthetic.json')), options);
    assert.equal(error.code, 'upstream_login_required');
    assert.equal(error.permanent, true);
    assert.match(error.message, /STACKEXCHANGE_KEY/);
  });

  test('an unknown site fails at once and names STACKEXCHANGE_SITE', () => {
    const error = apiError({ error_id: 400, error_name: 'bad_parameter', error_message: 'site is required' }, { site: 'nosuchsite' });
    assert.equal(error.code, 'invalid_query');
    assert.equal(error.permanent, true);
    assert.match(error.message, /STACKEXCHANGE_SITE/);
    assert.match(error.message, /"nosuchsite"/);
  });

  test('an internal error is transient', () => {
    const error = apiError({ error_id: 500, error_name: 'internal_error', error_message: 'boom' }, options);
    assert.equal(error.code, 'upstream_unavailable');
    assert.equal(error.permanent, false);
  });
});

describe('settings and limits', () => {
  test('runs without a key: missingSettings() is null, the quota is 300 a day, one request at a time', () => {
    const source = createSource({ env: new EnvReader({}) });
    assert.equal(source.name, 'stackoverflow');
    assert.equal(source.missingSettings(), null);
    assert.deepEqual(source.rateLimit, { requests: 300, perMs: 86_400_000, concurrency: 1 });
    assert.deepEqual(source.settings.map((s) => [s.name, s.secret ?? false, s.required ?? false]), [
      ['STACKEXCHANGE_SITE', false, false],
      ['STACKEXCHANGE_KEY', true, false],
    ]);
  });

  test('a key raises the limit to 10,000 a day', () => {
    const source = createSource({ env: new EnvReader({ STACKEXCHANGE_KEY: 'synthetic-key((' }) });
    assert.deepEqual(source.rateLimit, { requests: 10_000, perMs: 86_400_000, concurrency: 2 });
  });

  test('a malformed STACKEXCHANGE_SITE stops start-up with a message naming it', () => {
    assert.throws(() => createSource({ env: new EnvReader({ STACKEXCHANGE_SITE: 'https://superuser.com' }) }), (error: unknown) => error instanceof ConfigError && /^STACKEXCHANGE_SITE /.test(error.message));
  });

  test('counts the time to the quota reset to the next midnight UTC', () => {
    assert.equal(msUntilUtcMidnight(Date.parse('2024-05-01T23:00:00Z')), 3_600_000);
    assert.equal(msUntilUtcMidnight(Date.parse('2024-05-01T00:00:00Z')), 86_400_000);
  });
});

describe('scraping over a fake Stack Exchange API', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => upstream.reset());

  interface ScrapeOptions {
    limit: number;
    pageSize?: number;
    since?: HighWaterMark | null;
    query?: string;
    key?: string | null;
    site?: string;
  }

  async function scrape(t: TestContext, o: ScrapeOptions, pages: ScrapedPage[] = []): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const source = createStackOverflowSource({ site: o.site ?? 'stackoverflow', key: o.key ?? null, pageSize: o.pageSize ?? 100 });
    const ctx = withIntake({ query: o.query ?? 'duckdb', limit: o.limit, signal: new AbortController().signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since: o.since ?? null });
    for await (const page of source.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, o: ScrapeOptions, pages: ScrapedPage[] = []): Promise<JobError> {
    return rejected(scrape(t, o, pages));
  }

  const ids = (pages: ScrapedPage[]) => pages.flatMap((page) => page.posts.map((post) => post.externalId));
  const realIds = (from: number, to: number) => realItems.slice(from, to).map((item) => String(item.question_id));

  test('searches by creation date, newest first, with bodies, on the configured site, and sends the key only when set', async (t) => {
    serveStackExchange(upstream, realItems);
    await scrape(t, { limit: 50 });
    await scrape(t, { limit: 50, key: 'synthetic-key((', site: 'superuser' });
    const [keyless, keyed] = upstream.requests;
    assert.deepEqual(Object.fromEntries(keyless!.query), { q: 'duckdb', site: 'stackoverflow', sort: 'creation', order: 'desc', pagesize: '50', page: '1', filter: 'withbody' });
    assert.equal(keyed?.query.get('key'), 'synthetic-key((');
    assert.equal(keyed?.query.get('site'), 'superuser');
  });

  test('reads pages up to the limit and reports the site and quota', async (t) => {
    serveStackExchange(upstream, realItems);
    const pages = await scrape(t, { limit: 25, pageSize: 10 });
    assert.deepEqual(ids(pages), realIds(0, 25));
    assert.deepEqual(pages.map((page) => page.posts.length), [10, 10, 5]);
    assert.deepEqual(upstream.requests.map((r) => r.query.get('page')), ['1', '2', '3']);
    assert.deepEqual(pages.at(-1)!.meta, { site: 'stackoverflow', quota_max: 300, quota_remaining: 297 });
  });

  test('stops when has_more is false', async (t) => {
    serveStackExchange(upstream, realItems);
    const pages = await scrape(t, { limit: 100, pageSize: 10 });
    assert.deepEqual(ids(pages), realIds(0, 30));
    assert.equal(upstream.requests.length, 3);
    assert.equal(pages.at(-1)!.pagesPlanned, 3);
  });

  test('asks only for questions since the newest stored one and stops at it, reading no further page', async (t) => {
    serveStackExchange(upstream, realItems, { honourFromdate: false });
    const mark = realItems[12]!;
    const pages = await scrape(t, { limit: 100, pageSize: 10, since: { publishedAt: new Date(mark.creation_date * 1000), externalId: String(mark.question_id) } });
    assert.deepEqual(ids(pages), realIds(0, 12));
    assert.deepEqual(upstream.requests.map((r) => [r.query.get('page'), r.query.get('fromdate')]), [['1', String(mark.creation_date)], ['2', String(mark.creation_date)]]);
  });

  test('holds every request to the host for the backoff seconds a response names', async (t) => {
    serveStackExchange(upstream, realItems, { backoff: (page) => (page === 1 ? 1 : undefined) });
    const pages = await scrape(t, { limit: 20, pageSize: 10 });
    assert.equal(ids(pages).length, 20);
    const [first, second] = upstream.requests;
    assert.ok(second!.time - first!.endTime! >= 950, `page 2 was asked for ${second!.time - first!.endTime!} ms after page 1`);
  });

  test('keeps the page read and fails as transient until midnight UTC when the daily quota runs out', async (t) => {
    serveStackExchange(upstream, realItems, { quotaRemaining: () => 0 });
    const pages: ScrapedPage[] = [];
    const error = await scrapeError(t, { limit: 30, pageSize: 10 }, pages);
    assert.deepEqual(ids(pages), realIds(0, 10));
    assert.equal(upstream.requests.length, 1);
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.permanent, false);
    assert.ok(error.retryAfterMs! > 0 && error.retryAfterMs! <= 86_400_000);
    assert.match(error.message, /daily quota .*300 requests.* resets at midnight UTC/);
    assert.match(error.message, /set STACKEXCHANGE_KEY/);
  });

  test('finishes normally when the quota runs out on the last page it needs', async (t) => {
    serveStackExchange(upstream, realItems, { quotaRemaining: (page) => (page === 2 ? 0 : 10) });
    const pages = await scrape(t, { limit: 20, pageSize: 10 });
    assert.equal(ids(pages).length, 20);
  });

  test("reads the error an HTTP 400 carries: a refused key fails at once saying to check STACKEXCHANGE_KEY", async (t) => {
    upstream.on('GET', SEARCH, () => gzipJson(JSON.parse(fixture('stackoverflow/error-bad-key-synthetic.json')), 400));
    const error = await scrapeError(t, { limit: 20, key: 'synthetic-wrong' });
    assert.equal(error.code, 'upstream_login_required');
    assert.equal(error.permanent, true);
    assert.match(error.message, /STACKEXCHANGE_KEY/);
    assert.ok(!error.message.includes('synthetic-wrong'), 'the key never appears in messages');
    assert.equal(upstream.requests.length, 1);
  });

  test('a throttle_violation sent as HTTP 400 is a rate limit retried when Stack Exchange says', async (t) => {
    upstream.on('GET', SEARCH, () => gzipJson(JSON.parse(fixture('stackoverflow/error-throttle-violation-synthetic.json')), 400));
    const error = await scrapeError(t, { limit: 20 });
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.permanent, false);
  });

  test('an HTTP 400 without an error body still fails at once naming the usual causes', async (t) => {
    upstream.on('GET', SEARCH, () => ({ status: 400, body: 'Bad Request' }));
    const error = await scrapeError(t, { limit: 20 });
    assert.equal(error.code, 'upstream_bad_response');
    assert.match(error.message, /HTTP 400/);
    assert.match(error.message, /STACKEXCHANGE_SITE "stackoverflow"/);
  });

  test('maps an error wrapper that arrives with HTTP 200 to its failure', async (t) => {
    upstream.on('GET', SEARCH, () => gzipJson(JSON.parse(fixture('stackoverflow/error-throttle-violation-synthetic.json'))));
    const error = await scrapeError(t, { limit: 20 });
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.retryAfterMs, 3_600_000);
  });

  test('waits out a 429 with Retry-After: 1 and then reads the page', async (t) => {
    let calls = 0;
    upstream.on('GET', SEARCH, () => (++calls === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: '' } : gzipJson({ items: realItems.slice(0, 5), has_more: false, quota_max: 300, quota_remaining: 290 })));
    const pages = await scrape(t, { limit: 20 });
    assert.deepEqual(ids(pages), realIds(0, 5));
    const [first, second] = upstream.requests;
    assert.ok(second!.time - first!.endTime! >= 950, `the retry came ${second!.time - first!.endTime!} ms after the 429`);
  });

  test('refuses an empty query before sending anything', async (t) => {
    const error = await scrapeError(t, { limit: 20, query: ' ' });
    assert.equal(error.code, 'invalid_query');
    assert.equal(upstream.requests.length, 0);
  });
});

describe('a stackoverflow job through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    serveStackExchange(upstream, realItems);
    pipeline = await startPipeline('source_stackoverflow', { SOURCE_BASE_URL_STACKOVERFLOW: upstream.baseUrl });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  test('completes, stores the 30 recorded questions with their tags, and reports the quota left', async () => {
    const job = await pipeline.scrape('stackoverflow', 'duckdb', { limit: 50 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.result?.found, 30);
    assert.equal(job.result?.inserted, 30);
    assert.equal(job.result?.quota_remaining, 299);
    const rows = await pipeline.services.sql<{ external_id: string; title: string; author: string; extra: { tags: string[] } }[]>`
      select external_id, title, author, extra from posts where source = 'stackoverflow' order by published_at desc`;
    assert.equal(rows.length, 30);
    assert.equal(rows[0]?.external_id, '75805412');
    assert.equal(rows[0]?.author, 'Mark Harrison');
    assert.deepEqual(rows[1]?.extra.tags, ['python', 'json', 'python-3.x', 'duckdb']);
  });
});
