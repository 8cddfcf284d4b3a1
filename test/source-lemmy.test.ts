import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { ConfigError, EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark, ScrapedPost } from '../lib/model/post.ts';
import { createSource, lemmyDate, parseSearchResponse } from '../lib/sources/lemmy.ts';
import type { ScrapedPage } from '../lib/sources/types.ts';
import { type FakeUpstream, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { inTurn } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected, thrown } from './helpers/job-errors.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

const WORLD_019 = fixture('lemmy/search-posts-lemmy-world-0.19-synthetic.json');
const ML_018 = fixture('lemmy/search-posts-lemmy-ml-0.18-synthetic.json');
const JSON_TYPE = { 'content-type': 'application/json' };

interface PostView {
  post: { id: number; ap_id: string; published: string; name: string };
}

/** `count` posts one minute apart, newest first, cloned from the first post of the 0.19 fixture. */
function generatedPosts(count: number): PostView[] {
  const template = (JSON.parse(WORLD_019) as { posts: PostView[] }).posts[0]!;
  const newest = Date.parse('2024-03-12T09:15:42Z');
  return Array.from({ length: count }, (_, i) => {
    const view = structuredClone(template);
    view.post.id = 20_000_000 - i;
    view.post.ap_id = `https://lemmy.world/post/${view.post.id}`;
    view.post.published = new Date(newest - i * 60_000).toISOString();
    view.post.name = `Generated post ${i + 1}`;
    return view;
  });
}

/** Serves `posts` the way Lemmy pages a search: by offset, (page - 1) × limit. */
function serveSearch(upstream: FakeUpstream, posts: unknown[]): void {
  upstream.on('GET', '/api/v3/search', (req) => {
    const limit = Number(req.query.get('limit'));
    const page = Number(req.query.get('page'));
    const body = { type_: 'Posts', comments: [], posts: posts.slice((page - 1) * limit, page * limit), communities: [], users: [] };
    return { headers: JSON_TYPE, body: JSON.stringify(body) };
  });
}

/** Answers each request with the next handler in the list, repeating the last one. */
describe('parseSearchResponse on the synthetic Lemmy 0.19 answer', () => {
  const { posts } = parseSearchResponse(JSON.parse(WORLD_019), 'https://lemmy.world');

  test('reads every field of a local text post', () => {
    assert.deepEqual(posts[0], {
      externalId: 'https://lemmy.world/post/13370001',
      url: 'https://lemmy.world/post/13370001',
      author: 'alice@lemmy.world',
      title: 'Acme Cloud billing export is broken again',
      text: 'Since the update the **CSV export** drops every line after the first 1,000 rows & support says "it\'s known".\n\nAnyone found a workaround?',
      rating: 42,
      language: null,
      publishedAt: new Date('2024-03-12T09:15:42.123Z'),
      reply: null,
      extra: { community: 'technology@lemmy.world', comments: 7, upvotes: 45, downvotes: 3, instance: 'lemmy.world', link_url: null, nsfw: false },
    } satisfies ScrapedPost);
  });

  test('names people and communities of other instances by their home instance', () => {
    const federated = posts[1]!;
    assert.equal(federated.externalId, 'https://lemmy.ml/post/987654');
    assert.equal(federated.author, 'bob@lemmy.ml');
    assert.equal(federated.extra.community, 'linux@lemmy.ml');
    assert.equal(federated.extra.instance, 'lemmy.world');
    assert.equal(federated.extra.link_url, 'https://example.com/acme-outage-report');
    assert.equal(federated.text, '');
    assert.equal(federated.publishedAt.toISOString(), '2024-03-11T18:00:00.500Z');
  });

  test('keeps a negative score and the nsfw flag', () => {
    assert.equal(posts[2]!.rating, -2);
    assert.equal(posts[2]!.extra.nsfw, true);
    assert.equal(posts[2]!.text, 'Post your *angry* messages here <3');
  });

  test('leaves out posts that were deleted or removed', () => {
    const answer = JSON.parse(WORLD_019) as { posts: { post: Record<string, unknown> }[] };
    answer.posts[0]!.post.deleted = true;
    answer.posts[1]!.post.removed = true;
    const page = parseSearchResponse(answer, 'https://lemmy.world');
    assert.deepEqual(page.posts.map((p) => p.externalId), ['https://lemmy.world/post/13369001']);
    assert.equal(page.listed, 3);
  });

  test('rejects an answer without a posts list as upstream_bad_response', () => {
    const error = thrown(() => parseSearchResponse({ error: 'unknown' }, 'https://lemmy.world'));
    assert.equal(error.code, 'upstream_bad_response');
    assert.match(error.message, /LEMMY_INSTANCES/);
  });
});

describe('parseSearchResponse on the synthetic Lemmy 0.18 answer', () => {
  const { posts } = parseSearchResponse(JSON.parse(ML_018), 'https://lemmy.ml');

  test('reads times without a zone as UTC', () => {
    assert.deepEqual(posts.map((p) => p.publishedAt.toISOString()), ['2024-03-11T18:00:00.500Z', '2024-03-10T12:05:09.000Z']);
  });

  test('decodes the entities 0.18 stored in titles and bodies', () => {
    assert.equal(posts[1]!.title, 'Moving off Acme Cloud: what we learned & what we miss');
    assert.equal(posts[1]!.text, 'Three years on Acme, two weeks to leave.\n\n- exports are slow > 1 hour\n- support is kind but slow');
    assert.equal(posts[1]!.author, 'dave@lemmy.ml');
  });

  test('lemmyDate accepts Z, offsets and no zone at all', () => {
    assert.equal(lemmyDate('2024-03-11T18:00:00.123456Z')?.toISOString(), '2024-03-11T18:00:00.123Z');
    assert.equal(lemmyDate('2024-03-11T20:00:00+02:00')?.toISOString(), '2024-03-11T18:00:00.000Z');
    assert.equal(lemmyDate('2024-03-11T18:00:00')?.toISOString(), '2024-03-11T18:00:00.000Z');
    assert.equal(lemmyDate('yesterday'), null);
    assert.equal(lemmyDate(null), null);
  });
});

describe('scraping over a fake Lemmy instance', () => {
  let upstream: FakeUpstream;
  let other: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
    other = await startFakeUpstream();
  });
  after(async () => {
    await upstream.close();
    await other.close();
  });
  beforeEach(() => {
    upstream.reset();
    other.reset();
  });

  async function scrape(t: TestContext, options: { env?: Record<string, string>; limit?: number; since?: HighWaterMark | null; query?: string } = {}): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const source = createSource({ env: new EnvReader(options.env ?? {}) });
    const ctx = withIntake({ query: options.query ?? 'acme', limit: options.limit ?? 50, signal: new AbortController().signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since: options.since ?? null });
    const pages: ScrapedPage[] = [];
    for await (const page of source.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, options: Parameters<typeof scrape>[1] = {}): Promise<JobError> {
    return rejected(scrape(t, options));
  }

  const pageParams = (fake: FakeUpstream) => fake.requests.map((r) => [r.query.get('limit'), r.query.get('page')]);

  test('asks for new posts only, 50 a page, and keeps exactly the limit', async (t) => {
    serveSearch(upstream, generatedPosts(120));
    const pages = await scrape(t, { limit: 60 });
    const [first] = upstream.requests;
    assert.deepEqual([first!.path, first!.query.get('q'), first!.query.get('type_'), first!.query.get('sort')], ['/api/v3/search', 'acme', 'Posts', 'New']);
    assert.deepEqual(pageParams(upstream), [['50', '1'], ['50', '2']]);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length]), [[1, 50], [2, 10]]);
    assert.equal(pages[1]!.posts[9]!.title, 'Generated post 60');
  });

  test('asks for no more than the limit when it is below a page', async (t) => {
    serveSearch(upstream, generatedPosts(120));
    const pages = await scrape(t, { limit: 7 });
    assert.deepEqual(pageParams(upstream), [['7', '1']]);
    assert.equal(pages[0]!.posts.length, 7);
  });

  test('stops at a page shorter than asked for', async (t) => {
    serveSearch(upstream, generatedPosts(70));
    const pages = await scrape(t, { limit: 200 });
    assert.deepEqual(pageParams(upstream), [['50', '1'], ['50', '2']]);
    assert.deepEqual(pages.map((p) => p.posts.length), [50, 20]);
  });

  test('reads on past a full page even when deleted posts were left out of it', async (t) => {
    const posts = generatedPosts(120);
    for (const view of posts.slice(0, 3)) Object.assign(view.post, { deleted: true });
    serveSearch(upstream, posts);
    const pages = await scrape(t, { limit: 60 });
    assert.deepEqual(pageParams(upstream), [['50', '1'], ['50', '2']]);
    assert.deepEqual(pages.map((p) => p.posts.length), [47, 13]);
  });

  test('stops at the newest post an earlier run stored and reads no further page', async (t) => {
    const posts = generatedPosts(120);
    serveSearch(upstream, posts);
    const mark = parseSearchResponse({ posts: [posts[30]] }, upstream.baseUrl).posts[0]!;
    const pages = await scrape(t, { limit: 200, since: { publishedAt: mark.publishedAt, externalId: mark.externalId } });
    assert.deepEqual(pageParams(upstream), [['50', '1']]);
    assert.equal(pages[0]!.posts.length, 30);
    assert.equal(pages[0]!.posts.at(-1)!.title, 'Generated post 30');
  });

  test('keeps a post federated to several instances in LEMMY_INSTANCES once', async (t) => {
    upstream.on('GET', '/api/v3/search', () => ({ headers: JSON_TYPE, body: WORLD_019 }));
    other.on('GET', '/api/v3/search', () => ({ headers: JSON_TYPE, body: ML_018 }));
    const pages = await scrape(t, { limit: 20, env: { LEMMY_INSTANCES: `${upstream.baseUrl}, ${other.baseUrl}/` } });
    assert.equal(upstream.requests.length, 1);
    assert.equal(other.requests.length, 1);
    assert.deepEqual(pages.map((p) => p.posts.map((post) => post.externalId)), [
      ['https://lemmy.world/post/13370001', 'https://lemmy.ml/post/987654', 'https://lemmy.world/post/13369001'],
      ['https://lemmy.ml/post/987001'],
    ]);
    assert.equal(pages[1]!.posts[0]!.extra.instance, new URL(other.baseUrl).host);
    assert.deepEqual(pages[0]!.meta, { instances: [new URL(upstream.baseUrl).host, new URL(other.baseUrl).host] });
  });

  test('names the instance when it is private (HTTP 401)', async (t) => {
    upstream.on('GET', '/api/v3/search', () => ({ status: 401, headers: JSON_TYPE, body: '{"error":"not_logged_in"}' }));
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_login_required');
    assert.equal(error.permanent, true);
    assert.match(error.message, new RegExp(`instance ${upstream.baseUrl.replaceAll('.', '\\.')} is private.*LEMMY_INSTANCES`));
  });

  test('says an address without /api/v3/search is not a Lemmy instance', async (t) => {
    const error = await scrapeError(t);
    assert.equal(error.code, 'upstream_not_found');
    assert.match(error.message, /not a Lemmy instance.*LEMMY_INSTANCES/);
  });

  test('waits out a 429 with Retry-After: 1 and then reads the page', async (t) => {
    upstream.on('GET', '/api/v3/search', inTurn(
      () => ({ status: 429, headers: { ...JSON_TYPE, 'retry-after': '1' }, body: fixture('lemmy/rate-limited-synthetic.json') }),
      () => ({ headers: JSON_TYPE, body: WORLD_019 }),
    ));
    const pages = await scrape(t);
    assert.equal(pages[0]!.posts.length, 3);
    const [limited, retried] = upstream.requests;
    assert.ok(retried!.time - limited!.time >= 950, `retried after ${retried!.time - limited!.time} ms`);
  });

  test('refuses an empty query before sending anything', async (t) => {
    const error = await scrapeError(t, { query: ' ' });
    assert.equal(error.code, 'invalid_query');
    assert.equal(upstream.requests.length, 0);
  });

  test('needs no settings, and names LEMMY_INSTANCES when an address in it is not a URL', () => {
    assert.equal(createSource({ env: new EnvReader({}) }).missingSettings(), null);
    assert.throws(() => createSource({ env: new EnvReader({ LEMMY_INSTANCES: 'lemmy.world' }) }), (error: unknown) => error instanceof ConfigError && /LEMMY_INSTANCES/.test(error.message));
  });
});

describe('a lemmy job through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    upstream.on('GET', '/api/v3/search', () => ({ headers: JSON_TYPE, body: WORLD_019 }));
    pipeline = await startPipeline('source_lemmy', { SOURCE_BASE_URL_LEMMY: upstream.baseUrl });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  test('stores the three posts of the answer', async () => {
    const job = await pipeline.scrape('lemmy', 'acme', { limit: 50 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual([job.result?.found, job.result?.inserted, job.result?.pages], [3, 3, 1]);
    const rows = await pipeline.services.sql<{ external_id: string; author: string; rating: number; published_at: Date }[]>`
      select external_id, author, rating, published_at from posts where source = 'lemmy' order by published_at desc`;
    assert.deepEqual(rows.map((r) => [r.external_id, r.author, r.rating]), [
      ['https://lemmy.world/post/13370001', 'alice@lemmy.world', 42],
      ['https://lemmy.ml/post/987654', 'bob@lemmy.ml', 130],
      ['https://lemmy.world/post/13369001', 'carol@lemmy.world', -2],
    ]);
    assert.equal(rows[0]!.published_at.toISOString(), '2024-03-12T09:15:42.123Z');
  });
});
