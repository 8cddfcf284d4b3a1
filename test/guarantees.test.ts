// The queue's guarantees, each proven by doing the fault for real: SIGKILL, a blocked event loop, a deadline.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { loadConfig } from '../lib/config.ts';
import { flushJobHistory } from '../lib/history/copy.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { redisKeys } from '../lib/redis/keys.ts';
import { sleep } from '../lib/sleep.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Spawned, spawnEntry, stopProcess } from './helpers/processes.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { BT_PAGE_1, serveBt } from './helpers/trustpilot-upstream.ts';
import { type TestWorker, isFinished, startTestWorker, waitForJob } from './helpers/worker.ts';

const LEASE_MS = 1_000;

describe('queue guarantees under real faults', () => {
  let services: TestServices;
  let upstream: FakeUpstream;
  let queue: JobQueue;
  let app: Hono;
  const spawned: Spawned[] = [];
  let inProcess: TestWorker | undefined;

  before(async () => {
    upstream = await startFakeUpstream();
    serveBt(upstream);
    upstream.on('GET', /^\/review\/slow/, () => ({ body: BT_PAGE_1, delayMs: 30_000 }));
    services = await startServices('guarantees', {
      JOB_LEASE_MS: String(LEASE_MS),
      JOB_RETRY_BASE_MS: '50',
      SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl,
    });
    queue = new JobQueue(services.redis, queueSettings(services.config));
    const config = loadConfig(services.env);
    app = createApp({ config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(config), log: silentLogger });
  });
  after(async () => {
    await inProcess?.stop();
    await Promise.all(spawned.map((process) => stopProcess(process, 'SIGKILL')));
    await upstream.close();
    await services.close();
  });

  const startWorker = (env: Record<string, string> = {}) => {
    const worker = spawnEntry('worker.ts', { ...services.env, LOG_LEVEL: 'info', SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl, ...env });
    spawned.push(worker);
    return worker;
  };
  const slowJob = (name: string, extra: { maxAttempts?: number } = {}) =>
    queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: `slow-${name}.example`, limit: 20, priority: 0, fullRescan: true, ...extra });

  test('a job that blocks its worker’s event loop for three leases runs exactly once', async () => {
    // Another worker process sweeps all along and would take the job over if its lease ever lapsed; a slow job
    // keeps its only slot busy so it cannot simply take the blocking job first.
    const sweeper = startWorker({ WORKER_CONCURRENCY: '1' });
    await sweeper.waitForEvent('worker_started');
    const occupier = await slowJob('occupier');
    await waitForJob(queue, occupier.id, (j) => j.status === 'running');
    let runs = 0;
    inProcess = await startTestWorker(services, async () => {
      runs += 1;
      const until = Date.now() + 3 * LEASE_MS + 500;
      while (Date.now() < until) {
        // A CPU-bound step that never yields: only the lease-keeper thread can renew the lease meanwhile.
      }
      return { blocked_ms: 3 * LEASE_MS + 500 };
    });
    try {
      const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'bt.com', limit: 20, priority: 0 });
      const done = await waitForJob(queue, job.id, isFinished, 30_000);
      assert.equal(done.status, 'completed');
      assert.equal(done.attempts, 1);
      assert.deepEqual(done.result, { blocked_ms: 3 * LEASE_MS + 500 });
      assert.equal(runs, 1);
    } finally {
      await inProcess.stop();
      inProcess = undefined;
      await queue.cancel(occupier.id);
      await stopProcess(sweeper);
    }
  });

  test('a job whose worker is SIGKILLed runs again within the lease plus one sweep, and a poison pill is quarantined after three', async () => {
    const job = await slowJob('poison');
    const recoveries: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const worker = startWorker();
      const running = await waitForJob(queue, job.id, (j) => j.status === 'running' && j.attempts === attempt, 30_000);
      assert.equal(running.attempts, attempt);
      if (attempt > 1) recoveries.push(Date.now() - recoveries.pop()!);
      worker.child.kill('SIGKILL');
      await worker.exited;
      recoveries.push(Date.now());
    }
    const sweeper = startWorker();
    const dead = await waitForJob(queue, job.id, (j) => j.status === 'dead', 30_000);
    recoveries.pop();
    // Each return took at most the lease plus the sweep interval (5 s at most), with a worker starting up.
    for (const ms of recoveries) assert.ok(ms < LEASE_MS + 5_000 + 5_000, `a recovery took ${ms} ms`);
    assert.equal(dead.error?.code, 'worker_crashed');
    assert.equal(dead.attempts, 3);

    const status = (await (await app.request('/jobs/status')).json()) as { dead: number };
    assert.equal(status.dead, 1);
    const listed = (await (await app.request('/jobs/?status=dead')).json()) as { jobs: { id: string }[] };
    assert.deepEqual(listed.jobs.map((j) => j.id), [job.id]);

    upstream.on('GET', '/review/slow-poison.example', () => ({ body: BT_PAGE_1 }));
    const retried = await app.request(`/jobs/${job.id}/retry`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(retried.status, 202);
    const done = await waitForJob(queue, job.id, isFinished, 30_000);
    assert.equal(done.status, 'completed');
    assert.equal(done.previousError?.code, 'worker_crashed');
    assert.equal((await app.request(`/jobs/${job.id}/retry`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status, 409);
    await stopProcess(sweeper);
  });

  test('an attempt past its time limit is aborted and fails with timed_out', async () => {
    let aborted = false;
    inProcess = await startTestWorker(services, async (_job, ctx) => {
      await sleep(30_000, ctx.signal).catch((reason) => {
        aborted = true;
        throw reason;
      });
      return {};
    }, { timeLimit: (job) => ({ ms: job.timeoutMs ?? 60_000, onExpiry: 'retry' }) });
    try {
      const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'bt.com', limit: 20, priority: 0, timeoutMs: 300, maxAttempts: 2 });
      const done = await waitForJob(queue, job.id, isFinished, 20_000);
      assert.equal(done.status, 'failed');
      assert.equal(done.attempts, 2, 'a timed-out attempt is retried like any transient failure');
      assert.equal(done.error?.code, 'timed_out');
      assert.ok(aborted);
    } finally {
      await inProcess.stop();
      inProcess = undefined;
    }
  });

  test('SIGTERM to a worker with ten running jobs hands all ten back within the deadline plus a second, no attempt used', async () => {
    const worker = startWorker({ WORKER_CONCURRENCY: '10', WORKER_SHUTDOWN_TIMEOUT_MS: '1000' });
    await worker.waitForEvent('worker_started');
    const jobs = await Promise.all(Array.from({ length: 10 }, (_, i) => slowJob(`drain-${i}`)));
    for (const job of jobs) await waitForJob(queue, job.id, (j) => j.status === 'running');
    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    const tookMs = Date.now() - signalled;
    assert.equal(exit.code, 0);
    assert.ok(tookMs < 1_000 + 1_000, `the drain took ${tookMs} ms`);
    for (const job of jobs) {
      const back = await queue.get(job.id);
      assert.deepEqual([back?.status, back?.attempts], ['pending', 0]);
    }
    assert.equal(await services.redis.llen(redisKeys(queue.prefix).processing), 0);
    for (const job of jobs) await queue.cancel(job.id);
  });

  test('one hundred concurrent requests with one Idempotency-Key create one job, and another body with that key is a 409', async () => {
    const body = JSON.stringify({ source: 'trustpilot', query: 'idempotent.example', limit: 10 });
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'order-42' };
    const pendingBefore = await services.redis.llen(redisKeys(queue.prefix).pending);
    const responses = await Promise.all(Array.from({ length: 100 }, () => app.request('/jobs/scrape', { method: 'POST', body, headers })));
    assert.deepEqual([...new Set(responses.map((r) => r.status))], [202]);
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { job_id: string }).job_id)));
    assert.equal(ids.size, 1);
    assert.equal(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 99);
    assert.equal((await services.redis.llen(redisKeys(queue.prefix).pending)) - pendingBefore, 1);
    // The same request with its fields in another order is the same request.
    const reordered = await app.request('/jobs/scrape', { method: 'POST', body: JSON.stringify({ limit: 10, query: 'idempotent.example', source: 'trustpilot' }), headers });
    assert.equal(((await reordered.json()) as { job_id: string }).job_id, [...ids][0]);
    const conflict = await app.request('/jobs/scrape', { method: 'POST', body: JSON.stringify({ source: 'trustpilot', query: 'other.example' }), headers });
    assert.equal(conflict.status, 409);
    assert.equal(((await conflict.json()) as { error: { code: string } }).error.code, 'idempotency_conflict');
    await queue.cancel([...ids][0]!);
  });

  test('after thousands of jobs and the retention period, the queue is back to a handful of keys', async () => {
    // A namespace of its own, so the keys counted are this test's alone.
    const own = await startServices('footprint');
    const shortRetention = new JobQueue(own.redis, { ...queueSettings(own.config), retentionMs: 1_500 });
    const worker = await startTestWorker(own, async () => ({ ok: true }), { concurrency: 32, settings: { retentionMs: 1_500 } });
    const total = 2_000;
    try {
      for (let i = 0; i < total; i += 200) {
        await shortRetention.enqueueMany(Array.from({ length: 200 }, (_, j) => ({ kind: 'scrape' as const, source: 'trustpilot', query: `q${i + j}`, limit: 1, priority: 0 })));
      }
      for (let i = 0; i < 600 && (await own.redis.llen(redisKeys(shortRetention.prefix).pending)) + (await own.redis.llen(redisKeys(shortRetention.prefix).processing)) > 0; i++) await sleep(100);
      assert.equal((await shortRetention.counts()).completed_24h, total);
      await worker.stop();
      while ((await flushJobHistory(shortRetention, own.sql)) > 0);
      await sleep(1_600);
      // The retention period is many sweeps long in production; each trims up to a thousand index entries.
      for (let sweep = 0; sweep < 3; sweep++) await shortRetention.leases().sweep();
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await own.redis.scan(cursor, 'MATCH', `${own.config.redisPrefix}:*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      assert.deepEqual(keys.filter((key) => key.includes(':job:')), [], 'every finished job record expired');
      // What may stay: the stats hash and idempotency keys (24 h); the indexes are empty, so Redis dropped them.
      assert.ok(keys.length <= 5, `${keys.length} keys left: ${keys.join(', ')}`);
      let bytes = 0;
      for (const key of keys) bytes += Number(await own.redis.memory('USAGE', key));
      assert.ok(bytes < 16 * 1024, `${bytes} bytes left`);
      const [row] = await own.sql<{ count: number }[]>`select count(*)::int as count from jobs`;
      assert.equal(row?.count, total, 'every job is in PostgreSQL history');
    } finally {
      await worker.stop();
      await own.close();
    }
  });
});
