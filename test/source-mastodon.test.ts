import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { ConfigError, EnvReader } from '../lib/config.ts';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark } from '../lib/model/post.ts';
import { linkWithRel } from '../lib/scrape/link-header.ts';
import { createMastodonSource, createSource, hashtagOf, statusToPost, validateQuery } from '../lib/sources/mastodon.ts';
import type { ScrapedPage } from '../lib/sources/types.ts';
import { type FakeUpstream, type Reply, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected } from './helpers/job-errors.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

interface RecordedExchange {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The response of the exchange for `method uri` in a vcrpy cassette, read without a YAML package. vcrpy writes
 * each body as a single-quoted scalar and each header as a one-item list; both may be folded over several lines,
 * which YAML joins with one space, and a quote inside a single-quoted scalar is written twice.
 */
function cassetteExchange(yaml: string, method: string, uri: string): RecordedExchange {
  const exchange = yaml.split(/^- request:$/m).find((part) => part.includes(`\n    method: ${method}\n    uri: ${uri}\n`));
  assert.ok(exchange, `no ${method} ${uri} in the cassette`);
  const response = exchange.slice(exchange.indexOf('\n  response:\n'));
  const bodyStart = response.indexOf("      string: '") + "      string: '".length;
  const bodyEnd = /'(?!')/g;
  bodyEnd.lastIndex = bodyStart;
  for (let match = bodyEnd.exec(response); match && response[match.index - 1] === "'"; match = bodyEnd.exec(response)) {
    bodyEnd.lastIndex = match.index + 1;
  }
  const rawBody = response.slice(bodyStart, bodyEnd.lastIndex - 1);
  const headers: Record<string, string> = {};
  const headerBlock = /\n    headers:\n([\s\S]*?)\n    status:/.exec(response)?.[1] ?? '';
  for (const [, name, value] of headerBlock.matchAll(/^ {6}([\w-]+):\n {6}- ((?:.*)(?:\n {8}.*)*)/gm)) {
    headers[name!] = fold(value!).replace(/^'(.*)'$/s, '$1').replaceAll("''", "'");
  }
  return { status: Number(/\n      code: (\d+)/.exec(response)?.[1]), headers, body: fold(rawBody).replaceAll("''", "'") };
}

function fold(scalar: string): string {
  return scalar.split('\n').map((line, i) => (i === 0 ? line : line.trim())).join(' ');
}

const HASHTAG_CASSETTE = fixture('mastodon/mastodonpy-test_hashtag_tl-cassette.yaml');
const hoot = cassetteExchange(HASHTAG_CASSETTE, 'GET', 'http://localhost:3000/api/v1/timelines/tag/hoot');
const emptySearch = cassetteExchange(
  fixture('mastodon/mastodonpy-test_search-cassette.yaml'),
  'GET',
  'http://localhost:3000/api/v2/search?q=mastodonpy_test&resolve=1&exclude_unreviewed=1&type=statuses',
);
const MSTDN_JP_2017 = fixture('mastodon/mstdn-jp-public-timeline-2017-04.json');
const TAG_PAGE_2 = fixture('mastodon/tag-timeline-page2-synthetic.json');
const SEARCH_HITS = fixture('mastodon/search-statuses-synthetic.json');
const HOOT_URI = 'http://localhost:3000/ap/users/117020566092212359/statuses/117020593741189701';
const TIMELINE_URL = 'https://mstdn.jp/api/v1/timelines/public';

const noSignal = () => new AbortController().signal;

describe('the recorded Mastodon answers', () => {
  test('the cassette extractor unfolds the hashtag timeline body and its Link and rate-limit headers', () => {
    assert.equal(hoot.status, 200);
    assert.equal(JSON.parse(hoot.body).length, 1);
    assert.equal(hoot.headers['x-ratelimit-limit'], '300');
    assert.equal(hoot.headers['x-ratelimit-reset'], '2026-08-01T14:00:00.070144Z');
    assert.equal(linkWithRel(hoot.headers['link'], 'next'), 'http://localhost:3000/api/v1/timelines/tag/hoot?max_id=117020593741189701');
    assert.equal(linkWithRel(hoot.headers['link'], 'prev'), 'http://localhost:3000/api/v1/timelines/tag/hoot?min_id=117020593741189701');
    assert.deepEqual(JSON.parse(emptySearch.body), { accounts: [], statuses: [], hashtags: [], collections: [] });
  });

  test('reads every field of the 2026 hashtag status: uri as id, HTML stripped, tags', () => {
    const post = statusToPost(JSON.parse(hoot.body)[0], 'localhost:3000', TIMELINE_URL);
    assert.deepEqual(post, {
      externalId: HOOT_URI,
      url: 'http://localhost:3000/@mastodonpy_test_2/117020593741189701',
      author: 'mastodonpy_test_2',
      title: null,
      text: '#hoot (hashtag toot)',
      rating: 0,
      language: 'ja',
      publishedAt: new Date('2026-08-01T13:55:55.867Z'),
      reply: null,
      extra: { instance: 'localhost:3000', replies_count: 0, reblogs_count: 0, favourites_count: 0, tags: ['hoot'], content_warning: null },
    });
  });

  test('reads the 2017 mstdn.jp timeline: integer ids, OStatus tag: uris, remote accounts, no language', () => {
    const statuses = JSON.parse(MSTDN_JP_2017) as { id: number }[];
    assert.equal(typeof statuses[0]?.id, 'number');
    const posts = statuses.map((status) => statusToPost(status, 'mstdn.jp', TIMELINE_URL));
    assert.equal(posts.length, 20);
    assert.equal(new Set(posts.map((p) => p.externalId)).size, 20);
    const [first, second] = posts;
    assert.equal(first?.externalId, 'tag:mstdn.jp,2017-04-14:objectId=172429:objectType=Status');
    assert.equal(first?.url, 'https://mstdn.jp/@iorin0225/172429');
    assert.equal(first?.author, 'iorin0225');
    assert.equal(first?.text, '電話であれ、テキストであれ、伝達能力はしっかり鍛えてほしい。');
    assert.equal(first?.language, null);
    assert.equal(first?.publishedAt.toISOString(), '2017-04-14T06:11:41.893Z');
    assert.deepEqual(first?.extra, { instance: 'mstdn.jp', replies_count: null, reblogs_count: 0, favourites_count: 0, tags: [], content_warning: null });
    assert.equal(second?.author, 'cocoabottle@mastodon.cloud');
    assert.equal(second?.externalId, 'tag:mastodon.cloud,2017-04-14:objectId=625276:objectType=Status');
    assert.equal(second?.rating, 1);
    assert.match(second?.text ?? '', /^JP管理人さん大変だなぁ。以下引用\n【お知らせ】mstdn\.jpを/);
    const link = posts.find((p) => p.externalId.includes('objectId=19523'));
    assert.equal(link?.text, 'http://inforati.jp/apple/mac-tips-techniques/system-hints/how-to-capture-a-specific-window-with-macos-screen-shot-function.html');
    assert.equal(posts.find((p) => p.author === 'elsxia')?.text, 'それっぽいウソ話とか\n変なリプライとかが一切無いこの空間は良いねー');
  });

  test('reads the synthetic statuses: entities decoded, paragraphs kept, a missing url falls back to the uri', () => {
    const [alice, carol] = (JSON.parse(TAG_PAGE_2) as unknown[]).map((status) => statusToPost(status, 'localhost:3000', TIMELINE_URL));
    assert.equal(alice?.text, "Synthetic: the #hoot bot's reply & a second line\nwith a break\n\nand a paragraph");
    assert.equal(alice?.rating, 6);
    assert.equal(alice?.extra.replies_count, 1);
    assert.equal(carol?.url, carol?.externalId);
    assert.equal(carol?.author, 'synthetic_carol@remote.example');
    assert.equal(carol?.text, 'Synthetic status with a content warning about @synthetic_bob');
    assert.equal(carol?.extra.content_warning, 'synthetic spoiler');
    assert.equal(carol?.language, 'fr');
    const [dave] = (JSON.parse(SEARCH_HITS) as { statuses: unknown[] }).statuses.map((s) => statusToPost(s, 'localhost:3000', TIMELINE_URL));
    assert.equal(dave?.text, 'Synthetic search hit: "hoot" <3 — über alles');
  });

  test('stores a boost as the boosted status', () => {
    const boosted = JSON.parse(hoot.body)[0];
    const boost = { id: '1', uri: 'https://other.example/users/x/statuses/1/activity', created_at: '2026-08-02T00:00:00Z', content: '', reblog: boosted };
    assert.equal(statusToPost(boost, 'other.example', TIMELINE_URL).externalId, HOOT_URI);
  });

  test('rejects a status without uri as upstream_bad_response', () => {
    assert.throws(() => statusToPost({ id: '1', created_at: '2026-08-01T00:00:00Z' }, 'x', TIMELINE_URL), (error: JobError) => error.code === 'upstream_bad_response');
  });
});

describe('configuration and queries', () => {
  test('needs no variable: hashtag timelines are public, and MASTODON_ACCESS_TOKEN is optional and secret', () => {
    const source = createSource({ env: new EnvReader({}) });
    assert.equal(source.name, 'mastodon');
    assert.equal(source.defaultBaseUrl, 'https://mastodon.social');
    assert.equal(source.missingSettings(), null);
    assert.deepEqual(source.rateLimit, { requests: 300, perMs: 300_000, concurrency: 1 });
    assert.deepEqual(source.settings.map((s) => [s.name, s.secret ?? false]), [['MASTODON_INSTANCES', false], ['MASTODON_ACCESS_TOKEN', true]]);
  });

  test('reads MASTODON_INSTANCES as origins, bare host names included, and names the variable when one is not', () => {
    assert.doesNotThrow(() => createSource({ env: new EnvReader({ MASTODON_INSTANCES: 'https://mastodon.social/, fosstodon.org' }) }));
    assert.throws(() => createSource({ env: new EnvReader({ MASTODON_INSTANCES: 'ftp://mastodon.social' }) }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^MASTODON_INSTANCES must be comma-separated instance origins/);
      return true;
    });
  });

  test('turns a query into a hashtag by dropping spaces and punctuation', () => {
    assert.equal(hashtagOf('Vibe Tracker!'), 'VibeTracker');
    assert.equal(hashtagOf('#vibe-tracker'), 'vibetracker');
    assert.equal(hashtagOf('München 2024'), 'München2024');
    assert.equal(hashtagOf('!!!'), '');
  });

  test('refuses a query with no hashtag in it unless MASTODON_ACCESS_TOKEN allows a full-text search', () => {
    assert.equal(validateQuery('vibe tracker', false), null);
    assert.match(validateQuery('!!!', false) ?? '', /set MASTODON_ACCESS_TOKEN/);
    assert.equal(validateQuery('!!!', true), null);
    for (const bad of ['', ' ', 'a\nb', 'x'.repeat(201)]) assert.ok(validateQuery(bad, true), `expected ${JSON.stringify(bad)} to be refused`);
  });
});

describe('scraping fake Mastodon instances', () => {
  let home: FakeUpstream;
  let other: FakeUpstream;
  before(async () => {
    home = await startFakeUpstream();
    other = await startFakeUpstream();
  });
  after(async () => {
    await home.close();
    await other.close();
  });
  beforeEach(() => {
    home.reset();
    other.reset();
  });

  const json = (body: string, headers: Record<string, string> = {}): Reply => ({ headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body });
  const rateHeaders = { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '299', 'x-ratelimit-reset': new Date(Date.now() + 300_000).toISOString() };

  /**
   * Home: #hoot is the recorded status (with its recorded Link header, which points at localhost:3000), then the
   * synthetic page 2, which ends the timeline; its search finds the synthetic hits, then the recorded empty answer.
   * Other: #hoot is the 2017 mstdn.jp timeline, then an empty page.
   */
  function serveInstances(): void {
    home.on('GET', '/api/v1/timelines/tag/hoot', (req) =>
      req.query.get('max_id') === '117020593741189701' ? json(TAG_PAGE_2, rateHeaders) : json(hoot.body, { ...rateHeaders, link: hoot.headers['link']! }),
    );
    home.on('GET', '/api/v2/search', (req) => json(req.query.get('max_id') ? emptySearch.body : SEARCH_HITS, rateHeaders));
    other.on('GET', '/api/v1/timelines/tag/hoot', (req) =>
      req.query.get('max_id') ? json('[]') : json(MSTDN_JP_2017, { link: `<https://mstdn.jp/api/v1/timelines/tag/hoot?max_id=172398>; rel="next"` }),
    );
  }

  async function scrape(t: TestContext, options: { query?: string; limit: number; token?: string | null; instances?: string[]; since?: HighWaterMark | null }): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const source = createMastodonSource({ instances: options.instances ?? [home.baseUrl, other.baseUrl], token: options.token ?? null });
    const pages: ScrapedPage[] = [];
    const ctx = withIntake({ query: options.query ?? '#hoot', limit: options.limit, signal: noSignal(), http, baseUrl: home.baseUrl, log: silentLogger, since: options.since ?? null });
    for await (const page of source.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, options: Parameters<typeof scrape>[1]): Promise<JobError> {
    return rejected(scrape(t, options));
  }

  const requested = (upstream: FakeUpstream) => upstream.requests.map((r) => `${r.path}?${r.query}`);

  test('reads the hashtag timeline of every instance in turn, following rel="next" on each, and drops federated copies', async (t) => {
    serveInstances();
    const pages = await scrape(t, { limit: 100 });
    assert.deepEqual(requested(home), ['/api/v1/timelines/tag/hoot?limit=40', '/api/v1/timelines/tag/hoot?max_id=117020593741189701']);
    assert.deepEqual(requested(other), ['/api/v1/timelines/tag/hoot?limit=40', '/api/v1/timelines/tag/hoot?max_id=172398']);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length]), [[1, 1], [2, 20], [3, 2], [4, 0]]);
    const posts = pages.flatMap((p) => p.posts);
    assert.equal(new Set(posts.map((p) => p.externalId)).size, 23);
    // The 2017 mastodon.cloud status came from the other instance first; home's copy of it is not stored twice.
    const cloud = posts.filter((p) => p.externalId === 'tag:mastodon.cloud,2017-04-14:objectId=625276:objectType=Status');
    assert.deepEqual(cloud.map((p) => p.extra.instance), [new URL(other.baseUrl).host]);
    assert.deepEqual(pages[0]?.meta, { instances: [new URL(home.baseUrl).host, new URL(other.baseUrl).host], hashtag: 'hoot', full_text_search: false });
    assert.equal(home.requests[0]?.headers['authorization'], undefined);
  });

  test('with a token, also searches the first instance, and sends the token to it alone', async (t) => {
    serveInstances();
    const pages = await scrape(t, { limit: 100, token: 'synthetic-token' });
    assert.deepEqual(requested(home), [
      '/api/v2/search?q=%23hoot&type=statuses&limit=40',
      '/api/v1/timelines/tag/hoot?limit=40',
      '/api/v2/search?q=%23hoot&type=statuses&limit=40&max_id=117020593741189701',
      '/api/v1/timelines/tag/hoot?max_id=117020593741189701',
    ]);
    assert.ok(home.requests.every((r) => r.headers['authorization'] === 'Bearer synthetic-token'));
    assert.ok(other.requests.every((r) => r.headers['authorization'] === undefined));
    // Search: 2 hits, the second the recorded #hoot status, which the hashtag timeline then finds again.
    assert.deepEqual(pages.map((p) => p.posts.length), [2, 0, 20, 0, 2, 0]);
    assert.equal(pages[0]?.posts[0]?.language, 'de');
    assert.equal(pages[0]?.meta?.full_text_search, true);
  });

  test('stops every feed once the limit is reached', async (t) => {
    serveInstances();
    const pages = await scrape(t, { limit: 5 });
    assert.deepEqual(pages.map((p) => p.posts.length), [1, 4]);
    assert.equal(home.requests.length + other.requests.length, 2);
    assert.equal(home.requests[0]?.query.get('limit'), '5');
  });

  test('stops a search that ignores max_id instead of reading the same page for ever', async (t) => {
    home.on('GET', '/api/v2/search', () => json(SEARCH_HITS));
    const pages = await scrape(t, { query: '?!', limit: 100, token: 'synthetic-token', instances: [home.baseUrl] });
    assert.deepEqual(requested(home), ['/api/v2/search?q=%3F%21&type=statuses&limit=40', '/api/v2/search?q=%3F%21&type=statuses&limit=40&max_id=117020593741189701']);
    assert.deepEqual(pages.map((p) => p.posts.length), [2, 0]);
    assert.equal(pages[0]?.meta?.hashtag, null);
  });

  test('reads the base URL alone when no instances are configured', async (t) => {
    serveInstances();
    const pages = await scrape(t, { limit: 100, instances: [] });
    assert.equal(other.requests.length, 0);
    assert.deepEqual(pages.map((p) => p.posts.length), [1, 3]);
  });

  test('stops at the newest status an earlier run stored, reading no further page of that instance', async (t) => {
    serveInstances();
    const pages = await scrape(t, { limit: 100, instances: [home.baseUrl], since: { publishedAt: new Date('2026-08-01T13:55:55.867Z'), externalId: HOOT_URI } });
    assert.deepEqual(requested(home), ['/api/v1/timelines/tag/hoot?limit=40']);
    assert.deepEqual(pages.map((p) => p.posts.length), [0]);
  });

  test('waits out a 429 with Retry-After: 1 and goes on', async (t) => {
    let calls = 0;
    home.on('GET', '/api/v1/timelines/tag/hoot', () => (calls++ === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: '{"error":"Too many requests"}' } : json(hoot.body)));
    const pages = await scrape(t, { limit: 10, instances: [home.baseUrl] });
    assert.deepEqual(pages.map((p) => p.posts.length), [1]);
    const [refused, retried] = home.requests;
    assert.ok(retried!.time - refused!.time >= 990, `retried after ${retried!.time - refused!.time} ms`);
  });

  test('fails at once with upstream_login_required naming MASTODON_ACCESS_TOKEN when the instance refuses it', async (t) => {
    home.on('GET', '/api/v2/search', () => ({ status: 401, body: '{"error":"The access token is invalid"}' }));
    const error = await scrapeError(t, { limit: 10, token: 'revoked-token', instances: [home.baseUrl] });
    assert.equal(error.code, 'upstream_login_required');
    assert.equal(error.permanent, true);
    assert.match(error.message, /refused MASTODON_ACCESS_TOKEN \(HTTP 401\)/);
    assert.ok(!error.message.includes('revoked-token'));
    assert.equal(home.requests.length, 1);
  });

  test('says what to set when an instance shows hashtag timelines only to signed-in users', async (t) => {
    home.on('GET', '/api/v1/timelines/tag/hoot', () => ({ status: 422, body: '{"error":"This method requires an authenticated user"}' }));
    const error = await scrapeError(t, { limit: 10, instances: [home.baseUrl] });
    assert.equal(error.permanent, true);
    assert.match(error.message, /HTTP 422.*signed-in users, put it first in MASTODON_INSTANCES with MASTODON_ACCESS_TOKEN/);
  });

  test('refuses a query with no hashtag and no token before sending anything', async (t) => {
    const error = await scrapeError(t, { query: '?!', limit: 10 });
    assert.equal(error.code, 'invalid_query');
    assert.equal(home.requests.length + other.requests.length, 0);
  });
});

describe('a Mastodon job through the queue', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    upstream.on('GET', '/api/v1/timelines/tag/hoot', (req): Reply =>
      req.query.get('max_id')
        ? { headers: { 'content-type': 'application/json' }, body: TAG_PAGE_2 }
        : { headers: { 'content-type': 'application/json', link: hoot.headers['link']! }, body: hoot.body },
    );
    pipeline = await startPipeline('source_mastodon', { SOURCE_BASE_URL_MASTODON: upstream.baseUrl });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  test('completes with its counts and stores the statuses in the posts table', async () => {
    const job = await pipeline.scrape('mastodon', 'hoot', { limit: 50 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual([job.result?.found, job.result?.inserted, job.result?.pages, job.result?.hashtag], [4, 4, 2, 'hoot']);
    const rows = await pipeline.services.sql<{ external_id: string; url: string; author: string; body: string; language: string | null; published_at: Date }[]>`
      select external_id, url, author, body, language, published_at from posts where source = 'mastodon' order by published_at desc
    `;
    assert.equal(rows.length, 4);
    assert.deepEqual(
      { ...rows[0], published_at: rows[0]?.published_at.toISOString() },
      {
        external_id: HOOT_URI,
        url: 'http://localhost:3000/@mastodonpy_test_2/117020593741189701',
        author: 'mastodonpy_test_2',
        body: '#hoot (hashtag toot)',
        language: 'ja',
        published_at: '2026-08-01T13:55:55.867Z',
      },
    );
  });
});
