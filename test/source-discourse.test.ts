import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { ConfigError, EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark, ScrapedPost } from '../lib/model/post.ts';
import { createSource, fullPostText, parseSearchResults } from '../lib/sources/discourse.ts';
import type { ScrapedPage } from '../lib/sources/types.ts';
import { type FakeUpstream, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { inTurn } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected, thrown } from './helpers/job-errors.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

const SEARCH_PAGE_1 = fixture('discourse/forum-makerdao-search-2021-12.json');
const SEARCH_PAGE_2 = fixture('discourse/search-page2-synthetic.json');
const FULL_POSTS: Record<string, string> = {
  '49886': fixture('discourse/post-49886-synthetic.json'),
  '23344': fixture('discourse/post-23344-synthetic.json'),
};
const MAKERDAO = 'https://forum.makerdao.com';
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** Posts without a recorded full text get a small one, so every full-post read succeeds unless a test says otherwise. */
function fullPost(id: string): string {
  return FULL_POSTS[id] ?? JSON.stringify({ id: Number(id), cooked: `<p>Full text of post ${id} &amp; more.</p>`, raw: `Full text of post ${id} & more.` });
}

function serveForum(upstream: FakeUpstream, prefix = ''): void {
  upstream.on('GET', `${prefix}/search.json`, (req) => {
    const page = req.query.get('page');
    if (page === '1') return { headers: JSON_TYPE, body: SEARCH_PAGE_1 };
    if (page === '2') return { headers: JSON_TYPE, body: SEARCH_PAGE_2 };
    return { status: 400, body: '{"errors":["page parameter must not be greater than 10"]}' };
  });
  upstream.on('GET', new RegExp(`^${prefix}/posts/\\d+\\.json$`), (req) => ({ headers: JSON_TYPE, body: fullPost(/(\d+)\.json$/.exec(req.path)![1]!) }));
}

/** Answers each request with the next handler in the list, repeating the last one. */
describe('parseSearchResults on the real forum.makerdao.com capture', () => {
  const page = parseSearchResults(JSON.parse(SEARCH_PAGE_1), MAKERDAO);
  const byId = (id: number) => page.posts.find((p) => p.extra.post_id === id)!;

  test('reads every field of the first post, with the excerpt as its text until the full post is read', () => {
    assert.deepEqual(page.posts[0], {
      externalId: 'forum.makerdao.com:49886',
      url: 'https://forum.makerdao.com/t/signal-request-should-makerdao-assist-in-recovering-dai-locked-on-optimism-escrow/12307/1',
      author: 'lost_some_dai',
      title: '[Signal Request] Should MakerDAO Assist in recovering DAI locked on Optimism Escrow?',
      text: '#summary-1 Summary Pull lost funds manually from the optimism escrow via an executive vote. #overview-2 Overview A user accidentally called the burn fu...',
      rating: 1,
      language: null,
      publishedAt: new Date('2021-12-20T14:50:07.124Z'),
      reply: null,
      extra: {
        forum: MAKERDAO,
        post_id: 49886,
        topic_id: 12307,
        post_number: 1,
        tags: ['signaling', 'sig-status-active'],
        excerpt_only: true,
      },
    } satisfies ScrapedPost);
  });

  test('decodes entities in excerpts and links a reply to its place in the topic', () => {
    const post = byId(23344);
    assert.equal(post.text.slice(0, 35), 'G & R #123 Snippet - En Español Act');
    assert.equal(post.title, 'G&R Snippets - en español');
    assert.equal(post.author, 'JoseFerrari');
    assert.equal(post.rating, 2);
    assert.equal(post.url, 'https://forum.makerdao.com/t/g-r-snippets-en-espanol/4782/10');
    assert.equal(post.publishedAt.toISOString(), '2021-01-08T00:58:32.026Z');
    assert.deepEqual(post.extra.tags, ['español', 'governance']);
  });

  test('finds 50 distinct posts, each with a title, and says more pages exist', () => {
    assert.equal(page.posts.length, 50);
    assert.equal(new Set(page.posts.map((p) => p.externalId)).size, 50);
    assert.ok(page.posts.every((p) => p.title && p.author && p.url.startsWith(`${MAKERDAO}/t/`)));
    assert.equal(page.morePages, true);
    assert.equal(byId(49609).rating, 11);
  });

  test('keeps two forums on one host apart in the post ids', () => {
    const inFolder = parseSearchResults(JSON.parse(SEARCH_PAGE_1), 'https://example.com/community');
    assert.equal(inFolder.posts[0]?.externalId, 'example.com/community:49886');
    assert.match(inFolder.posts[0]?.url ?? '', /^https:\/\/example\.com\/community\/t\/signal-request/);
  });

  test('reads page 2 as the last page', () => {
    const last = parseSearchResults(JSON.parse(SEARCH_PAGE_2), MAKERDAO);
    assert.equal(last.morePages, false);
    assert.deepEqual(last.posts.map((p) => p.text), [
      'Synthetic page 2, first result: the oldest posts come last...',
      'Synthetic page 2, second result with an entity: Q&A...',
      'Synthetic page 2, third result...',
    ]);
  });

  test('rejects an answer without a posts list as upstream_bad_response', () => {
    const error = thrown(() => parseSearchResults({ topics: [] }, MAKERDAO));
    assert.equal(error.code, 'upstream_bad_response');
    assert.match(error.message, /DISCOURSE_FORUMS/);
  });

  test('treats the search error of an overloaded forum as transient', () => {
    const error = thrown(() => parseSearchResults({ posts: [], grouped_search_result: { error: 'The site is under extreme load' } }, MAKERDAO));
    assert.equal(error.code, 'upstream_unavailable');
    assert.equal(error.permanent, false);
  });
});

describe('fullPostText', () => {
  test('turns the cooked HTML into paragraphs of plain text, quotes included', () => {
    assert.equal(
      fullPostText(JSON.parse(FULL_POSTS['49886']!)),
      [
        'Summary',
        'Pull lost funds manually from the optimism escrow via an executive vote.',
        'Overview',
        // A <br> is one line break, even when the HTML has a newline after it.
        'A user accidentally called the burn function on the escrow & lost their DAI.\n(Synthetic fixture text: the rest of this post was not captured.)',
        'someone:',
        'Can the funds be recovered?',
        'Yes, with an executive vote > a governance poll.',
      ].join('\n\n'),
    );
  });

  test('falls back to the raw markdown when there is no cooked HTML', () => {
    assert.equal(fullPostText({ raw: '**Edit this** please', cooked: '' }), '**Edit this** please');
    assert.equal(fullPostText({}), null);
  });
});

describe('scraping over a fake Discourse forum', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => upstream.reset());

  async function scrape(t: TestContext, options: { env?: Record<string, string>; limit?: number; since?: HighWaterMark | null; query?: string } = {}): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const source = createSource({ env: new EnvReader({ DISCOURSE_SEARCHES_PER_MINUTE: '6000', ...options.env }) });
    const ctx = withIntake({ query: options.query ?? 'maker', limit: options.limit ?? 50, signal: new AbortController().signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since: options.since ?? null });
    const pages: ScrapedPage[] = [];
    for await (const page of source.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, options: Parameters<typeof scrape>[1] = {}): Promise<JobError> {
    return rejected(scrape(t, options));
  }

  const searches = () => upstream.requests.filter((r) => r.path.endsWith('/search.json'));
  const postReads = () => upstream.requests.filter((r) => r.path.includes('/posts/')).map((r) => r.path);

  test('searches newest first and reads the full text of each post it keeps', async (t) => {
    serveForum(upstream);
    const pages = await scrape(t, { limit: 3 });
    assert.deepEqual(searches().map((r) => [r.query.get('q'), r.query.get('page')]), [['maker order:latest', '1']]);
    assert.deepEqual(postReads(), ['/posts/49886.json', '/posts/49917.json', '/posts/49925.json']);
    const [first, second] = pages[0]!.posts;
    assert.match(first!.text, /^Summary\n\nPull lost funds manually .*\n\nYes, with an executive vote > a governance poll\.$/s);
    assert.equal(first!.extra.excerpt_only, false);
    assert.equal(second!.text, 'Full text of post 49917 & more.');
    assert.equal(first!.externalId, `127.0.0.1:${new URL(upstream.baseUrl).port}:49886`);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length, p.pagesPlanned]), [[1, 3, 1]]);
  });

  test('reads page 2 for limit 52 and keeps exactly 52 posts', async (t) => {
    serveForum(upstream);
    const pages = await scrape(t, { limit: 52 });
    assert.deepEqual(searches().map((r) => r.query.get('page')), ['1', '2']);
    assert.equal(postReads().length, 52);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length, p.pagesPlanned]), [[1, 50, 2], [2, 2, 2]]);
    assert.deepEqual(pages[1]!.posts.map((p) => p.author), ['synthetic_one', 'synthetic_two']);
    assert.deepEqual(pages[0]!.meta, { forums: [new URL(upstream.baseUrl).host] });
  });

  test('stops at the last page even when the limit asks for more', async (t) => {
    serveForum(upstream);
    const pages = await scrape(t, { limit: 200 });
    assert.deepEqual(searches().map((r) => r.query.get('page')), ['1', '2']);
    assert.deepEqual(pages.map((p) => p.posts.length), [50, 3]);
  });

  test('stops at the newest post an earlier run stored and reads no further page', async (t) => {
    serveForum(upstream);
    const everything = parseSearchResults(JSON.parse(SEARCH_PAGE_1), upstream.baseUrl).posts;
    const mark = everything.find((p) => p.extra.post_id === 49469)!;
    const newer = everything.filter((p) => p.publishedAt > mark.publishedAt).map((p) => p.extra.post_id);
    const pages = await scrape(t, { limit: 200, since: { publishedAt: mark.publishedAt, externalId: mark.externalId } });
    assert.equal(searches().length, 1);
    assert.deepEqual(pages.flatMap((p) => p.posts.map((post) => post.extra.post_id)), newer);
    assert.equal(postReads().length, newer.length);
    assert.ok(newer.length > 10 && newer.length < 50);
  });

  test('keeps the excerpt, marked excerpt_only, when a post was deleted since the search', async (t) => {
    serveForum(upstream);
    upstream.on('GET', '/posts/49917.json', () => ({ status: 404 }));
    const [page] = await scrape(t, { limit: 2 });
    assert.equal(page!.posts[1]!.extra.excerpt_only, true);
    assert.match(page!.posts[1]!.text, /^Hi all, Following the work done by @Aes/);
    assert.equal(page!.posts[0]!.extra.excerpt_only, false);
  });

  test('spaces searches by DISCOURSE_SEARCHES_PER_MINUTE, holding the forum after each one', async (t) => {
    serveForum(upstream);
    await scrape(t, { limit: 1, env: { DISCOURSE_SEARCHES_PER_MINUTE: '120' } });
    const [search, read] = upstream.requests;
    assert.equal(read?.path, '/posts/49886.json');
    assert.ok(read!.time - search!.time >= 450, `the post was read ${read!.time - search!.time} ms after the search`);
  });

  test('shares the limit between the forums in DISCOURSE_FORUMS, one after the other', async (t) => {
    serveForum(upstream, '/one');
    serveForum(upstream, '/two');
    const pages = await scrape(t, { limit: 5, env: { DISCOURSE_FORUMS: `${upstream.baseUrl}/one/, ${upstream.baseUrl}/two` } });
    assert.deepEqual(searches().map((r) => r.path), ['/one/search.json', '/two/search.json']);
    assert.deepEqual(pages.map((p) => p.posts.length), [3, 2]);
    const host = new URL(upstream.baseUrl).host;
    assert.deepEqual(pages.map((p) => p.posts[0]?.externalId), [`${host}/one:49886`, `${host}/two:49886`]);
    assert.equal(pages[1]!.posts[0]!.url.startsWith(`${upstream.baseUrl}/two/t/`), true);
  });

  test('names the forum when it refuses anonymous searches (HTTP 403)', async (t) => {
    upstream.on('GET', '/search.json', () => ({ status: 403, headers: JSON_TYPE, body: fixture('discourse/login-required-synthetic.json') }));
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_login_required');
    assert.equal(error.permanent, true);
    assert.match(error.message, new RegExp(`forum ${upstream.baseUrl.replaceAll('.', '\\.')} refused the search \\(HTTP 403\\).*DISCOURSE_FORUMS`));
  });

  test('names the forum when it redirects the search to its login page', async (t) => {
    upstream.on('GET', '/search.json', () => ({ status: 302, headers: { location: '/login' } }));
    upstream.on('GET', '/login', () => ({ headers: { 'content-type': 'text/html' }, body: '<html><body>Log in</body></html>' }));
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_login_required');
    assert.match(error.message, /redirected the search to its login page/);
  });

  test('says a forum without /search.json is not a Discourse forum', async (t) => {
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_not_found');
    assert.match(error.message, /not a Discourse forum .*DISCOURSE_FORUMS/);
  });

  test('waits out a 429 with Retry-After: 1 and then reads the page', async (t) => {
    serveForum(upstream);
    upstream.on('GET', '/search.json', inTurn(
      () => ({ status: 429, headers: { ...JSON_TYPE, 'retry-after': '1' }, body: fixture('discourse/rate-limited-synthetic.json') }),
      () => ({ headers: JSON_TYPE, body: SEARCH_PAGE_1 }),
    ));
    const pages = await scrape(t, { limit: 2 });
    assert.deepEqual(pages.map((p) => p.posts.length), [2]);
    const [limited, retried] = searches();
    assert.ok(retried!.time - limited!.time >= 950, `retried after ${retried!.time - limited!.time} ms`);
  });

  test('refuses an empty query or one with its own order: before sending anything', async (t) => {
    for (const query of ['  ', 'maker order:votes']) {
      const error = await scrapeError(t, { query });
      assert.equal(error.code, 'invalid_query');
    }
    assert.equal(upstream.requests.length, 0);
  });

  test('needs no settings, and names DISCOURSE_FORUMS when an address in it is not a URL', () => {
    assert.equal(createSource({ env: new EnvReader({}) }).missingSettings(), null);
    assert.throws(() => createSource({ env: new EnvReader({ DISCOURSE_FORUMS: 'forum.example.com' }) }), (error: unknown) => error instanceof ConfigError && /DISCOURSE_FORUMS/.test(error.message));
  });
});

describe('a discourse job through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    serveForum(upstream);
    // The published 33 requests per 10 s would hold this job's 51 requests (1 search, 50 posts) for 10 s.
    pipeline = await startPipeline('source_discourse', {
      SOURCE_BASE_URL_DISCOURSE: upstream.baseUrl,
      DISCOURSE_SEARCHES_PER_MINUTE: '6000',
      RATE_LIMIT_DISCOURSE: '600/1',
    });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  test('stores 50 posts with their full text, and a second run finds nothing new', async () => {
    const job = await pipeline.scrape('discourse', 'maker', { limit: 50 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual([job.result?.found, job.result?.inserted, job.result?.pages], [50, 50, 1]);
    const rows = await pipeline.services.sql<{ external_id: string; title: string; body: string; rating: number; extra: Record<string, unknown> }[]>`
      select external_id, title, body, rating, extra from posts where source = 'discourse' order by published_at desc`;
    assert.equal(rows.length, 50);
    const optimism = rows.find((r) => r.external_id.endsWith(':49886'));
    assert.equal(optimism?.title, '[Signal Request] Should MakerDAO Assist in recovering DAI locked on Optimism Escrow?');
    assert.match(optimism?.body ?? '', /^Summary\n\nPull lost funds/);
    assert.equal(optimism?.extra.excerpt_only, false);

    const before = upstream.requests.length;
    const again = await pipeline.scrape('discourse', 'maker', { limit: 50 });
    assert.equal(again.status, 'completed', JSON.stringify(again.error));
    assert.deepEqual([again.result?.found, again.result?.inserted], [0, 0]);
    assert.deepEqual(upstream.requests.slice(before).map((r) => r.path), ['/search.json']);
  });
});
