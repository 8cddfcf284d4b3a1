import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import postgres from 'postgres';
import { type ApiProcess, startApiProcess } from '../lib/api/boot.ts';
import { loadConfig } from '../lib/config.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { createRedis } from '../lib/redis/client.ts';
import { sleep } from '../lib/sleep.ts';
import { type WorkerProcess, startWorkerProcess } from '../lib/worker/boot.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type PrivateRedis, startPrivateRedis } from './helpers/private-redis.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { serveBt } from './helpers/trustpilot-upstream.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

describe('when Redis or PostgreSQL goes away for a while', () => {
  let services: TestServices;
  let redisServer: PrivateRedis;
  let upstream: FakeUpstream;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let queue: JobQueue;
  let queueRedis: Redis;
  let base: string;

  before(async () => {
    services = await startServices('outages', { JOB_LEASE_MS: '3000', JOB_RETRY_BASE_MS: '300' });
    redisServer = await startPrivateRedis();
    upstream = await startFakeUpstream();
    serveBt(upstream, { delayMs: 400 });
    const config = loadConfig({ ...services.env, REDIS_URL: redisServer.url, PORT: '0', HOST: '127.0.0.1', SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl });
    api = await startApiProcess(config, silentLogger);
    worker = await startWorkerProcess(config, silentLogger);
    base = `http://127.0.0.1:${api.port}`;
    queueRedis = createRedis(redisServer.url, silentLogger, 'test-outages');
    queue = new JobQueue(queueRedis, queueSettings(config));
  });
  after(async () => {
    await worker?.stop(1_000);
    await api?.stop();
    queueRedis?.disconnect();
    await redisServer?.dispose();
    await upstream?.close();
    await services?.close();
  });

  test('a job running while Redis restarts still completes, and the worker goes on taking jobs', async () => {
    const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'bt.com', limit: 60, priority: 0 });
    await waitForJob(queue, job.id, (j) => j.status === 'running');
    await redisServer.stop('SIGKILL');
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { redis: string }).redis, 'down');
    await sleep(1_500);
    await redisServer.start();
    const done = await waitForJob(queue, job.id, isFinished, 30_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.equal(done.result?.found, 60);

    const next = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'bt.com', limit: 5, priority: 0 });
    assert.equal((await waitForJob(queue, next.id, isFinished)).status, 'completed');
    assert.equal((await fetch(`${base}/ready`)).status, 200);
  });

  test('a job that cannot store its posts while PostgreSQL refuses connections is retried and completes after', async () => {
    await services.sql`delete from posts`;
    const database = new URL(services.config.databaseUrl).pathname.slice(1);
    const admin = postgres(new URL('/postgres', services.config.databaseUrl).toString(), { max: 1, onnotice: () => {} });
    try {
      const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'bt.com', limit: 60, priority: 0, fullRescan: true });
      await waitForJob(queue, job.id, (j) => j.status === 'running');
      // A real outage for this database only: refuse new connections and cut the open ones.
      await admin.unsafe(`alter database "${database}" with allow_connections false`);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database}`;
      const waiting = await waitForJob(queue, job.id, (j) => j.error?.code === 'database_unavailable', 20_000);
      assert.ok(waiting.status === 'pending' || waiting.status === 'running');
      const ready = await fetch(`${base}/ready`);
      assert.equal(ready.status, 503);
      await admin.unsafe(`alter database "${database}" with allow_connections true`);
      const done = await waitForJob(queue, job.id, isFinished, 30_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.ok(done.attempts >= 2);
      const [row] = await services.sql<{ count: number }[]>`select count(*)::int as count from posts`;
      assert.equal(row?.count, 60, 'every post stored once');
    } finally {
      await admin.unsafe(`alter database "${database}" with allow_connections true`).catch(() => {});
      await admin.end({ timeout: 1 });
    }
  });
});
