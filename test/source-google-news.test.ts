import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark } from '../lib/model/post.ts';
import { parseFeed } from '../lib/scrape/feed.ts';
import { createSource, parseSearchFeed, searchUrl, splitTitle } from '../lib/sources/google-news.ts';
import type { ScrapedPage, Source } from '../lib/sources/types.ts';
import { fixture, startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected, thrown } from './helpers/job-errors.ts';
import { startPipeline, type Pipeline } from './helpers/pipeline.ts';

const JP = fixture('google-news/gnews-top-jp-2024-02-prettified.xml');
const US = fixture('google-news/gnews-top-us-2019-11.xml');
const SEARCH = fixture('google-news/search-ovhcloud-synthetic.xml');
const CONSENT = fixture('google-news/consent-synthetic.html');
const SORRY = fixture('google-news/sorry-synthetic.html');
const FEED_URL = 'https://news.google.com/rss/search?q=ovhcloud&hl=en-US&gl=US&ceid=US:en';

describe('parseSearchFeed on the real, prettified JP top-stories capture', () => {
  const posts = parseSearchFeed(JP, 'https://news.google.com/rss?hl=ja&gl=JP&ceid=JP:ja');

  test('reads all 30 items with their padding trimmed', () => {
    assert.equal(posts.length, 30);
    assert.equal(new Set(posts.map((p) => p.externalId)).size, 30);
    assert.ok(posts.every((p) => p.externalId === p.externalId.trim() && p.url.startsWith('https://news.google.com/rss/articles/')));
  });

  test('reads every field of the first item, splitting the publisher off the title', () => {
    const post = posts[0]!;
    assert.equal(post.externalId, 'CBMiN2h0dHBzOi8vd3d3LmFzYWhpLmNvbS9hcnRpY2xlcy9BU1MyNTZIR1ZTMjRVVElMMDBYLmh0bWzSAQA');
    assert.equal(post.url, 'https://news.google.com/rss/articles/CBMiN2h0dHBzOi8vd3d3LmFzYWhpLmNvbS9hcnRpY2xlcy9BU1MyNTZIR1ZTMjRVVElMMDBYLmh0bWzSAQA?oc=5');
    assert.equal(post.title, '盛山文科相、旧統一教会系から選挙支援 21年衆院選 関係者が証言：朝日新聞デジタル');
    assert.equal(post.author, '朝日新聞デジタル');
    assert.equal(post.publishedAt.toISOString(), '2024-02-05T19:00:00.000Z');
    assert.equal(post.language, 'ja');
    assert.equal(post.rating, null);
    assert.equal(post.reply, null);
    assert.deepEqual(post.extra, { publisher: '朝日新聞デジタル', publisher_url: 'https://www.asahi.com' });
  });

  test('turns the description, an HTML list of related headlines, into one paragraph per headline', () => {
    const paragraphs = posts[0]!.text.split('\n\n');
    assert.equal(paragraphs.length, 5);
    assert.equal(paragraphs[1], '盛山文科相 旧統一から選挙支援か - Yahoo!ニュース Yahoo!ニュース');
    assert.equal(paragraphs[4], '盛山文科相、旧統一教会系から選挙支援 21年衆院選 関係者が証言 goo.ne.jp');
    assert.ok(posts.every((p) => !/[<>]|&nbsp;|&amp;/.test(p.text)));
  });
});

describe('parseSearchFeed on the real 2019 US capture (old link and guid format)', () => {
  const posts = parseSearchFeed(US, 'https://news.google.com/rss?hl=en-US&gl=US&ceid=US:en');

  test('reads the 38 items with numeric guids and __i/rss/rd links', () => {
    assert.equal(posts.length, 38);
    const post = posts[0]!;
    assert.equal(post.externalId, '52780435491242');
    assert.match(post.url, /^https:\/\/news\.google\.com\/__i\/rss\/rd\/articles\/CBMihAFodHRwczovL3d3dy53YXNoaW5ndG9ucG9zdC5jb20v.*\?oc=5$/);
    assert.equal(post.title, 'Live updates: Trump asserts ‘normal people’ would close the case on his impeachment');
    assert.equal(post.author, 'The Washington Post');
    assert.equal(post.publishedAt.toISOString(), '2019-11-14T15:28:00.000Z');
    assert.equal(post.language, 'en-US');
    assert.equal(post.extra.publisher_url, 'https://www.washingtonpost.com');
    assert.match(post.text, /^Live updates: Trump asserts ‘normal people’ .* The Washington Post\n\nMost important takeaways from the first day of public impeachment hearings CNN\n\n/);
  });
});

describe('parseSearchFeed on a search feed', () => {
  const posts = parseSearchFeed(SEARCH, FEED_URL);
  const byId = (id: string) => posts.find((p) => p.externalId === id)!;

  test('reads the six results in feed order', () => {
    assert.deepEqual(posts.map((p) => p.externalId.slice(-2)), ['01', '02', '03', '04', '05', '06']);
    const post = byId('CBMiSYNTHETIC-ovhcloud-01');
    assert.equal(post.url, 'https://news.google.com/rss/articles/CBMiSYNTHETIC-ovhcloud-01?oc=5');
    assert.equal(post.title, 'OVHcloud reports first-half revenue up 11% as sovereign cloud demand grows');
    assert.equal(post.author, 'Synthetic Wire');
    assert.equal(post.text, 'OVHcloud reports first-half revenue up 11% as sovereign cloud demand grows Synthetic Wire');
    assert.equal(post.language, 'en-US');
  });

  test('keeps a publisher whose name contains " - " whole, because <source> names it', () => {
    assert.equal(byId('CBMiSYNTHETIC-ovhcloud-02').title, 'OVHcloud to open three new Local Zones in Europe');
    assert.equal(byId('CBMiSYNTHETIC-ovhcloud-02').author, 'Synthetic Tech Daily - Europe');
  });

  test('decodes entities in titles and descriptions', () => {
    const post = byId('CBMiSYNTHETIC-ovhcloud-03');
    assert.equal(post.title, 'Q&A: OVHcloud’s CEO on AI, GPUs & “trusted cloud”');
    assert.equal(post.text, 'Q&A: OVHcloud’s CEO on AI, GPUs & “trusted cloud” Synthetic Weekly');
  });

  test('splits at the last " - " when an item has no <source>', () => {
    const post = byId('CBMiSYNTHETIC-ovhcloud-05');
    assert.equal(post.title, 'OVHcloud shares climb after results');
    assert.deepEqual([post.author, post.extra.publisher_url], ['Synthetic Markets', null]);
  });

  test('splitTitle leaves a title without a publisher as it is', () => {
    assert.deepEqual(splitTitle('No publisher here', null), { headline: 'No publisher here', publisher: null });
    assert.deepEqual(splitTitle('Left - right - Publisher', null), { headline: 'Left - right', publisher: 'Publisher' });
    assert.deepEqual(splitTitle('Headline - A - B', 'A - B'), { headline: 'Headline', publisher: 'A - B' });
  });
});

describe('parseFeed on RSS 2.0 written by hand', () => {
  test('prefers content:encoded, reads CDATA and dc:creator, and returns null for anything but rss or feed', () => {
    const rss = `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title> Synthetic </title>
      <item><guid>synthetic-1</guid><title>A &amp; B</title><link>https://synthetic.example/1</link><dc:creator>Ann</dc:creator>
      <description>short</description><content:encoded><![CDATA[<p>Full &amp; long</p>]]></content:encoded><category>one</category>
      <dc:date>2024-03-15T10:00:00Z</dc:date></item></channel></rss>`;
    const feed = parseFeed(rss);
    assert.equal(feed?.format, 'rss');
    assert.equal(feed?.title, 'Synthetic');
    assert.deepEqual(feed?.entries[0], {
      id: 'synthetic-1',
      link: 'https://synthetic.example/1',
      title: 'A & B',
      author: 'Ann',
      publishedAt: new Date('2024-03-15T10:00:00Z'),
      updatedAt: null,
      html: '<p>Full &amp; long</p>',
      source: null,
      categories: [{ term: 'one', label: null }],
    });
    assert.equal(parseFeed('<!DOCTYPE html><html><body>x</body></html>'), null);
    assert.equal(parseFeed('not xml at all'), null);
  });
});

describe('parseSearchFeed on pages that are not feeds', () => {
  test("rejects Google's cookie-consent page as upstream_blocked, saying what it is", () => {
    const error = thrown(() => parseSearchFeed(CONSENT, 'https://consent.google.com/ml?continue=https://news.google.com/rss/search?q=ovhcloud'));
    assert.deepEqual([error.code, error.permanent], ['upstream_blocked', true]);
    assert.match(error.message, /cookie-consent page \(consent\.google\.com\/ml\)/);
    assert.doesNotMatch(error.message, /continue=/);
  });

  test('rejects the "unusual traffic" page as upstream_blocked', () => {
    const error = thrown(() => parseSearchFeed(SORRY, 'https://www.google.com/sorry/index?continue=x'));
    assert.equal(error.code, 'upstream_blocked');
    assert.match(error.message, /"unusual traffic" page .*RATE_LIMIT_GOOGLE_NEWS/);
  });

  test('rejects any other HTML as upstream_bad_response', () => {
    const error = thrown(() => parseSearchFeed('<!DOCTYPE html><html><body>Moved</body></html>', FEED_URL));
    assert.equal(error.code, 'upstream_bad_response');
    assert.match(error.message, /not an RSS feed \(an HTML page\)/);
  });
});

describe('the google-news source', () => {
  test('needs no credentials: missingSettings is null and every setting has a default', () => {
    const source = createSource({ env: new EnvReader({}) });
    assert.equal(source.missingSettings(), null);
    assert.deepEqual(source.settings.map((s) => [s.name, s.required ?? false]), [
      ['GOOGLE_NEWS_HL', false],
      ['GOOGLE_NEWS_GL', false],
      ['GOOGLE_NEWS_CEID', false],
    ]);
    assert.deepEqual(source.rateLimit, { requests: 1, perMs: 2_000, concurrency: 1 });
  });

  test('builds the search address with the query and the edition encoded', () => {
    const url = searchUrl('https://news.google.com', '"BT broadband" outage', { hl: 'en-US', gl: 'US', ceid: 'US:en' });
    assert.equal(url, 'https://news.google.com/rss/search?q=%22BT+broadband%22+outage&hl=en-US&gl=US&ceid=US%3Aen');
  });

  test('refuses an empty query or one with control characters', () => {
    const news = source({});
    assert.match(news.validateQuery?.('  ') ?? '', /query must be a Google News search/);
    assert.match(news.validateQuery?.('a\nb') ?? '', /control characters/);
    assert.match(news.validateQuery?.('x'.repeat(501)) ?? '', /at most 500 characters/);
  });
});

function source(env: Record<string, string>): Source {
  return createSource({ env: new EnvReader(env) });
}

describe('scraping over a fake Google News', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => upstream.reset());

  async function scrape(t: TestContext, options: { limit?: number; since?: HighWaterMark | null; env?: Record<string, string> } = {}): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const ctx = withIntake({ query: 'ovhcloud', limit: options.limit ?? 50, signal: new AbortController().signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since: options.since ?? null });
    const pages: ScrapedPage[] = [];
    for await (const page of source(options.env ?? {}).scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext): Promise<JobError> {
    return rejected(scrape(t));
  }

  test('sends one search request for the configured edition', async (t) => {
    upstream.on('GET', '/rss/search', () => ({ body: SEARCH }));
    await scrape(t, { env: { GOOGLE_NEWS_HL: 'fr', GOOGLE_NEWS_GL: 'FR' } });
    await scrape(t, { env: { GOOGLE_NEWS_HL: 'pt-BR', GOOGLE_NEWS_GL: 'BR', GOOGLE_NEWS_CEID: 'BR:pt-419' } });
    await scrape(t);
    assert.deepEqual(upstream.requests.map((r) => [r.path, r.query.get('q'), r.query.get('hl'), r.query.get('gl'), r.query.get('ceid')]), [
      ['/rss/search', 'ovhcloud', 'fr', 'FR', 'FR:fr'],
      ['/rss/search', 'ovhcloud', 'pt-BR', 'BR', 'BR:pt-419'],
      ['/rss/search', 'ovhcloud', 'en-US', 'US', 'US:en'],
    ]);
  });

  test('yields one page, newest first, trimmed to the limit', async (t) => {
    upstream.on('GET', '/rss/search', () => ({ body: US }));
    const pages = await scrape(t, { limit: 10 });
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual(pages.map((p) => [p.page, p.pagesPlanned, p.posts.length]), [[1, 1, 10]]);
    const times = pages[0]!.posts.map((p) => p.publishedAt.toISOString());
    assert.deepEqual(times.slice(0, 3), ['2019-11-14T15:28:00.000Z', '2019-11-14T15:13:00.000Z', '2019-11-14T15:04:00.000Z']);
    assert.deepEqual(times, [...times].sort().reverse());
  });

  test('keeps only the items newer than the newest post an earlier run stored', async (t) => {
    upstream.on('GET', '/rss/search', () => ({ body: SEARCH }));
    const mark = { externalId: 'CBMiSYNTHETIC-ovhcloud-05', publishedAt: new Date('2024-03-14T12:00:00Z') };
    const pages = await scrape(t, { since: mark });
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual(pages[0]!.posts.map((p) => p.externalId), ['CBMiSYNTHETIC-ovhcloud-03']);
  });

  test('waits out a 429 with Retry-After: 1 and then reads the feed', async (t) => {
    let calls = 0;
    upstream.on('GET', '/rss/search', () => (++calls === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { body: SEARCH }));
    const pages = await scrape(t);
    assert.equal(upstream.requests.length, 2);
    assert.ok(upstream.requests[1]!.time - upstream.requests[0]!.time >= 950);
    assert.equal(pages[0]!.posts.length, 6);
  });

  test('fails for good with upstream_blocked when Google redirects to its consent page', async (t) => {
    upstream.on('GET', '/rss/search', () => ({ status: 302, headers: { location: '/ml?continue=https%3A%2F%2Fnews.google.com%2Frss%2Fsearch' } }));
    upstream.on('GET', '/ml', () => ({ headers: { 'content-type': 'text/html; charset=utf-8' }, body: CONSENT }));
    const error = await scrapeError(t);
    assert.deepEqual([error.code, error.permanent], ['upstream_blocked', true]);
    assert.match(error.message, /cookie-consent page/);
  });

  test('fails for good with upstream_blocked when the feed is answered by the "unusual traffic" page', async (t) => {
    upstream.on('GET', '/rss/search', () => ({ status: 302, headers: { location: '/sorry/index?continue=x' } }));
    upstream.on('GET', '/sorry/index', () => ({ body: SORRY }));
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_blocked');
    assert.match(error.message, /"unusual traffic" page/);
  });
});

describe('a google-news job through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    upstream.on('GET', '/rss/search', () => ({ headers: { 'content-type': 'application/xml; charset=UTF-8' }, body: SEARCH }));
    pipeline = await startPipeline('google_news', { SOURCE_BASE_URL_GOOGLE_NEWS: upstream.baseUrl });
  });
  after(async () => {
    await pipeline.close();
    await upstream.close();
  });

  test('stores the six results, then finds nothing new on the next run', async () => {
    const job = await pipeline.scrape('google-news', 'ovhcloud', { limit: 50 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual([job.result?.found, job.result?.inserted, job.result?.pages], [6, 6, 1]);
    const rows = await pipeline.services.sql<{ external_id: string; author: string; title: string; extra: { publisher: string } }[]>`
      select external_id, author, title, extra from posts where source = 'google-news' and query = 'ovhcloud' order by published_at desc`;
    assert.deepEqual(rows.map((r) => r.external_id.slice(-2)), ['03', '05', '01', '02', '04', '06']);
    assert.deepEqual([rows[0]?.author, rows[0]?.extra.publisher], ['Synthetic Weekly', 'Synthetic Weekly']);

    const again = await pipeline.scrape('google-news', 'ovhcloud', { limit: 50 });
    assert.equal(again.status, 'completed');
    assert.deepEqual([again.result?.found, again.result?.inserted, again.result?.incremental], [0, 0, true]);
    assert.equal(upstream.requests.length, 2);
  });
});
