import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ApiProcess, startApiProcess } from '../lib/api/boot.ts';
import { loadConfig } from '../lib/config.ts';
import { silentLogger } from '../lib/log.ts';
import { type WorkerProcess, startWorkerProcess } from '../lib/worker/boot.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { serveBt } from './helpers/trustpilot-upstream.ts';

interface JobBody {
  job_id?: string;
  id: string;
  status: string;
  attempts: number;
  progress: { pages_done: number; pages_planned: number | null; found: number; inserted: number } | null;
  result: { found: number; inserted: number; pages: number; domain?: string } | null;
  error: { code: string; message: string } | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}
interface PostBody {
  id: string;
  external_id: string;
  title: string | null;
  text: string;
  rating: number | null;
  published_at: string;
  reply: { text: string; published_at: string | null } | null;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('the scrape pipeline, over HTTP, from POST /jobs/scrape to GET /posts', () => {
  let services: TestServices;
  let upstream: FakeUpstream;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let base: string;

  before(async () => {
    services = await startServices('pipeline');
    upstream = await startFakeUpstream();
    serveBt(upstream);
    const config = loadConfig({ ...services.env, PORT: '0', HOST: '127.0.0.1', SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl });
    api = await startApiProcess(config, silentLogger);
    worker = await startWorkerProcess(config, silentLogger);
    base = `http://127.0.0.1:${api.port}`;
  });
  after(async () => {
    await worker?.stop(1_000);
    await api?.stop();
    await upstream?.close();
    await services?.close();
  });

  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> => {
    const response = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T, headers: response.headers };
  };

  async function untilFinished(id: string): Promise<JobBody> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { body } = await call<JobBody>('GET', `/jobs/${id}`);
      if (['completed', 'failed', 'cancelled'].includes(body.status)) return body;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`job ${id} did not finish`);
  }

  let firstJob: JobBody;

  test('a submitted job is accepted with 202, its id and a Location header', async () => {
    const { status, body, headers } = await call<JobBody>('POST', '/jobs/scrape', { source: 'trustpilot', query: 'bt.com', limit: 50, priority: 0 });
    assert.equal(status, 202);
    assert.equal(body.status, 'pending');
    assert.equal(body.job_id, body.id);
    assert.equal(headers.get('location'), `/jobs/${body.id}`);
    assert.match(body.created_at, ISO_UTC);
    firstJob = await untilFinished(body.id);
  });

  test('the worker completes it with counts, progress and UTC times', () => {
    assert.equal(firstJob.status, 'completed', JSON.stringify(firstJob.error));
    assert.equal(firstJob.attempts, 1);
    assert.deepEqual(
      { found: firstJob.result?.found, inserted: firstJob.result?.inserted, pages: firstJob.result?.pages, domain: firstJob.result?.domain },
      { found: 50, inserted: 50, pages: 3, domain: 'bt.com' },
    );
    assert.deepEqual(firstJob.progress, { pages_done: 3, pages_planned: 3, found: 50, inserted: 50 });
    assert.match(firstJob.started_at!, ISO_UTC);
    assert.match(firstJob.finished_at!, ISO_UTC);
    assert.equal(firstJob.error, null);
  });

  test('the posts are stored and served newest first', async () => {
    const { body } = await call<{ posts: PostBody[]; next: string | null }>('GET', '/posts?source=trustpilot&limit=200');
    assert.equal(body.posts.length, 50);
    assert.equal(body.next, null);
    const times = body.posts.map((p) => p.published_at);
    assert.deepEqual(times, [...times].sort().reverse());
    const shambles = body.posts.find((p) => p.external_id === '6456378afe4e676d706281c4');
    assert.equal(shambles?.title, 'Communication shambles');
    assert.equal(shambles?.rating, 1);
    assert.equal(shambles?.published_at, '2023-05-06T13:18:34.000Z');
    assert.match(shambles?.reply?.text ?? '', /^Hi Jason/);
  });

  test('running the same job again reads only what is new: one page, nothing found', async () => {
    const before = upstream.requests.length;
    const { body } = await call<JobBody>('POST', '/jobs/scrape', { source: 'trustpilot', query: 'bt.com', limit: 50 });
    const again = await untilFinished(body.id);
    assert.equal(again.status, 'completed');
    assert.deepEqual([again.result?.found, again.result?.inserted, again.result?.pages], [0, 0, 1]);
    assert.equal(upstream.requests.length - before, 1);
  });

  test('a full re-scan finds the same posts again and inserts none', async () => {
    const { body } = await call<JobBody>('POST', '/jobs/scrape', { source: 'trustpilot', query: 'bt.com', limit: 50, full_rescan: true });
    const again = await untilFinished(body.id);
    assert.equal(again.status, 'completed');
    assert.equal(again.result?.found, 50);
    assert.equal(again.result?.inserted, 0);
    const [row] = await services.sql<{ count: number }[]>`select count(*)::int as count from posts`;
    assert.equal(row?.count, 50);
  });

  test('pages of posts follow each other with no row skipped or repeated, even as newer rows arrive', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/posts?source=trustpilot&limit=20${cursor ? `&before=${cursor}` : ''}`;
      const page = await call<{ posts: PostBody[]; next: string | null }>('GET', path);
      const { status, body } = page;
      assert.equal(status, 200);
      seen.push(...body.posts.map((p) => p.external_id));
      cursor = body.next;
      pages += 1;
      if (pages === 1) {
        // A post newer than everything arrives between page 1 and page 2.
        await services.sql`
          insert into posts (source, external_id, query, url, body, published_at)
          values ('trustpilot', 'arrived-late', 'bt.com', 'https://example.invalid/late', 'late', now())
        `;
      }
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(seen.length, 50);
    assert.equal(new Set(seen).size, 50);
    assert.ok(!seen.includes('arrived-late'));
  });

  test('text search finds a review by a word of its title or text', async () => {
    const { body } = await call<{ posts: PostBody[] }>('GET', '/posts?q=shambles');
    assert.ok(body.posts.some((p) => p.external_id === '6456378afe4e676d706281c4'));
    assert.ok(body.posts.every((p) => /shambles/i.test(`${p.title} ${p.text}`)));
  });

  test('an unknown business fails at once with a message saying what to do', async () => {
    upstream.on('GET', '/review/no-such-business.example', () => ({ status: 404, body: 'not found' }));
    const { body } = await call<JobBody>('POST', '/jobs/scrape', { source: 'trustpilot', query: 'no-such-business.example' });
    const failed = await untilFinished(body.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts, 1);
    assert.equal(failed.error?.code, 'upstream_not_found');
    assert.match(failed.error?.message ?? '', /no business page/);
  });

  test('GET /jobs lists recent jobs newest first and filters by status', async () => {
    const { body } = await call<{ jobs: JobBody[] }>('GET', '/jobs/?limit=10');
    assert.equal(body.jobs.length, 4);
    const created = body.jobs.map((j) => j.created_at);
    assert.deepEqual(created, [...created].sort().reverse());
    const failed = await call<{ jobs: JobBody[] }>('GET', '/jobs?status=failed');
    assert.deepEqual(failed.body.jobs.map((j) => j.status), ['failed']);
  });

  test('GET /jobs/status agrees with the Redis lists and names the live worker', async () => {
    const { body } = await call<Record<string, unknown> & { workers: { id: string }[] }>('GET', '/jobs/status');
    const keys = api && services.config.redisPrefix;
    assert.equal(body.pending, await services.redis.llen(`${keys}:jobs:pending`));
    assert.equal(body.processing, await services.redis.llen(`${keys}:jobs:processing`));
    assert.equal(body.delayed, 0);
    assert.equal(body.completed_24h, 3);
    assert.equal(body.failed_24h, 1);
    assert.equal(body.redis, 'ok');
    assert.equal(body.postgres, 'ok');
    assert.deepEqual(body.workers.map((w) => w.id), [worker.worker.id]);
  });

  test('/health and /ready answer 200 while Redis and PostgreSQL are up', async () => {
    assert.equal((await call('GET', '/health')).status, 200);
    const ready = await call<{ redis: string; postgres: string }>('GET', '/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual([ready.body.redis, ready.body.postgres], ['ok', 'ok']);
  });
});
