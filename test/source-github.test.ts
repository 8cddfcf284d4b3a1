import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark } from '../lib/model/post.ts';
import { linkWithRel, onOrigin, parseLinkHeader } from '../lib/scrape/link-header.ts';
import { createGithubSource, createSource, parseSearchResults, validateQuery } from '../lib/sources/github.ts';
import type { ScrapedPage } from '../lib/sources/types.ts';
import { type FakeUpstream, type Reply, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected } from './helpers/job-errors.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

interface NockExchange {
  method: string;
  path: string;
  status: number;
  response: unknown;
  rawHeaders: string[];
}

/** Exchange #3 of the octokit nock recording: the search, with GitHub's own response headers. */
const octokitSearch = (JSON.parse(fixture('github/octokit-search-issues-raw-2022-07.json')) as NockExchange[]).find(
  (exchange) => exchange.method === 'get' && exchange.path.startsWith('/search/issues'),
)!;
const OCTOKIT_BODY = JSON.stringify(octokitSearch.response);
const octokitHeaders = Object.fromEntries(
  octokitSearch.rawHeaders.flatMap((value, i, all) => (i % 2 === 0 ? [[value.toLowerCase(), all[i + 1]!]] : [])),
);

/** PyGithub's replay format: one field a line, the response headers as a Python list of pairs on line 9, the body on line 10. */
const pygithubLines = fixture('github/pygithub-search-issues-2014-03.txt').split('\n');
const PYGITHUB_BODY = pygithubLines[9]!;
const pygithubHeaders = Object.fromEntries([...pygithubLines[8]!.matchAll(/\('([^']*)', '([^']*)'\)/g)].map((m) => [m[1]!, m[2]!]));

const PAGE_2 = fixture('github/search-page2-synthetic.json');
const API_URL = 'https://api.github.com/search/issues?q=sesame&sort=created&order=desc&per_page=100';

const noSignal = () => new AbortController().signal;

describe('the recorded GitHub search answers', () => {
  test('the octokit recording holds the search as exchange #3, answered from the search quota', () => {
    assert.equal(octokitSearch.status, 200);
    assert.equal(octokitHeaders['x-ratelimit-resource'], 'search');
    assert.equal(octokitHeaders['x-ratelimit-limit'], '30');
  });

  test('reads every field of a 2022 issue from the octokit recording', () => {
    const results = parseSearchResults(octokitSearch.response, API_URL);
    assert.equal(results.totalCount, 2);
    assert.equal(results.incomplete, false);
    const [newest, older] = results.posts;
    assert.deepEqual(newest, {
      externalId: '1308970076',
      url: 'https://github.com/octokit-fixture-org/tmp-scenario-search-issues-20220719044045959-jlcli/issues/2',
      author: 'octokit-fixture-user-b',
      title: 'Sesame seeds split without a pop!',
      text: 'I’ve waited all year long, but there was no pop 😭',
      rating: 0,
      language: null,
      publishedAt: new Date('2022-07-19T04:40:52Z'),
      reply: null,
      extra: {
        number: 2,
        state: 'open',
        comments: 0,
        repository: 'octokit-fixture-org/tmp-scenario-search-issues-20220719044045959-jlcli',
        is_pull_request: false,
        labels: [],
      },
    });
    assert.equal(older?.externalId, '1308970043');
    assert.equal(older?.author, 'octokit-fixture-user-a');
    assert.equal(older?.title, 'The doors don’t open');
    assert.equal(older?.text, 'I tried "open sesame" as seen on Wikipedia but no luck!');
    assert.equal(older?.publishedAt.toISOString(), '2022-07-19T04:40:49.000Z');
  });

  test('reads the 2014 PyGithub replay: pull requests, repository from html_url, no reactions, CRLF made LF', () => {
    const results = parseSearchResults(JSON.parse(PYGITHUB_BODY), API_URL);
    assert.equal(results.totalCount, 29512);
    assert.equal(results.posts.length, 30);
    assert.ok(results.posts.every((post) => post.extra.is_pull_request === true && post.rating === null));
    const first = results.posts[0]!;
    assert.equal(first.externalId, '12068673');
    assert.equal(first.url, 'https://github.com/hrydgard/ppsspp/pull/997');
    assert.equal(first.author, 'oioitff');
    assert.equal(first.title, 'Make sceMpeg and sceAtrac basiclly workable for PC');
    assert.equal(first.publishedAt.toISOString(), '2013-03-15T15:46:16.000Z');
    assert.match(first.text, /^I use ffmpeg for video decoding .* other platforms\.\nBy the way, I haven't add/s);
    assert.ok(!first.text.includes('\r'));
    assert.deepEqual(first.extra, { number: 997, state: 'closed', comments: 1017, repository: 'hrydgard/ppsspp', is_pull_request: true, labels: [] });
    assert.deepEqual(results.posts[3]?.extra.labels, ['Feedback-PatchFix', 'Comp-Core']);
  });

  test('reads the synthetic page 2: labels, a pull request, reactions as the rating, a missing body as empty text', () => {
    const [issue, pull, bodiless] = parseSearchResults(JSON.parse(PAGE_2), API_URL).posts;
    assert.equal(issue?.title, 'Sesame oil crate arrives <open> & leaking');
    assert.equal(issue?.text, 'The crate said **sesame** & was sealed.\n\n- [ ] check the lid\n- [x] call the shop');
    assert.equal(issue?.rating, 5);
    assert.deepEqual(issue?.extra.labels, ['bug', 'good first issue']);
    assert.equal(pull?.extra.is_pull_request, true);
    assert.equal(pull?.extra.state, 'closed');
    assert.equal(pull?.url, 'https://github.com/synthetic-org/synthetic-repo/pull/11');
    assert.equal(bodiless?.text, '');
  });

  test('rejects an answer without items, or an item without created_at, as upstream_bad_response', () => {
    for (const body of [{ message: 'Not Found' }, { total_count: 1, items: [{ id: 1, html_url: 'https://github.com/a/b/issues/1' }] }]) {
      assert.throws(() => parseSearchResults(body, API_URL), (error: JobError) => {
        assert.equal(error.code, 'upstream_bad_response');
        assert.equal(error.permanent, true);
        assert.match(error.message, /lib\/sources\/github\.ts/);
        return true;
      });
    }
  });
});

describe('the Link header parser (RFC 8288)', () => {
  test('finds next and last in the header recorded by PyGithub', () => {
    const links = parseLinkHeader(pygithubHeaders.link);
    assert.deepEqual(links.map((link) => [link.rels, new URL(link.href).searchParams.get('page')]), [[['next'], '2'], [['last'], '34']]);
    assert.equal(linkWithRel(pygithubHeaders.link, 'next'), 'https://api.github.com/search/issues?sort=comments&q=compile+language%3AC%2B%2B&order=desc&page=2');
    assert.equal(linkWithRel(pygithubHeaders.link, 'prev'), null);
  });

  test('keeps commas and semicolons inside targets and quoted values, and reads several relation types', () => {
    const header = '</a,b;c>; title="x, y; z"; REL="Next  Last", <https://other.example/p?q=1>;rel=prev;title=ignored;title="second"';
    const links = parseLinkHeader(header, 'https://api.example/base/');
    assert.deepEqual(links, [
      { href: 'https://api.example/a,b;c', rels: ['next', 'last'], params: { title: 'x, y; z' } },
      { href: 'https://other.example/p?q=1', rels: ['prev'], params: { title: 'ignored' } },
    ]);
  });

  test('unescapes quoted strings, prefers title* and skips what is not a link', () => {
    const header = 'garbage, <https://a.example/1>; rel="next"; title="say \\"hi\\""; title*=UTF-8\'en\'%E2%9C%93, <http://[bad>; rel=last';
    assert.deepEqual(parseLinkHeader(header), [{ href: 'https://a.example/1', rels: ['next'], params: { title: '✓' } }]);
    assert.deepEqual(parseLinkHeader(undefined), []);
    assert.deepEqual(parseLinkHeader(''), []);
  });

  test('moves a target onto the configured origin, keeping its path and query', () => {
    assert.equal(onOrigin('https://api.github.com/search/issues?q=x&page=2', 'http://127.0.0.1:4000'), 'http://127.0.0.1:4000/search/issues?q=x&page=2');
  });
});

describe('configuration and queries', () => {
  test('needs no variable; GITHUB_TOKEN raises the rate limit from 10 to 30 searches a minute', () => {
    const anonymous = createSource({ env: new EnvReader({}) });
    const withToken = createSource({ env: new EnvReader({ GITHUB_TOKEN: 'ghp_synthetic' }) });
    assert.equal(anonymous.name, 'github');
    assert.equal(anonymous.missingSettings(), null);
    assert.equal(withToken.missingSettings(), null);
    assert.deepEqual(anonymous.rateLimit, { requests: 10, perMs: 60_000, concurrency: 1 });
    assert.deepEqual(withToken.rateLimit, { requests: 30, perMs: 60_000, concurrency: 1 });
    assert.deepEqual(anonymous.settings.map((s) => [s.name, s.secret ?? false, s.required ?? false]), [['GITHUB_TOKEN', true, false]]);
  });

  test('accepts words with qualifiers and refuses empty, control characters or more than 256 characters of words', () => {
    assert.equal(validateQuery('sesame repo:octokit-fixture-org/x is:issue'), null);
    assert.equal(validateQuery(`${'a'.repeat(250)} repo:${'b'.repeat(100)}/c`), null);
    for (const bad of ['', '  ', 'tab\there', 'a'.repeat(257)]) assert.ok(validateQuery(bad), `expected ${JSON.stringify(bad)} to be refused`);
  });
});

describe('scraping over a fake GitHub', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => upstream.reset());

  const json = (body: string, headers: Record<string, string> = {}): Reply => ({
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body,
  });
  const pageLink = (page: number, rel: string) => `<${upstream.baseUrl}/search/issues?q=sesame&sort=created&order=desc&per_page=20&page=${page}>; rel="${rel}"`;

  /** Page 1 is the octokit recording, page 2 synthetic, page 3 the PyGithub body (the last page: no rel="next"). */
  function serveThreePages(): void {
    const rateHeaders = { 'x-ratelimit-limit': octokitHeaders['x-ratelimit-limit']!, 'x-ratelimit-remaining': '29', 'x-ratelimit-resource': 'search' };
    upstream.on('GET', '/search/issues', (req) => {
      const page = req.query.get('page') ?? '1';
      if (page === '1') return json(OCTOKIT_BODY, { ...rateHeaders, link: `${pageLink(2, 'next')}, ${pageLink(3, 'last')}` });
      if (page === '2') return json(PAGE_2, { ...rateHeaders, link: `${pageLink(1, 'prev')}, ${pageLink(3, 'next')}, ${pageLink(3, 'last')}` });
      if (page === '3') return json(PYGITHUB_BODY, { ...rateHeaders, link: `${pageLink(2, 'prev')}, ${pageLink(1, 'first')}` });
      return { status: 422, body: '{"message":"Validation Failed"}' };
    });
  }

  async function scrape(t: TestContext, options: { query?: string; limit: number; token?: string | null; since?: HighWaterMark | null }): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const source = createGithubSource({ token: options.token ?? null });
    const pages: ScrapedPage[] = [];
    const ctx = withIntake({ query: options.query ?? 'sesame', limit: options.limit, signal: noSignal(), http, baseUrl: upstream.baseUrl, log: silentLogger, since: options.since ?? null });
    for await (const page of source.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, options: Parameters<typeof scrape>[1]): Promise<JobError> {
    return rejected(scrape(t, options));
  }

  test('asks for the newest first with the API version headers, follows rel="next" and keeps exactly the limit', async (t) => {
    serveThreePages();
    const pages = await scrape(t, { limit: 20 });
    assert.deepEqual(
      upstream.requests.map((r) => [r.path, r.query.get('q'), r.query.get('sort'), r.query.get('order'), r.query.get('per_page'), r.query.get('page')]),
      [
        ['/search/issues', 'sesame', 'created', 'desc', '20', null],
        ['/search/issues', 'sesame', 'created', 'desc', '20', '2'],
        ['/search/issues', 'sesame', 'created', 'desc', '20', '3'],
      ],
    );
    const first = upstream.requests[0]!;
    assert.equal(first.headers['accept'], 'application/vnd.github+json');
    assert.equal(first.headers['x-github-api-version'], '2022-11-28');
    assert.equal(first.headers['authorization'], undefined);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length]), [[1, 2], [2, 3], [3, 15]]);
    assert.deepEqual(pages[0]?.meta, { total_count: 2, results_capped: false, incomplete_results: false });
    assert.equal(pages[2]?.meta?.total_count, 29512);
    assert.equal(pages[2]?.meta?.results_capped, true);
    assert.equal(pages.flatMap((p) => p.posts)[5]?.externalId, '12068673');
  });

  test('stops in the middle of a page at the limit and reads no further page', async (t) => {
    serveThreePages();
    const pages = await scrape(t, { limit: 4 });
    assert.equal(upstream.requests.length, 2);
    assert.deepEqual(pages.map((p) => p.posts.length), [2, 2]);
    assert.equal(upstream.requests[0]?.query.get('per_page'), '4');
  });

  test('stops at the last page, the one without rel="next"', async (t) => {
    serveThreePages();
    const pages = await scrape(t, { limit: 500 });
    assert.equal(upstream.requests.length, 3);
    assert.equal(pages.flatMap((p) => p.posts).length, 35);
  });

  test('stops at the newest issue an earlier run stored, reading only the pages before it', async (t) => {
    serveThreePages();
    const pages = await scrape(t, { limit: 100, since: { publishedAt: new Date('2022-07-10T12:00:00Z'), externalId: '1300000011' } });
    assert.deepEqual(upstream.requests.map((r) => r.query.get('page')), [null, '2']);
    assert.deepEqual(pages.flatMap((p) => p.posts.map((post) => post.externalId)), ['1308970076', '1308970043', '1300000012']);
  });

  test('sends GITHUB_TOKEN as a bearer token', async (t) => {
    serveThreePages();
    await scrape(t, { limit: 2, token: 'ghp_synthetic' });
    assert.equal(upstream.requests[0]?.headers['authorization'], 'Bearer ghp_synthetic');
  });

  test('follows GitHub\'s absolute Link targets on the configured base URL, never on api.github.com', async (t) => {
    upstream.on('GET', '/search/issues', (req) => (req.query.get('page') ? json(PAGE_2) : json(PYGITHUB_BODY, { link: pygithubHeaders.link! })));
    const pages = await scrape(t, { limit: 33 });
    assert.deepEqual(upstream.requests.map((r) => [r.query.get('q'), r.query.get('page')]), [['sesame', null], ['compile language:C++', '2']]);
    assert.deepEqual(pages.map((p) => p.posts.length), [30, 3]);
  });

  test('stops at the 1,000 results the search API serves and says the results were capped', async (t) => {
    const item = (octokitSearch.response as { items: Record<string, unknown>[] }).items[0]!;
    const newest = Date.parse('2022-07-19T04:40:52Z');
    upstream.on('GET', '/search/issues', (req) => {
      const page = Number(req.query.get('page') ?? 1);
      const items = Array.from({ length: 100 }, (_, i) => {
        const n = (page - 1) * 100 + i;
        return { ...item, id: 5_000_000 + n, number: n + 1, created_at: new Date(newest - n * 60_000).toISOString().replace('.000', '') };
      });
      return json(JSON.stringify({ total_count: 4321, incomplete_results: false, items }), { link: pageLink(page + 1, 'next') });
    });
    const pages = await scrape(t, { limit: 5_000 });
    assert.equal(upstream.requests.length, 10);
    assert.equal(pages.flatMap((p) => p.posts).length, 1_000);
    assert.deepEqual(pages.at(-1)?.meta, { total_count: 4321, results_capped: true, incomplete_results: false });
    assert.equal(pages[0]?.pagesPlanned, 10);
  });

  test('waits out a 429 with Retry-After: 1 and goes on', async (t) => {
    let calls = 0;
    upstream.on('GET', '/search/issues', () => (calls++ === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: '' } : json(OCTOKIT_BODY)));
    const pages = await scrape(t, { limit: 10 });
    assert.equal(pages[0]?.posts.length, 2);
    const [refused, retried] = upstream.requests;
    assert.ok(retried!.time - refused!.time >= 990, `retried after ${retried!.time - refused!.time} ms`);
  });

  test('treats a 403 with x-ratelimit-remaining: 0 as a used-up quota: waits for x-ratelimit-reset, then goes on', async (t) => {
    const resetSeconds = Math.ceil(Date.now() / 1000) + 1;
    let calls = 0;
    upstream.on('GET', '/search/issues', () =>
      calls++ === 0
        ? { status: 403, headers: { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetSeconds), 'x-ratelimit-resource': 'search' }, body: '{"message":"API rate limit exceeded"}' }
        : json(OCTOKIT_BODY),
    );
    const pages = await scrape(t, { limit: 10 });
    assert.equal(pages[0]?.posts.length, 2);
    assert.equal(upstream.requests.length, 2);
    assert.ok(upstream.requests[1]!.time >= resetSeconds * 1000 - 5, 'the retry went before the announced reset');
  });

  test('reports a 403 that announces no rate limit as upstream_blocked at once', async (t) => {
    upstream.on('GET', '/search/issues', () => ({ status: 403, body: '{"message":"Forbidden"}' }));
    const error = await scrapeError(t, { limit: 10 });
    assert.equal(error.code, 'upstream_blocked');
    assert.equal(error.permanent, true);
    assert.match(error.message, /refused the search \(HTTP 403\) without announcing a rate limit.*IP address may be blocked.*set GITHUB_TOKEN/);
    assert.equal(upstream.requests.length, 1);
  });

  test('fails at once with upstream_login_required naming GITHUB_TOKEN when GitHub refuses the token', async (t) => {
    upstream.on('GET', '/search/issues', () => ({ status: 401, body: '{"message":"Bad credentials"}' }));
    const error = await scrapeError(t, { limit: 10, token: 'ghp_revoked' });
    assert.equal(error.code, 'upstream_login_required');
    assert.equal(error.permanent, true);
    assert.match(error.message, /^GitHub refused GITHUB_TOKEN \(HTTP 401\).*unset GITHUB_TOKEN/);
    assert.ok(!error.message.includes('ghp_revoked'));
    assert.equal(upstream.requests.length, 1);
  });

  test('refuses an invalid query before sending anything', async (t) => {
    const error = await scrapeError(t, { query: ' ', limit: 10 });
    assert.equal(error.code, 'invalid_query');
    assert.equal(upstream.requests.length, 0);
  });
});

describe('a GitHub job through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    const page3Link = `<${upstream.baseUrl}/search/issues?q=sesame&page=3>; rel="next"`;
    upstream.on('GET', '/search/issues', (req) => {
      const page = req.query.get('page');
      const headers = { 'content-type': 'application/json; charset=utf-8' };
      if (!page) return { headers: { ...headers, link: `<${upstream.baseUrl}/search/issues?q=sesame&page=2>; rel="next"` }, body: OCTOKIT_BODY };
      return page === '2' ? { headers: { ...headers, link: page3Link }, body: PAGE_2 } : { headers, body: PYGITHUB_BODY };
    });
    pipeline = await startPipeline('source_github', { SOURCE_BASE_URL_GITHUB: upstream.baseUrl });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  test('completes with its counts and stores the issues in the posts table', async () => {
    const job = await pipeline.scrape('github', 'sesame', { limit: 20 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual([job.result?.found, job.result?.inserted, job.result?.pages], [20, 20, 3]);
    const rows = await pipeline.services.sql<{ external_id: string; author: string; title: string; body: string; rating: number | null; published_at: Date; extra: Record<string, unknown> }[]>`
      select external_id, author, title, body, rating, published_at, extra from posts where source = 'github' order by published_at desc
    `;
    assert.equal(rows.length, 20);
    assert.deepEqual(
      { ...rows[0], published_at: rows[0]?.published_at.toISOString() },
      {
        external_id: '1308970076',
        author: 'octokit-fixture-user-b',
        title: 'Sesame seeds split without a pop!',
        body: 'I’ve waited all year long, but there was no pop 😭',
        rating: 0,
        published_at: '2022-07-19T04:40:52.000Z',
        extra: {
          number: 2,
          state: 'open',
          comments: 0,
          repository: 'octokit-fixture-org/tmp-scenario-search-issues-20220719044045959-jlcli',
          is_pull_request: false,
          labels: [],
        },
      },
    );
  });
});
