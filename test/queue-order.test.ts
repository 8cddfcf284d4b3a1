import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { createBlockingRedis } from '../lib/redis/client.ts';
import { type TestServices, startServices } from './helpers/services.ts';

describe('the pending list', () => {
  let services: TestServices;
  let queue: JobQueue;

  before(async () => {
    services = await startServices('queue_order');
    queue = new JobQueue(services.redis, { prefix: services.config.redisPrefix, leaseMs: 30_000, retentionMs: 60_000, maxAttempts: 3, retryBaseMs: 10 });
  });
  after(() => services.close());

  const enqueue = (query: string, priority: number) =>
    queue.enqueue({ kind: 'scrape', source: 'trustpilot', query, limit: 20, priority });

  test('starts higher priorities first and equal priorities in arrival order', async () => {
    for (const [name, priority] of [['A', 0], ['B', 0], ['C', 5], ['D', 9], ['E', 5]] as const) await enqueue(name, priority);
    const leases = queue.leases();
    const blocking = createBlockingRedis(services.config.redisUrl, silentLogger, 'test-blocking');
    try {
      const started: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = await leases.take(blocking, 1);
        assert.ok(id, 'a job id should be waiting');
        const claim = await leases.claim(id, 'worker-1');
        assert.equal(claim.status, 'claimed');
        if (claim.status === 'claimed') started.push(claim.job.query);
      }
      assert.deepEqual(started, ['D', 'C', 'E', 'A', 'B']);
    } finally {
      blocking.disconnect();
    }
  });
});
