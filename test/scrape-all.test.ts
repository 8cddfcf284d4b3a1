import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { loadConfig } from '../lib/config.ts';
import { getJobHistory } from '../lib/db/jobs.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type WorkerProcess, startWorkerProcess } from '../lib/worker/boot.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { BT_PAGE_1, serveBt } from './helpers/trustpilot-upstream.ts';

interface FamilyBody {
  job_id?: string;
  id: string;
  kind: string;
  status: string;
  progress: { found: number; inserted: number; children: Record<string, number> };
  result: { found: number; inserted: number } | null;
  error: { code: string } | null;
  children: { id: string; source: string; query: string; status: string; found: number; error: { code: string } | null }[];
}

describe('POST /jobs/scrape-all fans out one child job per (source, query)', () => {
  let services: TestServices;
  let upstream: FakeUpstream;
  let worker: WorkerProcess;
  let app: Hono;

  before(async () => {
    upstream = await startFakeUpstream();
    serveBt(upstream);
    upstream.on('GET', '/review/eventnet.de', () => ({ body: upstream.fixture('trustpilot/eventnet-de-page1-2024-07-prettified.html') }));
    upstream.on('GET', /^\/review\/slow/, () => ({ body: BT_PAGE_1, delayMs: 20_000 }));
    services = await startServices('scrape_all', { JOB_LEASE_MS: '2000', SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl });
    const config = loadConfig(services.env);
    worker = await startWorkerProcess(config, silentLogger);
    const queue = new JobQueue(services.redis, queueSettings(config));
    app = createApp({ config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(config), log: silentLogger });
  });
  after(async () => {
    await worker.stop(1_000);
    await upstream.close();
    await services.close();
  });

  const post = async (body: unknown) => {
    const response = await app.request('/jobs/scrape-all', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: (await response.json()) as FamilyBody & { error: { code: string; message: string } } };
  };
  const get = async (id: string) => (await (await app.request(`/jobs/${id}`)).json()) as FamilyBody;
  async function until(id: string, done: (job: FamilyBody) => boolean): Promise<FamilyBody> {
    for (let i = 0; i < 600; i++) {
      const job = await get(id);
      if (done(job)) return job;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`job ${id} never got there: ${JSON.stringify(await get(id))}`);
  }

  test('the parent shows its children, their progress and the totals, and finishes when they all have', async () => {
    const { status, body } = await post({ queries: ['bt.com', 'eventnet.de'], sources: ['trustpilot'], limit: 20 });
    assert.equal(status, 202);
    assert.equal(body.kind, 'scrape-all');
    assert.deepEqual(body.children.map((c) => [c.source, c.query]), [['trustpilot', 'bt.com'], ['trustpilot', 'eventnet.de']]);
    const done = await until(body.job_id!, (job) => job.status === 'completed');
    assert.deepEqual(done.result, { found: 40, inserted: 40, children: { total: 2, pending: 0, running: 0, completed: 2, failed: 0, cancelled: 0, dead: 0 } });
    assert.deepEqual(done.children.map((c) => c.found), [20, 20]);
    // The history flusher settles the parent itself, in Redis and in PostgreSQL.
    await until(body.job_id!, () => true);
    for (let i = 0; i < 100 && !(await getJobHistory(services.sql, body.job_id!)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await getJobHistory(services.sql, body.job_id!))?.status, 'completed');
  });

  test('a child that fails makes the parent a partial failure, with each child saying why', async () => {
    upstream.on('GET', '/review/gone.example', () => ({ status: 404 }));
    const { body } = await post({ queries: ['bt.com', 'gone.example'], sources: ['trustpilot'], limit: 5, full_rescan: true });
    const done = await until(body.job_id!, (job) => ['completed', 'failed'].includes(job.status));
    assert.equal(done.status, 'completed');
    assert.equal(done.error?.code, 'partial_failure');
    const gone = done.children.find((c) => c.query === 'gone.example');
    assert.equal(gone?.status, 'failed');
    assert.equal(gone?.error?.code, 'upstream_not_found');
  });

  test('DELETE on the parent cancels every child still waiting or running', async () => {
    const { body } = await post({ queries: ['slow-one.example', 'slow-two.example', 'slow-three.example'], sources: ['trustpilot'] });
    await until(body.job_id!, (job) => (job.progress.children.running ?? 0) > 0);
    const response = await app.request(`/jobs/${body.job_id}`, { method: 'DELETE' });
    assert.equal(response.status, 200);
    const done = await until(body.job_id!, (job) => job.status === 'cancelled');
    assert.deepEqual(done.children.map((c) => c.status), ['cancelled', 'cancelled', 'cancelled']);
  });

  test('bad fan-out requests are refused with a coded 400', async () => {
    assert.equal((await post({ queries: [] })).body.error.code, 'invalid_queries');
    assert.equal((await post({ queries: ['bt.com'], sources: ['myspace'] })).body.error.code, 'unknown_source');
    assert.equal((await post({ queries: ['bt.com'], sources: [] })).body.error.code, 'invalid_sources');
    assert.equal((await post({ queries: [''] })).body.error.code, 'invalid_query');
    const many = Array.from({ length: 201 }, (_, i) => `q${i}.example`);
    assert.equal((await post({ queries: many, sources: ['trustpilot'] })).body.error.code, 'too_many_jobs');
    assert.equal((await post({ queries: ['bt.com'], extra: 1 })).body.error.code, 'unknown_field');
  });

  test('GET /sources lists every source with whether it is usable, its settings, limit and last runs', async () => {
    const body = (await (await app.request('/sources')).json()) as {
      sources: { name: string; usable: boolean; missing: string | null; rate_limit: { requests: number }; settings: { name: string; set: boolean }[]; last_success_at: string | null; last_failure_at: string | null; last_error: { code: string } | null }[];
    };
    const trustpilot = body.sources.find((s) => s.name === 'trustpilot');
    assert.equal(trustpilot?.usable, true);
    assert.equal(trustpilot?.missing, null);
    assert.ok((trustpilot?.rate_limit.requests ?? 0) > 0);
    assert.deepEqual(trustpilot?.settings.map((s) => s.name), ['TRUSTPILOT_ALIASES']);
    assert.match(trustpilot?.last_success_at ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.match(trustpilot?.last_failure_at ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(trustpilot?.last_error?.code, 'upstream_not_found');
    for (const source of body.sources) assert.equal(source.usable, source.missing === null);
  });
});
