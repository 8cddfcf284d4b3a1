import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark, ScrapedPost } from '../lib/model/post.ts';
import { createSource, jwtExpiry, parseSearchResponse } from '../lib/sources/bluesky.ts';
import type { ScrapedPage, Source } from '../lib/sources/types.ts';
import { type FakeRequest, type FakeUpstream, type Reply, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { inTurn } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected } from './helpers/job-errors.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

const SESSION = fixture('bluesky/create-session-synthetic.json');
const REFRESHED = fixture('bluesky/refresh-session-synthetic.json');
const PAGE_1 = fixture('bluesky/search-posts-page1-synthetic.json');
const PAGE_2 = fixture('bluesky/search-posts-page2-synthetic.json');
const FIRST = JSON.parse(SESSION) as { accessJwt: string; refreshJwt: string };
const SECOND = JSON.parse(REFRESHED) as { accessJwt: string; refreshJwt: string };
const CREDENTIALS = { BLUESKY_HANDLE: '@acme-feedback.bsky.social', BLUESKY_APP_PASSWORD: 'abcd-efgh-ijkl-mnop' };
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const CREATE = '/xrpc/com.atproto.server.createSession';
const REFRESH = '/xrpc/com.atproto.server.refreshSession';
const SEARCH = '/xrpc/app.bsky.feed.searchPosts';

const json = (body: string, extra: Partial<Reply> = {}): Reply => ({ headers: JSON_TYPE, body, ...extra });
const bearer = (req: FakeRequest) => req.headers.authorization?.replace(/^Bearer /, '');

/** A PDS that accepts both synthetic sessions (or only `validTokens`) and serves the two search pages by cursor. */
function serveBluesky(upstream: FakeUpstream, validTokens = [FIRST.accessJwt, SECOND.accessJwt]): void {
  upstream.on('POST', CREATE, () => json(SESSION));
  upstream.on('POST', REFRESH, (req) => (bearer(req) === FIRST.refreshJwt ? json(REFRESHED) : json(fixture('bluesky/expired-token-synthetic.json'), { status: 400 })));
  upstream.on('GET', SEARCH, (req) => {
    if (!validTokens.includes(bearer(req) ?? '')) return json(fixture('bluesky/expired-token-synthetic.json'), { status: 401 });
    return json(req.query.get('cursor') === '3' ? PAGE_2 : PAGE_1);
  });
}

/** Answers each request with the next handler in the list, repeating the last one. */
/** A JWT-shaped token whose only meaningful claim is `exp`. */
function tokenExpiringAt(ms: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'at+jwt', alg: 'ES256K' })}.${part({ scope: 'com.atproto.access', exp: Math.floor(ms / 1000) })}.c2lnbmF0dXJl`;
}

describe('parseSearchResponse on the synthetic searchPosts pages', () => {
  const page = parseSearchResponse(JSON.parse(PAGE_1));

  test('reads every field of a post', () => {
    assert.deepEqual(page.posts[0], {
      externalId: 'at://did:plc:alice2synthetic/app.bsky.feed.post/3kraa2synth01',
      url: 'https://bsky.app/profile/alice.bsky.social/post/3kraa2synth01',
      author: 'alice.bsky.social',
      title: null,
      text: 'Acme\'s status page said "all good" for 40 minutes while nothing loaded 🙃 & support never answered',
      rating: 12,
      language: 'en',
      publishedAt: new Date('2024-05-01T12:00:00.000Z'),
      reply: null,
      extra: { did: 'did:plc:alice2synthetic', display_name: 'Alice', replies: 2, reposts: 3 },
    } satisfies ScrapedPost);
    assert.equal(page.cursor, '3');
  });

  test('links an account whose handle no longer resolves by its DID', () => {
    const post = page.posts[1]!;
    assert.equal(post.author, 'did:plc:bernd3synthetic');
    assert.equal(post.url, 'https://bsky.app/profile/did:plc:bernd3synthetic/post/3kraa2synth02');
    assert.equal(post.language, 'de');
    assert.equal(post.extra.display_name, null);
  });

  test('dates a post from a clock in the future by when Bluesky indexed it', () => {
    const post = page.posts[2]!;
    assert.equal(post.publishedAt.toISOString(), '2024-05-01T10:00:00.000Z');
    assert.equal(post.language, null);
  });

  test('reads offsets in createdAt, and no cursor on the last page', () => {
    const last = parseSearchResponse(JSON.parse(PAGE_2));
    assert.equal(last.posts[1]!.publishedAt.toISOString(), '2024-04-29T18:15:00.000Z');
    assert.equal(last.cursor, null);
  });

  test('rejects an answer without a posts list as upstream_bad_response', () => {
    assert.throws(() => parseSearchResponse({ hitsTotal: 0 }), (error: unknown) => error instanceof JobError && error.code === 'upstream_bad_response');
  });

  test('reads the expiry of an access token, and null from anything else', () => {
    assert.equal(jwtExpiry(FIRST.accessJwt), Date.parse('2100-01-01T00:00:00Z'));
    assert.equal(jwtExpiry('not-a-jwt'), null);
  });
});

describe('the settings Bluesky needs', () => {
  const missing = (env: Record<string, string>) => createSource({ env: new EnvReader(env) }).missingSettings();

  test('names both variables when neither is set, and only the missing one otherwise', () => {
    assert.match(missing({}) ?? '', /^set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD: .*app password/);
    assert.match(missing({ BLUESKY_HANDLE: 'a.bsky.social' }) ?? '', /^set BLUESKY_APP_PASSWORD:/);
    assert.match(missing({ BLUESKY_APP_PASSWORD: 'x' }) ?? '', /^set BLUESKY_HANDLE:/);
    assert.equal(missing(CREDENTIALS), null);
  });

  test('documents both as required and the password as secret', () => {
    const { settings } = createSource({ env: new EnvReader({}) });
    assert.deepEqual(settings.map((s) => [s.name, s.required, s.secret ?? false]), [['BLUESKY_HANDLE', true, false], ['BLUESKY_APP_PASSWORD', true, true]]);
  });
});

describe('scraping over a fake Bluesky', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => upstream.reset());

  function newSource(env: Record<string, string> = CREDENTIALS): Source {
    return createSource({ env: new EnvReader(env) });
  }

  async function scrape(t: TestContext, options: { source?: Source; limit?: number; since?: HighWaterMark | null; query?: string } = {}): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const ctx = withIntake({ query: options.query ?? 'acme', limit: options.limit ?? 50, signal: new AbortController().signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since: options.since ?? null });
    const pages: ScrapedPage[] = [];
    for await (const page of (options.source ?? newSource()).scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, options: Parameters<typeof scrape>[1] = {}): Promise<JobError> {
    return rejected(scrape(t, options));
  }

  const calls = () => upstream.requests.map((r) => (r.path === SEARCH ? `search limit=${r.query.get('limit')} cursor=${r.query.get('cursor')}` : r.path));

  test('logs in, then pages by cursor with the access token and keeps exactly the limit', async (t) => {
    serveBluesky(upstream);
    const pages = await scrape(t, { limit: 4 });
    assert.deepEqual(calls(), [CREATE, 'search limit=4 cursor=null', 'search limit=1 cursor=3']);
    const search = upstream.requests[1]!;
    assert.deepEqual([search.query.get('q'), search.query.get('sort'), bearer(search)], ['acme', 'latest', FIRST.accessJwt]);
    assert.equal(upstream.requests[0]!.headers['content-type'], 'application/json');
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length, p.pagesPlanned]), [[1, 3, null], [2, 1, null]]);
  });

  test('stops when the answer has no cursor', async (t) => {
    serveBluesky(upstream);
    const pages = await scrape(t, { limit: 100 });
    assert.deepEqual(calls(), [CREATE, 'search limit=100 cursor=null', 'search limit=97 cursor=3']);
    assert.deepEqual(pages.map((p) => p.posts.length), [3, 2]);
  });

  test('stops at the newest post an earlier run stored and reads no further page', async (t) => {
    serveBluesky(upstream);
    const mark = parseSearchResponse(JSON.parse(PAGE_1)).posts[1]!;
    const pages = await scrape(t, { limit: 100, since: { publishedAt: mark.publishedAt, externalId: mark.externalId } });
    assert.deepEqual(calls(), [CREATE, 'search limit=100 cursor=null']);
    assert.deepEqual(pages.flatMap((p) => p.posts.map((post) => post.author)), ['alice.bsky.social']);
  });

  test('logs in once for every job the worker runs', async (t) => {
    serveBluesky(upstream);
    const source = newSource();
    await scrape(t, { source, limit: 3 });
    await scrape(t, { source, limit: 3 });
    assert.deepEqual(calls(), [CREATE, 'search limit=3 cursor=null', 'search limit=3 cursor=null']);
  });

  test('refreshes an expired session with the refresh token and repeats the search', async (t) => {
    serveBluesky(upstream, [SECOND.accessJwt]);
    const pages = await scrape(t, { limit: 3 });
    assert.deepEqual(calls(), [CREATE, 'search limit=3 cursor=null', REFRESH, 'search limit=3 cursor=null']);
    assert.equal(bearer(upstream.requests[2]!), FIRST.refreshJwt);
    assert.equal(bearer(upstream.requests[3]!), SECOND.accessJwt);
    assert.equal(pages[0]!.posts.length, 3);
  });

  test('logs in again when the refresh token is refused as well', async (t) => {
    serveBluesky(upstream);
    upstream.on('POST', CREATE, inTurn(() => json(REFRESHED), () => json(SESSION)));
    upstream.on('POST', REFRESH, () => json(fixture('bluesky/expired-token-synthetic.json'), { status: 400 }));
    upstream.on('GET', SEARCH, (req) => (bearer(req) === FIRST.accessJwt ? json(PAGE_1) : json(fixture('bluesky/expired-token-synthetic.json'), { status: 401 })));
    const pages = await scrape(t, { limit: 3 });
    assert.deepEqual(calls(), [CREATE, 'search limit=3 cursor=null', REFRESH, CREATE, 'search limit=3 cursor=null']);
    assert.equal(pages[0]!.posts.length, 3);
  });

  test('renews a session about to expire before searching with it', async (t) => {
    serveBluesky(upstream);
    const expiring = { ...JSON.parse(SESSION), accessJwt: tokenExpiringAt(Date.now() + 10_000) };
    upstream.on('POST', CREATE, () => json(JSON.stringify(expiring)));
    await scrape(t, { limit: 3 });
    assert.deepEqual(calls(), [CREATE, REFRESH, 'search limit=3 cursor=null']);
  });

  test('fails for good, naming both variables, when Bluesky refuses the app password (HTTP 401)', async (t) => {
    upstream.on('POST', CREATE, () => json(fixture('bluesky/auth-required-synthetic.json'), { status: 401 }));
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_login_required');
    assert.equal(error.permanent, true);
    assert.match(error.message, /BLUESKY_HANDLE "acme-feedback\.bsky\.social" .*HTTP 401.*BLUESKY_APP_PASSWORD/);
    assert.doesNotMatch(error.message, /abcd-efgh/);
    assert.deepEqual(calls(), [CREATE]);
  });

  test('fails for good when even a fresh session is refused', async (t) => {
    serveBluesky(upstream, []);
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_login_required');
    assert.match(error.message, /even with a fresh session .*account is active/);
    assert.deepEqual(calls(), [CREATE, 'search limit=50 cursor=null', REFRESH, 'search limit=50 cursor=null']);
  });

  test('fails at once without credentials', async (t) => {
    const error = await scrapeError(t, { source: newSource({}) });
    assert.equal(error.code, 'upstream_login_required');
    assert.match(error.message, /BLUESKY_HANDLE and BLUESKY_APP_PASSWORD/);
    assert.equal(upstream.requests.length, 0);
  });

  test('waits out a 429 with Retry-After: 1 and then reads the page', async (t) => {
    serveBluesky(upstream);
    upstream.on('GET', SEARCH, inTurn(
      () => json(fixture('bluesky/rate-limited-synthetic.json'), { status: 429, headers: { ...JSON_TYPE, 'retry-after': '1' } }),
      () => json(PAGE_2),
    ));
    const pages = await scrape(t);
    assert.deepEqual(pages.map((p) => p.posts.length), [2]);
    const [limited, retried] = upstream.requests.filter((r) => r.path === SEARCH);
    assert.ok(retried!.time - limited!.time >= 950, `retried after ${retried!.time - limited!.time} ms`);
  });

  test('holds the host until ratelimit-reset when ratelimit-remaining reaches 0', async (t) => {
    serveBluesky(upstream);
    const resetSeconds = Math.ceil(Date.now() / 1000) + 1;
    upstream.on('GET', SEARCH, inTurn(
      () => json(PAGE_1, { headers: { ...JSON_TYPE, 'ratelimit-limit': '3000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(resetSeconds) } }),
      () => json(PAGE_2),
    ));
    await scrape(t, { limit: 10 });
    const second = upstream.requests.filter((r) => r.path === SEARCH)[1]!;
    assert.ok(second.time >= resetSeconds * 1000 - 20, `page 2 was asked for ${resetSeconds * 1000 - second.time} ms before the reset`);
  });

  test('refuses an empty query before sending anything', async (t) => {
    const error = await scrapeError(t, { query: '   ' });
    assert.equal(error.code, 'invalid_query');
    assert.equal(upstream.requests.length, 0);
  });
});

describe('bluesky jobs through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  let withoutCredentials: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    serveBluesky(upstream);
    pipeline = await startPipeline('source_bluesky', { SOURCE_BASE_URL_BLUESKY: upstream.baseUrl, ...CREDENTIALS });
    withoutCredentials = await startPipeline('source_bluesky_nocreds', { SOURCE_BASE_URL_BLUESKY: upstream.baseUrl });
  });
  after(async () => {
    await pipeline?.close();
    await withoutCredentials?.close();
    await upstream?.close();
  });

  test('stores the five posts of both pages', async () => {
    const job = await pipeline.scrape('bluesky', 'acme', { limit: 50 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual([job.result?.found, job.result?.inserted, job.result?.pages], [5, 5, 2]);
    const rows = await pipeline.services.sql<{ external_id: string; author: string; language: string | null }[]>`
      select external_id, author, language from posts where source = 'bluesky' order by published_at desc`;
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[0], { external_id: 'at://did:plc:alice2synthetic/app.bsky.feed.post/3kraa2synth01', author: 'alice.bsky.social', language: 'en' });
  });

  test('fails a job at once, naming the variables, when the credentials are not set', async () => {
    const before = upstream.requests.length;
    const job = await withoutCredentials.scrape('bluesky', 'acme', { limit: 50 });
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 1);
    assert.equal(job.error?.code, 'upstream_login_required');
    assert.match(job.error?.message ?? '', /set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD/);
    assert.equal(upstream.requests.length, before);
  });
});
