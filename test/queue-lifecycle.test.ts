import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createApp } from '../lib/api/app.ts';
import { getJobHistory } from '../lib/db/jobs.ts';
import { permanent, transient } from '../lib/errors.ts';
import { drainJobHistory, flushJobHistory } from '../lib/history/copy.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { redisKeys } from '../lib/redis/keys.ts';
import { sleep } from '../lib/sleep.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { type TestWorker, isFinished, startTestWorker, waitForJob } from './helpers/worker.ts';

describe('a job through its life', () => {
  let services: TestServices;
  let queue: JobQueue;
  let worker: TestWorker | undefined;

  before(async () => {
    services = await startServices('queue_lifecycle', { JOB_RETRY_BASE_MS: '200', JOB_LEASE_MS: '2000' });
    queue = new JobQueue(services.redis, queueSettings(services.config));
  });
  beforeEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  after(async () => {
    await worker?.stop();
    await services.close();
  });

  const enqueue = (query = 'example.com', priority = 0) => queue.enqueue({ kind: 'scrape', source: 'trustpilot', query, limit: 20, priority });

  test('a failed attempt is retried after a backoff and then completes', async () => {
    const failedAt: number[] = [];
    const startedAt: number[] = [];
    worker = await startTestWorker(services, async (job) => {
      startedAt.push(Date.now());
      if (job.attempts === 1) {
        failedAt.push(Date.now());
        throw transient('upstream_unavailable', 'upstream answered 503');
      }
      return { found: 1, inserted: 1 };
    });
    const job = await enqueue();
    const waiting = await waitForJob(queue, job.id, (j) => j.runAt !== null);
    assert.equal(waiting.status, 'pending');
    assert.equal(waiting.error?.code, 'upstream_unavailable');
    assert.equal(await services.redis.zscore(redisKeys(queue.prefix).delayed, job.id), String(waiting.runAt));
    const done = await waitForJob(queue, job.id, isFinished);
    assert.equal(done.status, 'completed');
    assert.equal(done.attempts, 2);
    assert.equal(done.error, null);
    assert.deepEqual(done.result, { found: 1, inserted: 1 });
    // Backoff starts at JOB_RETRY_BASE_MS (200 ms here) with at most 20 % jitter below it.
    assert.ok(startedAt[1]! - failedAt[0]! >= 160, `the retry came ${startedAt[1]! - failedAt[0]!} ms after the failure`);
  });

  test('a job that keeps failing ends failed after its last attempt, with the last error', async () => {
    let calls = 0;
    worker = await startTestWorker(services, async () => {
      calls += 1;
      throw transient('upstream_unavailable', `upstream answered 502 (call ${calls})`);
    });
    const done = await waitForJob(queue, (await enqueue()).id, isFinished);
    assert.equal(done.status, 'failed');
    assert.equal(done.attempts, 3);
    assert.equal(calls, 3);
    assert.equal(done.error?.code, 'upstream_unavailable');
    assert.match(done.error?.message ?? '', /call 3/);
  });

  test('a permanent error fails the job at once, without a retry', async () => {
    worker = await startTestWorker(services, async () => {
      throw permanent('upstream_not_found', 'Trustpilot has no business page for "nope.example"');
    });
    const done = await waitForJob(queue, (await enqueue()).id, isFinished);
    assert.equal(done.status, 'failed');
    assert.equal(done.attempts, 1);
    assert.equal(done.error?.code, 'upstream_not_found');
  });

  test("an upstream's Retry-After pushes the retry back at least that long", async () => {
    worker = await startTestWorker(services, async (job) => {
      if (job.attempts === 1) throw transient('upstream_rate_limited', 'HTTP 429', 60_000);
      return {};
    });
    const before = Date.now();
    const waiting = await waitForJob(queue, (await enqueue()).id, (j) => j.runAt !== null);
    assert.ok(waiting.runAt! >= before + 60_000);
    await queue.cancel(waiting.id);
  });

  test('cancelling a pending job takes it out of the pending list and marks it cancelled', async () => {
    const job = await enqueue('to-cancel.example');
    assert.ok((await services.redis.lrange(redisKeys(queue.prefix).pending, 0, -1)).includes(job.id));
    assert.equal(await queue.cancel(job.id), 'cancelled');
    assert.ok(!(await services.redis.lrange(redisKeys(queue.prefix).pending, 0, -1)).includes(job.id));
    assert.equal((await queue.get(job.id))?.status, 'cancelled');
    assert.equal(await queue.cancel(job.id), 'finished:cancelled');
  });

  test('DELETE on a running job aborts it on its worker and answers with the cancelled job', async () => {
    let aborted = false;
    worker = await startTestWorker(services, async (_job, ctx) => {
      await sleep(30_000, ctx.signal).catch((reason) => {
        aborted = true;
        throw reason;
      });
      return {};
    });
    const app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
    const job = await enqueue();
    await waitForJob(queue, job.id, (j) => j.status === 'running');
    const response = await app.request(`/jobs/${job.id}`, { method: 'DELETE' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { status: string; error: { code: string } };
    assert.equal(body.status, 'cancelled');
    assert.equal(body.error.code, 'cancelled');
    assert.ok(aborted, 'the handler saw its signal abort');
    await sleep(300);
    assert.equal((await queue.get(job.id))?.status, 'cancelled', 'a cancelled job is not retried');
    assert.equal((await app.request(`/jobs/${job.id}`, { method: 'DELETE' })).status, 409);
  });

  test('a worker whose lease was lost cannot finish the job, and the new holder can', async () => {
    const leases = queue.leases();
    const job = await enqueue('fenced.example');
    await services.redis.lmove(redisKeys(queue.prefix).pending, redisKeys(queue.prefix).processing, 'RIGHT', 'LEFT');
    const first = await leases.claim(job.id, 'worker-a');
    assert.equal(first.status, 'claimed');
    // worker-a stalls past its lease; the sweep puts the job back and worker-b takes it.
    const swept = await leases.sweep(Date.now() + services.config.jobLeaseMs + 1);
    assert.equal(swept.recovered, 1);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).pending, 0, -1), [job.id]);
    await services.redis.lmove(redisKeys(queue.prefix).pending, redisKeys(queue.prefix).processing, 'RIGHT', 'LEFT');
    const second = await leases.claim(job.id, 'worker-b');
    assert.equal(second.status, 'claimed');
    if (first.status !== 'claimed' || second.status !== 'claimed') return;
    assert.equal(second.job.attempts, 2);
    assert.equal(await leases.renew(job.id, first.token, { pages_done: 9, pages_planned: 9, found: 9, inserted: 9 }), 'lost');
    assert.equal(await leases.finish(job.id, first.token, 'completed', { result: { by: 'a' } }), 'fenced');
    assert.equal(await leases.finish(job.id, first.token, 'failed', { error: { code: 'x', message: 'stale' } }), 'fenced');
    assert.equal((await queue.get(job.id))?.progress, null, 'the stale progress was not written');
    assert.equal((await queue.counts()).fenced_rejections, 3);
    assert.equal(await leases.finish(job.id, second.token, 'completed', { result: { by: 'b' } }), 'completed');
    const done = await queue.get(job.id);
    assert.equal(done?.status, 'completed');
    assert.deepEqual(done?.result, { by: 'b' });
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).processing, 0, -1), []);
  });

  test('an id left in processing without a lease (a worker died right after BLMOVE) goes back to pending', async () => {
    const leases = queue.leases();
    const job = await enqueue('stranded.example');
    await services.redis.lmove(redisKeys(queue.prefix).pending, redisKeys(queue.prefix).processing, 'RIGHT', 'LEFT');
    const now = Date.now();
    await leases.sweep(now);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).processing, 0, -1), [job.id], 'a fresh id gets a grace period');
    await leases.sweep(now + services.config.jobLeaseMs + 1);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).processing, 0, -1), []);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).pending, 0, -1), [job.id]);
    assert.equal(await queue.cancel(job.id), 'cancelled');
  });

  test('a job whose worker died on its last attempt is quarantined in the dead-letter list, and can be retried', async () => {
    const leases = queue.leases();
    const job = await queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'crash.example', limit: 20, priority: 0, maxAttempts: 1 });
    await services.redis.lmove(redisKeys(queue.prefix).pending, redisKeys(queue.prefix).processing, 'RIGHT', 'LEFT');
    await leases.claim(job.id, 'worker-that-dies');
    const swept = await leases.sweep(Date.now() + services.config.jobLeaseMs + 1);
    assert.equal(swept.quarantined, 1);
    const dead = await queue.get(job.id);
    assert.equal(dead?.status, 'dead');
    assert.equal(dead?.error?.code, 'worker_crashed');
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).dead, 0, -1), [job.id]);
    assert.equal((await queue.counts()).dead, 1);
    assert.deepEqual((await queue.list({ status: 'dead', limit: 10 })).map((j) => j.id), [job.id]);

    assert.equal(await queue.retry(job.id), 'requeued');
    const again = await queue.get(job.id);
    assert.deepEqual([again?.status, again?.attempts, again?.error, again?.previousError?.code], ['pending', 0, null, 'worker_crashed']);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).dead, 0, -1), []);
    assert.equal(await services.redis.pttl(redisKeys(queue.prefix).job(job.id)), -1, 'a requeued job no longer expires');
    assert.equal(await queue.retry(job.id), 'pending');
    assert.equal(await queue.cancel(job.id), 'cancelled');
  });

  test('stopping a worker lets a short job finish before the deadline', async () => {
    worker = await startTestWorker(services, async () => {
      await sleep(300);
      return { found: 0 };
    });
    const job = await enqueue();
    await waitForJob(queue, job.id, (j) => j.status === 'running');
    await worker.stop(5_000);
    worker = undefined;
    const done = await queue.get(job.id);
    assert.equal(done?.status, 'completed');
  });

  test('stopping a worker puts a job still running at the deadline back in pending without using an attempt', async () => {
    worker = await startTestWorker(services, async (_job, ctx) => {
      await sleep(30_000, ctx.signal);
      return {};
    });
    const job = await enqueue('long.example', 3);
    await waitForJob(queue, job.id, (j) => j.status === 'running');
    await worker.stop(200);
    worker = undefined;
    const back = await queue.get(job.id);
    assert.equal(back?.status, 'pending');
    assert.equal(back?.attempts, 0);
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).processing, 0, -1), []);
    assert.ok((await services.redis.lrange(redisKeys(queue.prefix).pending, 0, -1)).includes(job.id));
    assert.equal(await queue.cancel(job.id), 'cancelled');
  });

  test('the job index an older release kept as a ZSET becomes the newest-first LIST at start-up, once', async () => {
    const jobs = [await enqueue('old-1.example'), await enqueue('old-2.example'), await enqueue('old-3.example')];
    await services.redis.del(redisKeys(queue.prefix).recent);
    await services.redis.zadd(redisKeys(queue.prefix).recent, 1000, jobs[0]!.id, 2000, jobs[1]!.id, 3000, jobs[2]!.id);
    await queue.upgradeKeys();
    assert.equal(await services.redis.type(redisKeys(queue.prefix).recent), 'list');
    assert.deepEqual(await services.redis.lrange(redisKeys(queue.prefix).recent, 0, -1), [jobs[2]!.id, jobs[1]!.id, jobs[0]!.id]);
    await queue.upgradeKeys();
    const next = await enqueue('new.example');
    assert.deepEqual((await queue.list({ limit: 4 })).map((job) => job.query), [next.query, 'old-3.example', 'old-2.example', 'old-1.example']);
    for (const job of [...jobs, next]) await queue.cancel(job.id);
  });

  test('a backlog of finished jobs larger than one batch is copied in one maintenance tick', async () => {
    const leases = queue.leases();
    await drainJobHistory(queue, services.sql); // what the tests before this one finished
    const jobs = await queue.enqueueMany(Array.from({ length: 450 }, (_, i) => ({ kind: 'scrape' as const, source: 'trustpilot', query: `backlog-${i}.example`, limit: 1, priority: 0 })));
    for (let left = jobs.length; left > 0; ) {
      const claims = await leases.claimMany('backlog-worker', 100);
      for (const { job, token } of claims) assert.equal(await leases.finish(job.id, token, 'completed', { result: {} }), 'completed');
      left -= claims.length;
    }
    assert.equal(await services.redis.llen(redisKeys(queue.prefix).history), 450);
    assert.equal(await drainJobHistory(queue, services.sql), 450);
    assert.equal(await services.redis.llen(redisKeys(queue.prefix).history), 0);
    const copied = await services.sql`SELECT count(*)::int AS n FROM jobs WHERE query LIKE 'backlog-%'`;
    assert.equal(copied[0]!.n, 450);
  });

  test('finished jobs are copied into PostgreSQL, then expire from Redis after the retention period', async () => {
    worker = await startTestWorker(services, async () => ({ found: 3, inserted: 2 }));
    const job = await enqueue('history.example');
    await waitForJob(queue, job.id, isFinished);
    assert.equal(await services.redis.pttl(redisKeys(queue.prefix).job(job.id)), -1, 'no record expires before it is in PostgreSQL');
    await flushJobHistory(queue, services.sql);
    assert.equal(await services.redis.llen(redisKeys(queue.prefix).history), 0);
    const ttl = await services.redis.pttl(redisKeys(queue.prefix).job(job.id));
    assert.ok(ttl > services.config.jobRetentionMs - 60_000 && ttl <= services.config.jobRetentionMs, `ttl was ${ttl}`);
    await services.redis.del(redisKeys(queue.prefix).job(job.id)); // as if the retention period had passed, or Redis was flushed
    const stored = await getJobHistory(services.sql, job.id);
    assert.equal(stored?.status, 'completed');
    assert.deepEqual(stored?.result, { found: 3, inserted: 2 });
    const app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
    const response = await app.request(`/jobs/${job.id}`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { status: string }).status, 'completed');
  });
});
