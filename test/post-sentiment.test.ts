// Sentiment on every stored post, end to end: scored at ingest from real recorded pages, stars deciding where a
// source has them, filterable in GET /posts, and rescored by a backfill that survives its worker being killed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type FakeUpstream, fixture, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';
import { spawnEntry, stopProcess } from './helpers/processes.ts';
import { serveBt } from './helpers/trustpilot-upstream.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

interface PostBody {
  external_id: string;
  rating: number | null;
  sentiment: { score: number | null; label: string | null; method: string; language: string | null } | null;
}

describe('sentiment on every post', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  let app: Hono;

  before(async () => {
    upstream = await startFakeUpstream();
    serveBt(upstream);
    pipeline = await startPipeline('post_sentiment', { SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl, SOURCE_BASE_URL_GITHUB: upstream.baseUrl, RATE_LIMIT_TRUSTPILOT: '100/1', RATE_LIMIT_GITHUB: '100/1' });
    const { services } = pipeline;
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue: pipeline.queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  const posts = async (query: string) => ((await (await app.request(`/posts?limit=200&${query}`)).json()) as { posts: PostBody[] }).posts;

  test('a Trustpilot review takes its label from its stars, with the text score kept beside it', async () => {
    const job = await pipeline.scrape('trustpilot', 'bt.com', { limit: 20 });
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const stored = await posts('source=trustpilot');
    assert.equal(stored.length, 20);
    for (const post of stored) {
      const expected = post.rating! <= 2 ? 'negative' : post.rating === 3 ? 'neutral' : 'positive';
      assert.equal(post.sentiment?.label, expected, `${post.rating} stars`);
      assert.match(post.sentiment!.method, /^rating\+lexicon-v\d+$/);
      assert.equal(typeof post.sentiment!.score, 'number');
      assert.equal(post.sentiment!.language, 'en');
    }
    // A one-star review whose words the lexicon reads as mild still counts as negative: the customer said so.
    assert.ok(stored.some((post) => post.rating === 1 && post.sentiment!.score! > -0.5));
  });

  test('a post in a language we do not score gets no label, and its method says why', async () => {
    // Japanese statuses, as the mstdn.jp recording has them, served as GitHub issues to carry them in.
    const statuses = (JSON.parse(fixture('mastodon/mstdn-jp-public-timeline-2017-04.json')) as { content: string }[]).slice(0, 3);
    upstream.on('GET', '/search/issues', () => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        total_count: 2,
        incomplete_results: false,
        items: [
          { id: 7, number: 7, html_url: 'https://github.com/a/b/issues/7', created_at: '2026-05-02T10:00:00Z', title: 'ログインできない', body: statuses.map((s) => s.content.replace(/<[^>]+>/g, '')).join('\n'), user: { login: 'x' } },
          { id: 8, number: 8, html_url: 'https://github.com/a/b/issues/8', created_at: '2026-05-01T10:00:00Z', title: 'Crashes on startup, terrible', body: 'The app is broken and useless since the update.', user: { login: 'y' } },
        ],
      }),
    }));
    assert.equal((await pipeline.scrape('github', 'languages')).status, 'completed');
    const [japanese, english] = (await posts('source=github&query=languages')).sort((a, b) => a.external_id.localeCompare(b.external_id));
    assert.equal(japanese!.sentiment?.label, null);
    assert.equal(japanese!.sentiment?.score, null);
    assert.match(japanese!.sentiment!.method, /^unsupported-language-v\d+:ja$/);
    assert.equal(english!.sentiment?.label, 'negative');
    assert.match(english!.sentiment!.method, /^lexicon-v\d+$/);
  });

  test('GET /posts filters by sentiment, rating, tracked query and time, all paged with the same cursor', async () => {
    const negative = await posts('sentiment=negative');
    assert.ok(negative.length > 0 && negative.every((post) => post.sentiment?.label === 'negative'));
    const unscored = await posts('sentiment=unscored');
    assert.ok(unscored.every((post) => post.sentiment?.label == null));
    const oneOrTwo = await posts('rating=1,2&source=trustpilot');
    assert.ok(oneOrTwo.length > 0 && oneOrTwo.every((post) => post.rating === 1 || post.rating === 2));
    assert.deepEqual(await posts('query=nothing-like-this'), []);
    assert.equal((await posts('source=github&from=2026-05-02&to=2026-05-03')).length, 1);
    let seen = 0;
    let next: string | null = null;
    do {
      const page = (await (await app.request(`/posts?limit=3&sentiment=negative,neutral${next ? `&before=${next}` : ''}`)).json()) as { posts: PostBody[]; next: string | null };
      seen += page.posts.length;
      next = page.next;
    } while (next);
    assert.equal(seen, (await posts('sentiment=negative,neutral')).length);
    for (const bad of ['sentiment=angry', 'rating=high', 'from=yesterday', 'from=2026-05-03&to=2026-05-01']) {
      assert.equal((await app.request(`/posts?${bad}`)).status, 400, bad);
    }
  });

  test('a backfill rescores posts an older scorer (or none) judged, and goes on after its worker is killed', async () => {
    const { sql, env } = pipeline.services;
    await pipeline.worker.stop(1_000);
    try {
      // 60,000 posts nobody scored, and one scored by a scorer of another version.
      await sql`
        insert into posts (source, external_id, query, url, body, published_at)
        select 'hackernews', 'bf' || n, 'backfill', 'https://example.com/' || n,
               case when n % 2 = 0 then 'This is great, I love it' else 'Awful, broken and slow' end,
               timestamptz '2026-01-01' + n * interval '1 minute'
        from generate_series(1, 60000) as n
      `;
      await sql`update posts set sentiment_method = 'lexicon-v0', sentiment_label = 'positive' where external_id = 'bf1'`;
      const response = await app.request('/jobs/sentiment-backfill', { method: 'POST', headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 202);
      const { job_id } = (await response.json()) as { job_id: string };
      const first = spawnEntry('worker.ts', { ...env, JOB_LEASE_MS: '2000' });
      await waitForJob(pipeline.queue, job_id, (job) => (job.progress?.pages_done ?? 0) >= 3, 60_000);
      first.child.kill('SIGKILL');
      await first.exited;
      const midway = await pipeline.queue.get(job_id);
      assert.notEqual(midway?.status, 'completed', 'the backfill finished before its worker was killed');
      const second = spawnEntry('worker.ts', { ...env, JOB_LEASE_MS: '2000' });
      try {
        const done = await waitForJob(pipeline.queue, job_id, isFinished, 90_000);
        assert.equal(done.status, 'completed', JSON.stringify(done.error));
        assert.equal(done.attempts, 2);
        // It went on from where the killed attempt got to: at most a batch or so done twice.
        assert.ok(Number(done.result?.scored) <= 60_001 + 2_000, `scored ${String(done.result?.scored)}`);
      } finally {
        await stopProcess(second);
      }
      const [left] = await sql<{ count: string }[]>`select count(*)::text as count from posts where query = 'backfill' and (sentiment_method is null or sentiment_method = 'lexicon-v0')`;
      assert.equal(left!.count, '0');
      const [labels] = await sql<{ positive: string; negative: string }[]>`
        select count(*) filter (where sentiment_label = 'positive')::text as positive, count(*) filter (where sentiment_label = 'negative')::text as negative
        from posts where query = 'backfill'
      `;
      assert.deepEqual(labels, { positive: '30000', negative: '30000' });
    } finally {
      pipeline.worker = await (await import('../lib/worker/boot.ts')).startWorkerProcess(pipeline.services.config, silentLogger);
    }
  });
});
