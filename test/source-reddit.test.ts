import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient, type HttpClient, type RequestOptions } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark } from '../lib/model/post.ts';
import { parseFeed } from '../lib/scrape/feed.ts';
import { createSource, parseListing, parseSearchFeed } from '../lib/sources/reddit.ts';
import type { ScrapedPage, Source } from '../lib/sources/types.ts';
import { fixture, startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected, thrown } from './helpers/job-errors.ts';
import { startPipeline, type Pipeline } from './helpers/pipeline.ts';

const SEARCH_PAGE_1 = fixture('reddit/go-reddit-search-posts-2020-08.json');
const SEARCH_PAGE_2 = fixture('reddit/search-page2-synthetic.json');
const SIMULATED = fixture('reddit/r-simulated-listing-2018-02.json');
const FEED_PAGE_1 = fixture('reddit/search-rss-synthetic.xml');
const FEED_PAGE_2 = fixture('reddit/search-rss-page2-synthetic.xml');
/** What the feed answers past its last entry: an Atom feed with no entries (written here, no capture exists). */
const FEED_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>reddit.com: search results - ovhcloud</title></feed>';
const FEED_URL = 'https://www.reddit.com/search.rss?q=ovhcloud&sort=new&limit=100';
const CREDENTIALS = { REDDIT_CLIENT_ID: 'synthetic-client-id', REDDIT_CLIENT_SECRET: 'synthetic-client-secret' };

describe('parseListing on the real search capture (2020)', () => {
  const { posts, after: next } = parseListing(JSON.parse(SEARCH_PAGE_1));

  test('maps every field of the first t3 post', () => {
    assert.equal(posts.length, 2);
    assert.deepEqual(posts[0], {
      externalId: 't3_hybow9',
      url: 'https://www.reddit.com/r/WatchPeopleDieInside/comments/hybow9/pregnancy_test/',
      author: 'chocolat_ice_cream',
      title: 'Pregnancy test',
      text: '',
      rating: 103829,
      language: null,
      publishedAt: new Date('2020-07-26T18:14:24.000Z'),
      reply: null,
      extra: { subreddit: 'WatchPeopleDieInside', num_comments: 3748, url: 'https://v.redd.it/ra4qnt8bt8d51', over_18: false, partial: false },
    });
  });

  test('reads the link target of a link post and the cursor to the next page', () => {
    assert.equal(posts[1]?.externalId, 't3_hmwhd7');
    assert.equal(posts[1]?.extra.url, 'https://www.theguardian.com/world/2020/jul/07/jair-bolsonaro-coronavirus-positive-test-brazil-president');
    assert.equal(posts[1]?.publishedAt.toISOString(), '2020-07-07T15:19:42.000Z');
    assert.equal(next, 't3_hmwhd7');
  });
});

describe('parseListing on the real r/Simulated listing (2018, fetched without raw_json)', () => {
  const { posts, after: next } = parseListing(JSON.parse(SIMULATED));
  const byId = (id: string) => posts.find((p) => p.externalId === id)!;

  test('reads all 27 posts and the cursor', () => {
    assert.equal(posts.length, 27);
    assert.equal(new Set(posts.map((p) => p.externalId)).size, 27);
    assert.equal(next, 't3_7yqok1');
  });

  test('reads float created_utc as a date', () => {
    assert.equal(byId('t3_7ep14i').publishedAt.toISOString(), '2017-11-22T07:02:54.000Z');
  });

  test('decodes the entities Reddit escaped in selftext and link targets', () => {
    const contest = byId('t3_7vkkzd');
    assert.match(contest.text, /^Hey!\n\nMy fingers are extremely stiff right now/);
    assert.match(contest.text, /\n\n>Anyway, I choose\.\.\. "Worthy of \/r\/shittysimulated"\./);
    assert.match(contest.text, /search\?q=February\+Contest&restrict_sr=on&sort=top&t=month\)/);
    assert.match(contest.text, /\n\nFight!$/);
    assert.doesNotMatch(contest.text, /&gt;|&amp;/);
    assert.match(String(byId('t3_7ep14i').extra.url), /^https:\/\/www\.battleforthenet\.com\/\?utm_source=AN&utm_medium=email&utm_campaign=/);
  });

  test('drops the spaces Markdown uses for line breaks at the end of lines', () => {
    assert.match(byId('t3_7z4r2a').text, /And with what should i start \?\n\nThanks for your help :\)$/);
  });

  test('keeps over_18 and the score', () => {
    assert.deepEqual([byId('t3_7z3p2y').extra.over_18, byId('t3_7z3p2y').rating], [true, 1992]);
  });

  test('rejects JSON that is not a Listing as upstream_bad_response', () => {
    const error = thrown(() => parseListing({ error: 'synthetic' }));
    assert.deepEqual([error.code, error.permanent], ['upstream_bad_response', true]);
  });
});

describe('parseSearchFeed on the public search feed', () => {
  const posts = parseSearchFeed(FEED_PAGE_1, FEED_URL);

  test('maps a self post, its body without the "submitted by" footer, marked partial', () => {
    assert.equal(posts.length, 3);
    assert.deepEqual(posts[0], {
      externalId: 't3_synthrss1',
      url: 'https://www.reddit.com/r/synthetic_sysadmin/comments/synthrss1/ovhcloud_vps_down_in_gra/',
      author: 'synthetic_admin',
      title: 'Synthetic: OVHcloud VPS down in GRA?',
      text: 'Our VPS in GRA went down at 09:00 & support says "investigating".\n\nAnyone else? Status: status page',
      rating: null,
      language: null,
      publishedAt: new Date('2024-03-15T09:41:07.000Z'),
      reply: null,
      extra: {
        subreddit: 'synthetic_sysadmin',
        num_comments: null,
        url: 'https://www.reddit.com/r/synthetic_sysadmin/comments/synthrss1/ovhcloud_vps_down_in_gra/',
        over_18: null,
        partial: true,
      },
    });
  });

  test('maps a link post: no body, the [link] anchor as its target, the title decoded', () => {
    const post = posts[1]!;
    assert.equal(post.title, 'OVHcloud results: revenue up 11% & margins steady');
    assert.equal(post.text, '');
    assert.equal(post.extra.url, 'https://news.synthetic.example/ovhcloud-results?src=rss&id=2');
  });

  test('keeps list items as paragraphs', () => {
    assert.equal(posts[2]?.text, 'Things I learned:\n\nBack up first\n\nDNS TTLs matter');
  });

  test('rejects a block page served instead of the feed as upstream_blocked', () => {
    const page = "<!DOCTYPE html><html><head><title>Blocked</title></head><body>You've been blocked by network security.</body></html>";
    const error = thrown(() => parseSearchFeed(page, FEED_URL));
    assert.deepEqual([error.code, error.permanent], ['upstream_blocked', true]);
    assert.match(error.message, /REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET/);
  });
});

describe('parseFeed on Atom written by hand', () => {
  test('reads xhtml and text content as HTML, the alternate link, and published falling back to updated', () => {
    const atom = `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de"><title>Synthetic</title>
      <entry><id>synthetic-1</id><link rel="edit" href="https://synthetic.example/edit/1"/><link rel="alternate" href="https://synthetic.example/1"/>
        <updated>2024-03-15T10:00:00+01:00</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <b>there</b></p></div></content></entry>
      <entry><id>synthetic-2</id><link href="https://synthetic.example/2"/><published>2024-03-14T00:00:00Z</published><summary>a &lt; b &amp; c</summary></entry></feed>`;
    const feed = parseFeed(atom);
    assert.deepEqual([feed?.format, feed?.language], ['atom', 'de']);
    const [first, second] = feed?.entries ?? [];
    assert.deepEqual([first?.link, first?.html, first?.publishedAt?.toISOString()], ['https://synthetic.example/1', '<p>Hi <b>there</b></p>', '2024-03-15T09:00:00.000Z']);
    assert.deepEqual([second?.link, second?.html, second?.updatedAt], ['https://synthetic.example/2', 'a &lt; b &amp; c', null]);
  });
});

function source(env: Record<string, string>): Source {
  return createSource({ env: new EnvReader(env) });
}

describe('the reddit source settings', () => {
  test('runs without credentials, on the public feed at 10 requests a minute', () => {
    const reddit = source({});
    assert.equal(reddit.missingSettings(), null);
    assert.deepEqual(reddit.rateLimit, { requests: 10, perMs: 60_000, concurrency: 1 });
  });

  test('uses the API limit of 100 requests a minute with both credentials', () => {
    const reddit = source(CREDENTIALS);
    assert.equal(reddit.missingSettings(), null);
    assert.deepEqual(reddit.rateLimit, { requests: 100, perMs: 60_000, concurrency: 1 });
  });

  test('names the missing half when only one credential is set', () => {
    assert.match(source({ REDDIT_CLIENT_ID: 'x' }).missingSettings() ?? '', /^REDDIT_CLIENT_SECRET is not set while REDDIT_CLIENT_ID is: set both/);
    assert.match(source({ REDDIT_CLIENT_SECRET: 'x' }).missingSettings() ?? '', /^REDDIT_CLIENT_ID is not set while REDDIT_CLIENT_SECRET is/);
  });

  test('documents its variables, the secret as secret, and checks the base URL variable', () => {
    assert.deepEqual(source({}).settings.map((s) => [s.name, s.secret ?? false]), [
      ['REDDIT_CLIENT_ID', false],
      ['REDDIT_CLIENT_SECRET', true],
      ['REDDIT_WWW_BASE_URL', false],
    ]);
    assert.throws(() => source({ REDDIT_WWW_BASE_URL: 'ftp://x' }), /REDDIT_WWW_BASE_URL must start with http:\/\/ or https:\/\//);
  });

  test('refuses empty, too long or multi-line queries', () => {
    const reddit = source({});
    assert.equal(reddit.validateQuery?.('subreddit:sysadmin ovhcloud'), null);
    assert.match(reddit.validateQuery?.(' ') ?? '', /query must be a Reddit search/);
    assert.match(reddit.validateQuery?.('x'.repeat(513)) ?? '', /at most 512 characters/);
    assert.match(reddit.validateQuery?.('a\tb') ?? '', /control characters/);
  });
});

interface SentRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** The real client, with what each call asked for recorded (the fake server does not keep request bodies). */
function recording(http: HttpClient, sent: SentRequest[]): HttpClient {
  const record = (url: string, options: RequestOptions) => sent.push({ url: new URL(url), method: options.method ?? 'GET', headers: options.headers ?? {}, body: options.body });
  return {
    getText: (url, options) => (record(url, options), http.getText(url, options)),
    getBytes: (url, options) => (record(url, options), http.getBytes(url, options)),
    getJson: (url, options) => (record(url, options), http.getJson(url, options)),
    holdHost: (host, ms) => http.holdHost(host, ms),
    close: () => http.close(),
  };
}

const token = (value: string, expiresIn = 86_400) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: value, token_type: 'bearer', expires_in: expiresIn, scope: '*' }) });
const json = (body: string, headers: Record<string, string> = {}) => ({ headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body });

describe('scraping over a fake Reddit', () => {
  let upstream: FakeUpstream;
  let sent: SentRequest[];
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => {
    upstream.reset();
    sent = [];
  });

  function redditSource(env: Record<string, string> = CREDENTIALS): Source {
    return source({ REDDIT_WWW_BASE_URL: upstream.baseUrl, ...env });
  }

  async function scrape(t: TestContext, reddit: Source, options: { limit?: number; since?: HighWaterMark | null } = {}): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const ctx = withIntake({ query: 'ovhcloud', limit: options.limit ?? 50, signal: new AbortController().signal, http: recording(http, sent), baseUrl: upstream.baseUrl, log: silentLogger, since: options.since ?? null });
    const pages: ScrapedPage[] = [];
    for await (const page of reddit.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, reddit: Source): Promise<JobError> {
    return rejected(scrape(t, reddit));
  }

  function serveApi(): void {
    upstream.on('POST', '/api/v1/access_token', () => token('synthetic-token-1'));
    upstream.on('GET', '/search', (req) => json(req.query.get('after') === 't3_hmwhd7' ? SEARCH_PAGE_2 : SEARCH_PAGE_1));
  }

  function serveFeed(): void {
    upstream.on('GET', '/search.rss', (req) => {
      const after = req.query.get('after');
      return { headers: { 'content-type': 'application/atom+xml; charset=UTF-8' }, body: !after ? FEED_PAGE_1 : after === 't3_synthrss3' ? FEED_PAGE_2 : FEED_EMPTY };
    });
  }

  test('gets an app-only token with HTTP Basic auth, then searches with it as a bearer token', async (t) => {
    serveApi();
    await scrape(t, redditSource(), { limit: 1 });
    const [tokenRequest, search] = sent;
    assert.equal(tokenRequest?.method, 'POST');
    assert.equal(tokenRequest?.url.pathname, '/api/v1/access_token');
    assert.equal(tokenRequest?.headers.authorization, `Basic ${Buffer.from('synthetic-client-id:synthetic-client-secret').toString('base64')}`);
    assert.equal(tokenRequest?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(tokenRequest?.body, 'grant_type=client_credentials');
    assert.equal(search?.headers.authorization, 'bearer synthetic-token-1');
    assert.deepEqual(Object.fromEntries(search?.url.searchParams ?? []), { q: 'ovhcloud', sort: 'new', type: 'link', limit: '100', raw_json: '1' });
    assert.ok(upstream.requests.every((r) => r.headers['user-agent'] === 'vibe-tracker-test/1'));
  });

  test('follows "after" to the next page and stops at the limit', async (t) => {
    serveApi();
    const pages = await scrape(t, redditSource(), { limit: 4 });
    assert.deepEqual(upstream.requests.map((r) => `${r.method} ${r.path} ${r.query.get('after') ?? ''}`.trim()), [
      'POST /api/v1/access_token',
      'GET /search',
      'GET /search t3_hmwhd7',
    ]);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length]), [[1, 2], [2, 2]]);
    assert.deepEqual(pages[1]?.posts.map((p) => p.externalId), ['t3_synthetic1', 't3_synthetic2']);
    assert.equal(pages[1]?.posts[0]?.text, 'Anyone else seeing this?\n\nStatus page says "all systems operational" & support hasn\'t answered in <3 hours>.');
    assert.equal(pages[1]?.posts[1]?.extra.url, 'https://status.synthetic.example/incidents/2020-07-05?ref=reddit&utm_source=synthetic');
  });

  test('stops at the last page, where "after" is null', async (t) => {
    serveApi();
    const pages = await scrape(t, redditSource(), { limit: 100 });
    assert.deepEqual(pages.map((p) => p.posts.length), [2, 3]);
    assert.equal(pages[1]?.posts[2]?.publishedAt.toISOString(), '2020-07-04T22:00:00.500Z');
    assert.equal(upstream.requests.length, 3);
  });

  test('stops at the newest post an earlier run stored and reads no further page', async (t) => {
    serveApi();
    const mark = { externalId: 't3_hmwhd7', publishedAt: new Date('2020-07-07T15:19:42.000Z') };
    const pages = await scrape(t, redditSource(), { since: mark });
    assert.deepEqual(pages.flatMap((p) => p.posts.map((post) => post.externalId)), ['t3_hybow9']);
    assert.deepEqual(upstream.requests.map((r) => r.path), ['/api/v1/access_token', '/search']);
  });

  test('keeps the token for later scrapes until it expires', async (t) => {
    serveApi();
    const reddit = redditSource();
    await scrape(t, reddit, { limit: 1 });
    await scrape(t, reddit, { limit: 1 });
    assert.equal(upstream.requests.filter((r) => r.path === '/api/v1/access_token').length, 1);

    upstream.on('POST', '/api/v1/access_token', () => token('synthetic-short-lived', 0));
    const shortLived = redditSource();
    await scrape(t, shortLived, { limit: 1 });
    await scrape(t, shortLived, { limit: 1 });
    assert.equal(upstream.requests.filter((r) => r.path === '/api/v1/access_token').length, 3);
  });

  test('fails for good, naming both variables, when the token endpoint answers 401', async (t) => {
    upstream.on('POST', '/api/v1/access_token', () => ({ status: 401, body: '{"message": "Unauthorized", "error": 401}' }));
    const error = await scrapeError(t, redditSource());
    assert.deepEqual([error.code, error.permanent], ['upstream_login_required', true]);
    assert.match(error.message, /Reddit refused the app credentials .*REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET/);
    assert.equal(upstream.requests.length, 1);
  });

  test('fails for good when the token answer carries an error instead of a token', async (t) => {
    upstream.on('POST', '/api/v1/access_token', () => json('{"error": "invalid_grant"}'));
    const error = await scrapeError(t, redditSource());
    assert.equal(error.code, 'upstream_login_required');
    assert.match(error.message, /no app token \(invalid_grant\)/);
  });

  test('renews a token the API refuses once, then succeeds', async (t) => {
    serveApi();
    let tokens = 0;
    upstream.on('POST', '/api/v1/access_token', () => token(`synthetic-token-${++tokens}`));
    upstream.on('GET', '/search', (req) => (req.headers.authorization === 'bearer synthetic-token-1' ? { status: 401 } : json(SEARCH_PAGE_1)));
    const pages = await scrape(t, redditSource(), { limit: 2 });
    assert.equal(pages[0]?.posts.length, 2);
    assert.deepEqual(upstream.requests.map((r) => r.path), ['/api/v1/access_token', '/search', '/api/v1/access_token', '/search']);
  });

  test('fails for good when the API refuses a fresh token too', async (t) => {
    upstream.on('POST', '/api/v1/access_token', () => token('synthetic-token'));
    upstream.on('GET', '/search', () => ({ status: 401 }));
    const error = await scrapeError(t, redditSource());
    assert.deepEqual([error.code, error.permanent], ['upstream_login_required', true]);
    assert.match(error.message, /REDDIT_CLIENT_ID/);
    assert.equal(upstream.requests.length, 4);
  });

  test('waits out a 429 with Retry-After: 1 and then reads the page', async (t) => {
    serveApi();
    let searches = 0;
    upstream.on('GET', '/search', () => (++searches === 1 ? { status: 429, headers: { 'retry-after': '1' } } : json(SEARCH_PAGE_1)));
    const pages = await scrape(t, redditSource(), { limit: 2 });
    const [first, second] = upstream.requests.filter((r) => r.path === '/search');
    assert.ok(second!.time - first!.time >= 950);
    assert.equal(pages[0]?.posts.length, 2);
  });

  test('holds the next page until the quota resets when x-ratelimit-remaining reaches 0', async (t) => {
    serveApi();
    upstream.on('GET', '/search', (req) =>
      req.query.get('after') ? json(SEARCH_PAGE_2) : json(SEARCH_PAGE_1, { 'x-ratelimit-used': '100', 'x-ratelimit-remaining': '0.0', 'x-ratelimit-reset': '1' }),
    );
    await scrape(t, redditSource(), { limit: 10 });
    const [first, second] = upstream.requests.filter((r) => r.path === '/search');
    assert.ok(second!.time - first!.endTime! >= 900);
  });

  test('says how to set a proper User-Agent when Reddit answers 403', async (t) => {
    upstream.on('POST', '/api/v1/access_token', () => token('synthetic-token'));
    upstream.on('GET', '/search', () => ({ status: 403, body: 'Blocked' }));
    const error = await scrapeError(t, redditSource());
    assert.deepEqual([error.code, error.permanent], ['upstream_blocked', true]);
    assert.match(error.message, /set HTTP_USER_AGENT/);
  });

  test('without credentials reads the public feed page by page, posts marked partial', async (t) => {
    serveFeed();
    const pages = await scrape(t, redditSource({}), { limit: 4 });
    assert.deepEqual(upstream.requests.map((r) => [r.path, r.query.get('q'), r.query.get('sort'), r.query.get('limit'), r.query.get('after')]), [
      ['/search.rss', 'ovhcloud', 'new', '100', null],
      ['/search.rss', 'ovhcloud', 'new', '100', 't3_synthrss3'],
    ]);
    assert.deepEqual(pages.map((p) => p.posts.length), [3, 1]);
    assert.ok(pages.flatMap((p) => p.posts).every((p) => p.extra.partial === true && p.rating === null));
  });

  test('stops the feed at its end', async (t) => {
    serveFeed();
    const pages = await scrape(t, redditSource({}), { limit: 100 });
    assert.deepEqual(pages.map((p) => p.posts.length), [3, 2, 0]);
    assert.deepEqual(upstream.requests.map((r) => r.query.get('after')), [null, 't3_synthrss3', 't3_synthrss5']);
  });

  test('stops the feed when a page repeats what was read, in case Reddit ignores "after"', async (t) => {
    upstream.on('GET', '/search.rss', () => ({ body: FEED_PAGE_1 }));
    const pages = await scrape(t, redditSource({}), { limit: 100 });
    assert.deepEqual(pages.map((p) => p.posts.length), [3, 0]);
  });

  test('stops the feed at the newest post an earlier run stored', async (t) => {
    serveFeed();
    const mark = { externalId: 't3_synthrss2', publishedAt: new Date('2024-03-15T08:02:44Z') };
    const pages = await scrape(t, redditSource({}), { since: mark });
    assert.deepEqual(pages.flatMap((p) => p.posts.map((post) => post.externalId)), ['t3_synthrss1']);
    assert.equal(upstream.requests.length, 1);
  });
});

describe('reddit jobs through the queue', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
    upstream.on('POST', '/api/v1/access_token', () => token('synthetic-token-1'));
    upstream.on('GET', '/search', (req) => json(req.query.get('after') === 't3_hmwhd7' ? SEARCH_PAGE_2 : SEARCH_PAGE_1));
    upstream.on('GET', '/search.rss', (req) => ({ body: req.query.get('after') ? FEED_EMPTY : FEED_PAGE_1 }));
  });
  after(() => upstream.close());

  async function withPipeline(env: Record<string, string>, run: (pipeline: Pipeline) => Promise<void>): Promise<void> {
    const pipeline = await startPipeline('reddit', { SOURCE_BASE_URL_REDDIT: upstream.baseUrl, REDDIT_WWW_BASE_URL: upstream.baseUrl, ...env });
    try {
      await run(pipeline);
    } finally {
      await pipeline.close();
    }
  }

  test('with credentials, stores the five API posts with their scores', async () => {
    await withPipeline(CREDENTIALS, async (pipeline) => {
      const job = await pipeline.scrape('reddit', 'ovhcloud', { limit: 50 });
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.deepEqual([job.result?.found, job.result?.inserted, job.result?.pages], [5, 5, 2]);
      const rows = await pipeline.services.sql<{ external_id: string; rating: number; extra: { partial: boolean } }[]>`
        select external_id, rating, extra from posts where source = 'reddit' order by published_at desc`;
      assert.deepEqual(rows.map((r) => r.external_id), ['t3_hybow9', 't3_hmwhd7', 't3_synthetic1', 't3_synthetic2', 't3_synthetic3']);
      assert.deepEqual([rows[0]?.rating, rows[0]?.extra.partial], [103829, false]);
    });
  });

  test('without credentials, stores the feed posts marked partial', async () => {
    await withPipeline({}, async (pipeline) => {
      const job = await pipeline.scrape('reddit', 'ovhcloud', { limit: 50 });
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.deepEqual([job.result?.found, job.result?.inserted], [3, 3]);
      const rows = await pipeline.services.sql<{ external_id: string; rating: number | null; extra: { partial: boolean } }[]>`
        select external_id, rating, extra from posts where source = 'reddit' order by published_at desc`;
      assert.deepEqual(rows.map((r) => [r.external_id, r.rating, r.extra.partial]), [
        ['t3_synthrss1', null, true],
        ['t3_synthrss2', null, true],
        ['t3_synthrss3', null, true],
      ]);
    });
  });

  test('with only one credential set, fails at once naming the other', async () => {
    await withPipeline({ REDDIT_CLIENT_ID: 'synthetic-client-id' }, async (pipeline) => {
      const before = upstream.requests.length;
      const job = await pipeline.scrape('reddit', 'ovhcloud');
      assert.equal(job.status, 'failed');
      assert.equal(job.error?.code, 'upstream_login_required');
      assert.match(job.error?.message ?? '', /REDDIT_CLIENT_SECRET is not set/);
      assert.equal(upstream.requests.length, before);
    });
  });
});
