import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { redisKeys } from '../lib/redis/keys.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { freePort, waitForPort } from './helpers/private-redis.ts';
import { type Spawned, spawnEntry, stopProcess } from './helpers/processes.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

describe('worker processes', () => {
  let services: TestServices;
  let upstream: FakeUpstream;
  let queue: JobQueue;
  const started: Spawned[] = [];

  before(async () => {
    services = await startServices('worker_process', { JOB_LEASE_MS: '2000', JOB_RETRY_BASE_MS: '200' });
    queue = new JobQueue(services.redis, queueSettings(services.config));
    upstream = await startFakeUpstream();
    // Every review page is the real bt.com page 1, answered slowly so a job is still running when we strike.
    upstream.on('GET', /^\/review\//, () => ({ body: upstream.fixture('trustpilot/bt-com-page1-2023-05.html'), delayMs: 700 }));
  });
  after(async () => {
    await Promise.all(started.map((worker) => stopProcess(worker, 'SIGKILL')));
    await upstream.close();
    await services.close();
  });

  const startWorker = (env: Record<string, string> = {}) => {
    const worker = spawnEntry('worker.ts', {
      ...services.env,
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: '1',
      SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl,
      ...env,
    });
    started.push(worker);
    return worker;
  };

  test('a job whose worker is killed with SIGKILL runs again on another worker and completes, attempts incremented', async () => {
    const first = startWorker();
    await first.waitForEvent('worker_started');
    const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'killed.example', limit: 60, priority: 0 });
    await waitForJob(queue, job.id, (j) => (j.progress?.pages_done ?? 0) >= 1);
    first.child.kill('SIGKILL');
    await first.exited;
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).processing, 0, -1), [job.id], 'the dead worker still holds the id');

    const second = startWorker();
    const done = await waitForJob(queue, job.id, isFinished, 30_000);
    assert.equal(done.status, 'completed');
    assert.equal(done.attempts, 2);
    assert.equal(done.result?.found, 60);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).processing, 0, -1), []);
    await stopProcess(second);
  });

  test('SIGTERM puts a job still running at the shutdown deadline back in pending, without using an attempt', async () => {
    const worker = startWorker({ WORKER_SHUTDOWN_TIMEOUT_MS: '300' });
    await worker.waitForEvent('worker_started');
    const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'drained.example', limit: 200, priority: 0 });
    await waitForJob(queue, job.id, (j) => j.status === 'running');
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    assert.equal(exit.code, 0);
    const back = await queue.get(job.id);
    assert.equal(back?.status, 'pending');
    assert.equal(back?.attempts, 0);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).pending, 0, -1), [job.id]);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).processing, 0, -1), []);
    assert.ok(worker.stdout.some((line) => line.includes('"event":"job_released"')));
    assert.equal(await queue.cancel(job.id), 'cancelled');
  });

  test('a worker lowers every one of its threads, the lease keeper included, to the niceness WORKER_NICE asks for', async () => {
    const worker = startWorker({ WORKER_NICE: '7' });
    await worker.waitForEvent('worker_started');
    const pid = worker.child.pid!;
    const threads = readdirSync(`/proc/${pid}/task`);
    const niceness = threads.map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised command name start at field 3; nice is field 19.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
    assert.ok(threads.length > 5, `expected V8's, libuv's and the lease keeper's threads, found ${threads.length}`);
    assert.deepEqual(new Set(niceness), new Set([7]));
    await stopProcess(worker);
  });

  test('each log line is one JSON object carrying the worker id, and job events carry the job id', async () => {
    const worker = startWorker();
    await worker.waitForEvent('worker_started');
    const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'logged.example', limit: 5, priority: 0 });
    await waitForJob(queue, job.id, isFinished);
    const completed = await worker.waitForEvent('job_completed');
    assert.equal(completed.job_id, job.id);
    assert.match(String(completed.worker_id), /-\d+-[0-9a-f]{6}$/);
    await stopProcess(worker);
    for (const line of worker.stdout) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  });
});

describe('the API on node:cluster (WORKERS)', () => {
  let services: TestServices;
  before(async () => {
    services = await startServices('api_cluster');
  });
  after(() => services.close());

  test('runs WORKERS processes on one port and replaces one that dies', async () => {
    const port = await freePort();
    const api = spawnEntry('api.ts', { ...services.env, WORKERS: '2', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    try {
      const listening = async (count: number) => {
        for (let i = 0; i < 400; i++) {
          const pids = api.stdout.filter((line) => line.includes('"event":"api_listening"')).map((line) => Number(JSON.parse(line).pid));
          if (pids.length >= count) return pids;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error(`fewer than ${count} API processes started: ${api.stdout.join('\n')} ${api.stderr.join('\n')}`);
      };
      const [first] = await listening(2);
      assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 200);
      process.kill(first!, 'SIGKILL');
      const pids = await listening(3);
      assert.ok(!pids.slice(2).includes(first!));
      assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 200);
      api.child.kill('SIGTERM');
      assert.equal((await api.exited).code, 0);
      for (const pid of pids.slice(1)) assert.throws(() => process.kill(pid, 0), 'an API process outlived its primary');
    } finally {
      await stopProcess(api, 'SIGKILL');
    }
  });
});

describe('a process that cannot start', () => {
  let services: TestServices;
  before(async () => {
    services = await startServices('startup');
  });
  after(() => services.close());

  async function startupFailure(file: string, env: Record<string, string>): Promise<string> {
    const spawned = spawnEntry(file, { ...services.env, ...env });
    const exit = await spawned.exited;
    assert.equal(exit.code, 1);
    assert.equal(spawned.stderr.length, 1, `expected one line, got:\n${spawned.stderr.join('\n')}`);
    return spawned.stderr[0]!;
  }

  test('says in one line that Redis is unreachable and how to start it', async () => {
    for (const file of ['worker.ts', 'api.ts', 'scheduler.ts']) {
      const line = await startupFailure(file, { REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` });
      assert.match(line, /Redis is not reachable at 127\.0\.0\.1:\d+\/0.*redis-server/);
    }
  });

  test('an API of several processes (WORKERS) checks once, before forking, and says so in one line', async () => {
    const line = await startupFailure('api.ts', { WORKERS: '3', REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` });
    assert.match(line, /Redis is not reachable/);
  });

  test('says in one line that PostgreSQL is unreachable, or that the database needs migrating', async () => {
    const down = await startupFailure('worker.ts', { DATABASE_URL: `postgres://127.0.0.1:${await freePort()}/x` });
    assert.match(down, /PostgreSQL is not reachable/);
    const missing = await startupFailure('api.ts', { DATABASE_URL: 'postgres://localhost:5432/vibe_test_never_created' });
    assert.match(missing, /does not exist: run `npm run migrate`/);
  });

  test('names the variable that holds a bad value', async () => {
    assert.match(await startupFailure('worker.ts', { WORKER_CONCURRENCY: 'lots' }), /WORKER_CONCURRENCY must be an integer from 1 to 256/);
    assert.match(await startupFailure('api.ts', { PORT: '99999' }), /PORT must be an integer/);
    assert.match(await startupFailure('api.ts', { REDIS_URL: 'http://x' }), /REDIS_URL must start with redis:\/\//);
  });

  test('refuses a Redis that may evict keys, unless REDIS_EVICTION_CHECK=off', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], { stdio: 'ignore' });
    try {
      await waitForPort(port);
      const line = await startupFailure('worker.ts', { REDIS_URL: `redis://127.0.0.1:${port}/0` });
      assert.match(line, /maxmemory-policy "allkeys-lru".*noeviction/);
      const worker = spawnEntry('worker.ts', { ...services.env, REDIS_URL: `redis://127.0.0.1:${port}/0`, REDIS_EVICTION_CHECK: 'off', LOG_LEVEL: 'info' });
      await worker.waitForEvent('worker_started');
      await stopProcess(worker);
    } finally {
      redis.kill('SIGKILL');
    }
  });
});
