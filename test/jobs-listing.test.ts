import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import type { JobStatus } from '../lib/model/job.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

describe('GET /jobs?status= reads each status from its own index', () => {
  let services: TestServices;
  let queue: JobQueue;
  let app: Hono;
  const expected: Record<JobStatus, string[]> = { pending: [], running: [], completed: [], failed: [], cancelled: [], dead: [] };

  before(async () => {
    services = await startServices('jobs_listing', { JOB_LEASE_MS: '2000' });
    queue = new JobQueue(services.redis, queueSettings(services.config));
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
    const leases = queue.leases();
    const enqueue = (query: string, priority = 0, maxAttempts?: number) =>
      queue.enqueue({ kind: 'scrape', source: 'hackernews', query, limit: 1, priority, maxAttempts });
    const take = async () => (await leases.claimMany('lister', 1))[0]!;

    // Ten of each final status, so that filtering by one must skip the others.
    for (let i = 0; i < 10; i++) {
      for (const outcome of ['completed', 'failed'] as const) {
        await enqueue(`${outcome}-${i}`);
        const claim = await take();
        await leases.finish(claim.job.id, claim.token, outcome, outcome === 'completed' ? { result: {} } : { error: { code: 'x', message: 'x' } });
        expected[outcome].unshift(claim.job.id);
      }
      const cancelled = await enqueue(`cancelled-${i}`);
      await queue.cancel(cancelled.id);
      expected.cancelled.unshift(cancelled.id);
    }
    const doomed = await enqueue('dead', 0, 1);
    await take();
    await leases.sweep(Date.now() + 5_000);
    expected.dead.push(doomed.id);
    const running = await enqueue('running');
    await take();
    expected.running.push(running.id);
    // Waiting: two at priority 0, one urgent that runs first, then one waiting for its retry.
    const [low1, low2, urgent] = [await enqueue('low-1'), await enqueue('low-2'), await enqueue('urgent', 9)];
    const retrying = await enqueue('retrying', 10);
    const claim = await take();
    assert.equal(claim.job.id, retrying.id);
    await leases.finish(claim.job.id, claim.token, 'retry', { error: { code: 'x', message: 'x' }, retryAt: Date.now() + 60_000 });
    expected.pending.push(urgent!.id, low1!.id, low2!.id, retrying.id);
  });
  after(() => services?.close());

  const list = async (query: string) => {
    const response = await app.request(`/jobs?${query}`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { jobs: { id: string; status: string }[] }).jobs;
  };

  for (const status of ['pending', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const) {
    test(`status=${status} lists exactly the ${status} jobs, in that index's order`, async () => {
      const jobs = await list(`status=${status}&limit=100`);
      assert.deepEqual(jobs.map((job) => job.id), expected[status]);
      assert.ok(jobs.every((job) => job.status === status));
    });
  }

  test('a limit cuts the list from its front', async () => {
    assert.deepEqual((await list('status=failed&limit=3')).map((job) => job.id), expected.failed.slice(0, 3));
    assert.deepEqual((await list('status=pending&limit=2')).map((job) => job.id), expected.pending.slice(0, 2));
  });

  test('a job whose status moved on since its index was read is not listed under the old one', async () => {
    const [first] = expected.failed;
    await queue.retry(first!);
    assert.ok(!(await list('status=failed&limit=100')).some((job) => job.id === first));
  });
});
