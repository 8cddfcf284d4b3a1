import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { StartupError, describeUrl, withTimeout } from '../startup-error.ts';

const HOW_TO_START_REDIS =
  'start it with `redis-server --daemonize yes --appendonly yes --maxmemory-policy noeviction` ' +
  '(or `./scripts/dev-docker.sh --postgres`), or point REDIS_URL at a running server';

/**
 * A connection for ordinary commands. Commands fail after a short wait while Redis is down instead of piling
 * up for ever, so callers (the API's /ready, the worker loop) notice and back off.
 */
export function createRedis(url: string, log: Logger, name: string, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    connectTimeout: 3_000,
    commandTimeout: 5_000,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 3_000),
    ...options,
  });
  let lastComplaint = 0;
  redis.on('error', (error: Error) => {
    // ioredis emits an error per reconnect attempt; one line every 10 s is enough to tell an operator.
    if (Date.now() - lastComplaint < 10_000) return;
    lastComplaint = Date.now();
    log.warn('redis_error', { connection: name, error: error.message });
  });
  return redis;
}

/** A connection that may sit in BLMOVE: no command timeout, since blocking is its job. */
export function createBlockingRedis(url: string, log: Logger, name: string): Redis {
  return createRedis(url, log, name, { commandTimeout: undefined, maxRetriesPerRequest: null });
}

export async function assertRedisReady(redis: Redis, config: Pick<Config, 'redisUrl' | 'redisEvictionCheck'>): Promise<void> {
  const where = describeUrl(config.redisUrl);
  try {
    await withTimeout(redis.ping(), 3_000, `Redis is not reachable at ${where}: ${HOW_TO_START_REDIS}`);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(`Redis is not reachable at ${where} (${(error as Error).message}): ${HOW_TO_START_REDIS}`);
  }
  if (config.redisEvictionCheck) await assertNoEviction(redis, where);
}

async function assertNoEviction(redis: Redis, where: string): Promise<void> {
  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch (error) {
    throw new StartupError(
      `cannot read maxmemory-policy from Redis at ${where} (${(error as Error).message}); ` +
        'if this is a managed Redis set to noeviction, set REDIS_EVICTION_CHECK=off',
    );
  }
  if (policy !== 'noeviction') {
    throw new StartupError(
      `Redis at ${where} has maxmemory-policy "${policy}", which may evict queued jobs; ` +
        'run `redis-cli CONFIG SET maxmemory-policy noeviction` (and set it in redis.conf), ' +
        'or set REDIS_EVICTION_CHECK=off if the server is managed and already safe',
    );
  }
}
