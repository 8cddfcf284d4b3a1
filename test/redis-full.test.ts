import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { createRedis } from '../lib/redis/client.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type PrivateRedis, startPrivateRedis } from './helpers/private-redis.ts';
import { type TestServices, startServices } from './helpers/services.ts';

describe('when Redis is full (maxmemory reached, noeviction)', () => {
  let services: TestServices;
  let server: PrivateRedis;
  let redis: Redis;
  let app: Hono;

  before(async () => {
    services = await startServices('redis_full');
    server = await startPrivateRedis(['--maxmemory-policy', 'noeviction']);
    redis = createRedis(server.url, silentLogger, 'test-full');
    const queue = new JobQueue(redis, queueSettings(services.config));
    app = createApp({ config: services.config, redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
    // A maxmemory below what Redis already uses: every write is refused from here on, as on a server filled up.
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    await redis.config('SET', 'maxmemory', String(Math.floor(used / 2)));
    await assert.rejects(redis.set('one-more', 'x'), /^ReplyError: OOM /);
  });
  after(async () => {
    redis?.disconnect();
    await server?.dispose();
    await services?.close();
  });

  test('an enqueue is a 503 redis_full with Retry-After, not a 500', async () => {
    const response = await app.request('/jobs/scrape', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'trustpilot', query: 'bt.com' }),
    });
    assert.equal(response.status, 503);
    assert.ok(Number(response.headers.get('retry-after')) > 0);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'redis_full');
    assert.match(body.error.message, /maxmemory/);
  });

  test('reads still answer', async () => {
    assert.equal((await app.request('/jobs/status')).status, 200);
    assert.equal((await app.request('/jobs')).status, 200);
  });
});
