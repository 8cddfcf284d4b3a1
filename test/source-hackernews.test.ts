import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark, ScrapedPost } from '../lib/model/post.ts';
import { createHackerNewsSource, createSource, parseHits } from '../lib/sources/hackernews.ts';
import type { ScrapedPage } from '../lib/sources/types.ts';
import { type FakeUpstream, type Reply, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected } from './helpers/job-errors.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

type Hit = Record<string, unknown> & { objectID: string; created_at_i: number };

const capture = JSON.parse(fixture('hackernews/search-by-date-nodejs-2017-09.json')) as { hits: Hit[] };
const realHits = capture.hits;
const API_URL = 'https://hn.algolia.com/api/v1/search_by_date?query=nodejs';

/** `count` comment hits, one every `stepSeconds` going back from 2024-01-01, ids counting down (all made up). */
function syntheticHits(count: number, stepSeconds = 7): Hit[] {
  const newest = Date.UTC(2024, 0, 1) / 1000;
  return Array.from({ length: count }, (_, i) => ({
    objectID: String(90_000_000 - i),
    created_at_i: newest - i * stepSeconds,
    created_at: new Date((newest - i * stepSeconds) * 1000).toISOString(),
    author: 'synthetic',
    comment_text: `<p>Synthetic comment ${i}`,
    story_title: 'Synthetic story',
    story_id: 80_000_000,
    parent_id: 80_000_000,
    _tags: ['comment', 'author_synthetic', 'story_80000000'],
  }));
}

const FILTER = /^created_at_i(<=|>=|<|>|=)(\d+)$/;

/**
 * Answers /search_by_date from `hits` as Algolia does: newest first, numericFilters on created_at_i applied,
 * and nothing past the 1,000th hit of a query, whatever `page` asks for.
 */
function serveAlgolia(upstream: FakeUpstream, hits: Hit[]): void {
  upstream.on('GET', '/api/v1/search_by_date', (req): Reply => {
    const hitsPerPage = Number(req.query.get('hitsPerPage') ?? 20);
    const page = Number(req.query.get('page') ?? 0);
    const filters = (req.query.get('numericFilters') ?? '').split(',').filter(Boolean).map((filter) => FILTER.exec(filter));
    if (filters.some((match) => !match) || hitsPerPage > 1000) {
      return { status: 400, headers: { 'content-type': 'application/json' }, body: '{"message":"invalid parameters","status":400}' };
    }
    const matching = hits
      .filter((hit) => filters.every((match) => compare(hit.created_at_i, match![1]!, Number(match![2]))))
      .sort((a, b) => b.created_at_i - a.created_at_i);
    const capped = matching.slice(0, 1000);
    const body = {
      hits: capped.slice(page * hitsPerPage, (page + 1) * hitsPerPage),
      nbHits: matching.length,
      page,
      nbPages: Math.ceil(capped.length / hitsPerPage),
      hitsPerPage,
    };
    return { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
  });
}

function compare(value: number, operator: string, bound: number): boolean {
  if (operator === '<=') return value <= bound;
  if (operator === '>=') return value >= bound;
  if (operator === '<') return value < bound;
  if (operator === '>') return value > bound;
  return value === bound;
}

describe('parseHits on the real 2017 search_by_date capture', () => {
  const posts = parseHits(capture, API_URL);

  test('reads a comment: item link, author, "Re:" title, plain text with entities decoded, story and parent ids', () => {
    const comment = posts[0]!;
    assert.equal(comment.externalId, '15353312');
    assert.equal(comment.url, 'https://news.ycombinator.com/item?id=15353312');
    assert.equal(comment.author, 'RealJon');
    assert.equal(comment.title, 'Re: Open-Sourcing Vespa, Yahoo’s Data Processing and Serving Engine');
    assert.equal(
      comment.text,
      "You don't need to plug in any Java code, you can use it with HTTP calls to read and write.\n\n" +
        'No plans to break it up into pieces (apart from already consisting of modules). It does one thing, it just happens to be a big thing :-)\n\n' +
        'If you have a mac of Linux box you can have it up and running in 10 minutes. Multi-node production deployments are no different because Vespa manages the nodes, not you directly.',
    );
    assert.equal(comment.rating, null);
    assert.equal(comment.language, null);
    assert.equal(comment.publishedAt.toISOString(), '2017-09-27T23:33:24.000Z');
    assert.equal(comment.reply, null);
    assert.deepEqual(comment.extra, {
      type: 'comment',
      story_id: 15345483,
      parent_id: 15352681,
      num_comments: null,
      link_url: 'https://www.oath.com/press/open-sourcing-vespa-yahoo-s-big-data-processing-and-serving-eng/',
    });
  });

  test('reads a link story: its own title, its points as rating, and the address it links to as text', () => {
    const story = posts.find((post) => post.externalId === '15348473')!;
    assert.equal(story.title, 'Node v8.6.0');
    assert.equal(story.author, 'nikolay');
    assert.equal(story.rating, 1);
    assert.equal(story.text, 'https://nodejs.org/en/blog/release/v8.6.0/');
    assert.equal(story.publishedAt.toISOString(), '2017-09-27T15:06:14.000Z');
    assert.deepEqual(story.extra, { type: 'story', story_id: 15348473, parent_id: null, num_comments: 2, link_url: 'https://nodejs.org/en/blog/release/v8.6.0/' });
  });

  test('finds 16 comments and 4 stories, newest first', () => {
    assert.equal(posts.length, 20);
    assert.equal(posts.filter((post) => post.extra.type === 'comment').length, 16);
    assert.deepEqual(posts.filter((post) => post.extra.type === 'story').map((post) => post.externalId), ['15353234', '15353081', '15348473', '15347443']);
    assert.equal(posts.at(-1)!.publishedAt.toISOString(), '2017-09-27T08:44:53.000Z');
    assert.ok(posts.every((post, i) => i === 0 || post.publishedAt <= posts[i - 1]!.publishedAt));
  });

  test('strips <i> and <p> and decodes &gt;, &#x27; and &quot; in comment text', () => {
    const quoting = posts.find((post) => post.externalId === '15348128')!;
    assert.match(quoting.text, /^>Anyway, so far we've built Shelf primarily on a NodeJs stack \[\.\.\.\]/);
    assert.match(quoting.text, /help filter \(or "screen" as your landing pages call it\)/);
    assert.ok(posts.every((post) => !/<\w|&(?:#x?[0-9a-f]+|[a-z]+);/i.test(post.text)), 'no tags or entities left in any text');
  });

  test('reads an Ask HN story from its story_text (synthetic hit)', () => {
    const [story] = parseHits({ hits: [{ objectID: '1', created_at_i: 1_700_000_000, title: 'Ask HN: Synthetic?', story_text: 'Synthetic &amp; text<p>Second paragraph', points: 3, num_comments: 4, _tags: ['story', 'ask_hn'] }] }, API_URL);
    assert.equal(story!.text, 'Synthetic & text\n\nSecond paragraph');
    assert.equal(story!.title, 'Ask HN: Synthetic?');
    assert.equal(story!.extra.link_url, null);
  });

  test('rejects a body without a hits list as upstream_bad_response', () => {
    assert.throws(() => parseHits({ message: 'changed' }, API_URL), (error: unknown) => error instanceof JobError && error.code === 'upstream_bad_response' && error.permanent);
  });
});

describe('scraping over a fake HN Search API', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => upstream.reset());

  async function scrape(t: TestContext, options: { limit: number; pageSize?: number; since?: HighWaterMark | null; query?: string }): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const source = createHackerNewsSource({ pageSize: options.pageSize ?? 100 });
    const pages: ScrapedPage[] = [];
    const ctx = withIntake({ query: options.query ?? 'nodejs', limit: options.limit, signal: new AbortController().signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since: options.since ?? null });
    for await (const page of source.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, options: Parameters<typeof scrape>[1]): Promise<JobError> {
    return rejected(scrape(t, options));
  }

  const ids = (pages: ScrapedPage[]) => pages.flatMap((page) => page.posts.map((post: ScrapedPost) => post.externalId));

  test('asks for stories and comments, newest first, with the query and page size', async (t) => {
    serveAlgolia(upstream, realHits);
    await scrape(t, { limit: 50 });
    const [request] = upstream.requests;
    assert.equal(request?.path, '/api/v1/search_by_date');
    assert.equal(request?.query.get('query'), 'nodejs');
    assert.equal(request?.query.get('tags'), '(story,comment)');
    assert.equal(request?.query.get('hitsPerPage'), '50');
    assert.equal(request?.query.get('numericFilters'), null);
  });

  test('pages by time window up to the limit, re-reading the oldest second of each page', async (t) => {
    serveAlgolia(upstream, realHits);
    const pages = await scrape(t, { limit: 15, pageSize: 8 });
    assert.deepEqual(ids(pages), realHits.slice(0, 15).map((hit) => hit.objectID));
    assert.deepEqual(pages.map((page) => page.posts.length), [8, 7]);
    assert.deepEqual(upstream.requests.map((r) => r.query.get('numericFilters')), [null, `created_at_i<=${realHits[7]!.created_at_i}`]);
    assert.ok(upstream.requests.every((r) => !r.query.has('page')));
    assert.equal(pages[0]!.pagesPlanned, 2);
  });

  test('stops when a window returns fewer hits than asked for', async (t) => {
    serveAlgolia(upstream, realHits);
    const pages = await scrape(t, { limit: 100, pageSize: 8 });
    assert.deepEqual(ids(pages), realHits.map((hit) => hit.objectID));
    assert.equal(upstream.requests.length, 3);
    assert.equal(pages.at(-1)!.pagesPlanned, 3);
  });

  test("reads past Algolia's 1,000-hit cap by moving the window, never asking for page=", async (t) => {
    const hits = syntheticHits(1_500);
    serveAlgolia(upstream, hits);
    const pages = await scrape(t, { limit: 1_200 });
    const read = ids(pages);
    assert.equal(read.length, 1_200);
    assert.equal(new Set(read).size, 1_200);
    assert.deepEqual(read, hits.slice(0, 1_200).map((hit) => hit.objectID));
    assert.ok(upstream.requests.every((r) => !r.query.has('page') && r.query.get('hitsPerPage') === '100'));
  });

  test('keeps hits that share a second across a page boundary', async (t) => {
    const plain = syntheticHits(10);
    const shared = plain[2]!.created_at_i;
    const hits = plain.map((hit, i) => (i >= 2 && i <= 4 ? { ...hit, created_at_i: shared } : hit));
    serveAlgolia(upstream, hits);
    const read = ids(await scrape(t, { limit: 10, pageSize: 4 }));
    assert.deepEqual(read, hits.map((hit) => hit.objectID));
    assert.equal(upstream.requests[1]?.query.get('numericFilters'), `created_at_i<=${shared}`);
  });

  test('moves below a second that fills a whole page instead of asking for it forever', async (t) => {
    const second = syntheticHits(1)[0]!.created_at_i - 100;
    const hits = [...syntheticHits(2), ...syntheticHits(6).map((hit, i) => ({ ...hit, objectID: `7000000${i}`, created_at_i: second })), ...syntheticHits(3, 1_000).slice(1)];
    serveAlgolia(upstream, hits);
    const read = ids(await scrape(t, { limit: 50, pageSize: 4 }));
    assert.equal(new Set(read).size, read.length, 'no hit twice');
    assert.ok(read.includes(hits.at(-1)!.objectID), 'reads on past the crowded second');
    assert.deepEqual(upstream.requests.map((r) => r.query.get('numericFilters')).slice(-1), [`created_at_i<=${second - 1}`]);
  });

  test('asks only for items since the newest stored post and stops at it, reading no further window', async (t) => {
    serveAlgolia(upstream, realHits);
    const mark = realHits[5]!;
    const since = { publishedAt: new Date(mark.created_at_i * 1000), externalId: mark.objectID };
    const pages = await scrape(t, { limit: 100, pageSize: 4, since });
    assert.deepEqual(ids(pages), realHits.slice(0, 5).map((hit) => hit.objectID));
    assert.deepEqual(upstream.requests.map((r) => r.query.get('numericFilters')), [
      `created_at_i>=${mark.created_at_i}`,
      `created_at_i>=${mark.created_at_i},created_at_i<=${realHits[3]!.created_at_i}`,
    ]);
  });

  test('stops at the stored post even when the upstream ignores the time filter', async (t) => {
    upstream.on('GET', '/api/v1/search_by_date', () => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hits: realHits.slice(0, 8), nbHits: 36_255 }) }));
    const mark = realHits[5]!;
    const pages = await scrape(t, { limit: 100, pageSize: 8, since: { publishedAt: new Date(mark.created_at_i * 1000), externalId: mark.objectID } });
    assert.deepEqual(ids(pages), realHits.slice(0, 5).map((hit) => hit.objectID));
    assert.equal(upstream.requests.length, 1);
  });

  test('needs no settings: missingSettings() is null and an empty environment builds the source', () => {
    const source = createSource({ env: new EnvReader({}) });
    assert.equal(source.name, 'hackernews');
    assert.equal(source.missingSettings(), null);
    assert.deepEqual(source.settings, []);
    assert.equal(source.rateLimit.requests * (3_600_000 / source.rateLimit.perMs), 10_000);
  });

  test('fails at once as upstream_blocked when Algolia refuses this IP address (HTTP 403)', async (t) => {
    upstream.on('GET', '/api/v1/search_by_date', () => ({ status: 403, body: '{"message":"blocked"}' }));
    const error = await scrapeError(t, { limit: 20 });
    assert.equal(error.code, 'upstream_blocked');
    assert.equal(error.permanent, true);
    assert.equal(upstream.requests.length, 1);
  });

  test('waits out a 429 with Retry-After: 1 and then reads the page', async (t) => {
    let calls = 0;
    upstream.on('GET', '/api/v1/search_by_date', (): Reply =>
      ++calls === 1
        ? { status: 429, headers: { 'retry-after': '1' }, body: '' }
        : { headers: { 'content-type': 'application/json' }, body: fixture('hackernews/search-by-date-nodejs-2017-09.json') },
    );
    const pages = await scrape(t, { limit: 20 });
    assert.equal(ids(pages).length, 20);
    const [first, second] = upstream.requests;
    assert.ok(second!.time - first!.endTime! >= 950, `the retry came ${second!.time - first!.endTime!} ms after the 429`);
  });

  test('fails as upstream_bad_response when the API answers with HTML', async (t) => {
    upstream.on('GET', '/api/v1/search_by_date', () => ({ headers: { 'content-type': 'text/html' }, body: '<html><title>Blocked</title></html>' }));
    const error = await scrapeError(t, { limit: 20 });
    assert.equal(error.code, 'upstream_bad_response');
    assert.equal(error.permanent, true);
  });

  test('refuses an empty query before sending anything', async (t) => {
    const error = await scrapeError(t, { limit: 20, query: '   ' });
    assert.equal(error.code, 'invalid_query');
    assert.equal(upstream.requests.length, 0);
  });
});

describe('a hackernews job through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    serveAlgolia(upstream, realHits);
    pipeline = await startPipeline('source_hackernews', { SOURCE_BASE_URL_HACKERNEWS: upstream.baseUrl });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  test('completes, stores the 20 recorded hits, and finds nothing new on the next run', async () => {
    const job = await pipeline.scrape('hackernews', 'nodejs', { limit: 50 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.result?.found, 20);
    assert.equal(job.result?.inserted, 20);
    const rows = await pipeline.services.sql<{ external_id: string; title: string | null; body: string; extra: { type: string } }[]>`
      select external_id, title, body, extra from posts where source = 'hackernews' order by published_at desc`;
    assert.equal(rows.length, 20);
    assert.equal(rows[0]?.external_id, '15353312');
    assert.equal(rows[0]?.extra.type, 'comment');
    assert.equal(rows[1]?.title, 'Node8’s util.promisify is so freakin’ awesome');

    const again = await pipeline.scrape('hackernews', 'nodejs', { limit: 50 });
    assert.equal(again.status, 'completed', JSON.stringify(again.error));
    assert.equal(again.result?.incremental, true);
    assert.equal(again.result?.found, 0);
    assert.equal(upstream.requests.at(-1)?.query.get('numericFilters'), `created_at_i>=${realHits[0]!.created_at_i}`);
  });
});
