import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../lib/config.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { createHostLimiter } from '../lib/http/host-limiter.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { redisKeys } from '../lib/redis/keys.ts';
import { type WorkerProcess, startWorkerProcess } from '../lib/worker/boot.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { serveBt } from './helpers/trustpilot-upstream.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

describe('the per-host rate limit, shared by every worker through Redis', () => {
  let services: TestServices;
  let upstream: FakeUpstream;
  const workers: WorkerProcess[] = [];

  before(async () => {
    upstream = await startFakeUpstream();
    serveBt(upstream, { delayMs: 40 });
    // 4 requests a second, one at a time, for the whole fleet.
    services = await startServices('rate_limit', { RATE_LIMIT_TRUSTPILOT: '4/1/1', SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl });
    const config = loadConfig(services.env);
    for (let i = 0; i < 3; i++) workers.push(await startWorkerProcess(config, silentLogger));
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.stop(1_000)));
    await upstream.close();
    await services.close();
  });

  test('a request that outlasts the expiry of its slot keeps the slot: a second worker waits for it to end', async () => {
    const slow = await startFakeUpstream();
    slow.on('GET', '/slow', () => ({ body: 'done', delayMs: 1_200 }));
    // Slots that expire after 300 ms unless extended, so the request outlives its first expiry four times.
    const limiter = createHostLimiter(services.redis, services.config.redisPrefix, { inFlightTtlMs: 300 });
    const limit = { requests: 100, perMs: 1_000, concurrency: 1 };
    // Two clients, as two worker processes have: only the shared limiter keeps them apart.
    const clients = [0, 1].map(() => createHttpClient({ userAgent: 'test', timeoutMs: 5_000, limiter }));
    try {
      const first = clients[0]!.getText(`${slow.baseUrl}/slow`, { signal: new AbortController().signal, rateLimit: limit });
      await new Promise((resolve) => setTimeout(resolve, 600));
      const second = clients[1]!.getText(`${slow.baseUrl}/slow`, { signal: new AbortController().signal, rateLimit: limit });
      await Promise.all([first, second]);
      const [a, b] = slow.requests;
      assert.ok(a && b && a.endTime !== null);
      assert.ok(b.time >= a.endTime! - 5, `the second request started ${a.endTime! - b.time} ms before the first ended`);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await slow.close();
    }
  });

  test('three workers running six jobs together never exceed the limit: no 5 admissions a second, one request at a time at the upstream', async () => {
    const queue = new JobQueue(services.redis, queueSettings(services.config));
    // Every admission the fleet's limiter makes, with its Redis time: each stays in the sliding log for a window
    // (1 s), so reading the log every 25 ms sees them all. Arrival times at the fake upstream would also measure
    // this process's event loop, which a loaded machine delays by more than the spacing under test.
    const { admissions: log } = redisKeys(services.config.redisPrefix).host(new URL(upstream.baseUrl).host);
    const admitted = new Map<string, number>();
    const reading = setInterval(() => {
      void services.redis.zrange(log, 0, -1, 'WITHSCORES').then((flat) => {
        for (let i = 0; i < flat.length; i += 2) admitted.set(flat[i]!, Number(flat[i + 1]));
      });
    }, 25);
    try {
      const jobs = await Promise.all(
        Array.from({ length: 6 }, () => queue.enqueue({ kind: 'scrape', source: 'trustpilot', query: 'bt.com', limit: 60, priority: 0, fullRescan: true })),
      );
      for (const job of jobs) assert.equal((await waitForJob(queue, job.id, isFinished, 60_000)).status, 'completed');
    } finally {
      clearInterval(reading);
    }

    assert.equal(upstream.requests.length, 18);
    assert.equal(admitted.size, 18, 'every request the upstream saw was admitted by the limiter, once');
    const times = [...admitted.values()].sort((a, b) => a - b);
    for (let i = 0; i + 4 < times.length; i++) {
      assert.ok(times[i + 4]! - times[i]! >= 1_000, `5 admissions within ${times[i + 4]! - times[i]!} ms, from admission ${i}`);
    }
    const spans = upstream.requests.map((r) => [r.time, r.endTime ?? Infinity] as const);
    const overlapping = spans.some(([start, end], i) => spans.some(([otherStart], j) => i !== j && otherStart > start && otherStart < end - 5));
    assert.ok(!overlapping, 'two requests were in flight at once');
  });

  test('a hold on a host (Retry-After, a quota, a backoff field) pauses every worker until it passes', async () => {
    const limiter = createHostLimiter(services.redis, services.config.redisPrefix, { maxWaitMs: 100 });
    const limit = { requests: 100, perMs: 1_000, concurrency: 5 };
    await limiter.hold('held.example', 60_000);
    const other = createHostLimiter(services.redis, services.config.redisPrefix, { maxWaitMs: 100 });
    await assert.rejects(other.acquire('held.example', limit, new AbortController().signal), (error: Error & { code?: string; retryAfterMs?: number }) => {
      assert.equal(error.code, 'upstream_rate_limited');
      assert.ok((error.retryAfterMs ?? 0) > 50_000);
      return true;
    });
    const release = await other.acquire('free.example', limit, new AbortController().signal);
    release();
  });

  test('a slot held by a worker that died mid-request frees itself within seconds', async () => {
    const limiter = createHostLimiter(services.redis, services.config.redisPrefix, { maxWaitMs: 60_000 });
    const limit = { requests: 100, perMs: 1_000, concurrency: 1 };
    const keys = `${services.config.redisPrefix}:host:orphan.example:inflight`;
    // A dead worker's admission: in flight, never released, never extended again.
    await services.redis.zadd(keys, Date.now() + 2_000, 'dead-worker-token');
    const started = Date.now();
    const release = await limiter.acquire('orphan.example', limit, new AbortController().signal);
    release();
    assert.ok(Date.now() - started >= 1_500, 'the slot was respected while it lived');
  });
});
