// Each test file gets its own Redis prefix and its own PostgreSQL database, created and migrated here and
// dropped afterwards, so files run in parallel against the real services and leave nothing behind.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Config, loadConfig } from '../../lib/config.ts';
import { type Sql, createSql } from '../../lib/db/client.ts';
import { ensureDatabase, migrate } from '../../lib/db/migrate.ts';
import { silentLogger } from '../../lib/log.ts';
import { createRedis } from '../../lib/redis/client.ts';
import postgres from 'postgres';

export interface TestServices {
  config: Config;
  redis: Redis;
  sql: Sql;
  /** Environment for child processes (workers) that must use the same namespace. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres';
const BASE_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://localhost:6379/0';

export async function startServices(name: string, overrides: Record<string, string> = {}): Promise<TestServices> {
  const suffix = `${name.replace(/\W+/g, '_')}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = new URL(BASE_DATABASE_URL);
  databaseUrl.pathname = `/vibe_test_${suffix}`;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: BASE_REDIS_URL,
    REDIS_PREFIX: `vibe_test_${suffix}`,
    LOG_LEVEL: 'error',
    ENVIRONMENT: 'test',
    ...overrides,
  };
  const config = loadConfig(env);
  await ensureDatabase(config.databaseUrl);
  const sql = createSql(config.databaseUrl, silentLogger, { max: 5 });
  await migrate(sql, silentLogger);
  const redis = createRedis(config.redisUrl, silentLogger, 'test');
  return {
    config,
    redis,
    sql,
    env,
    async close() {
      await deleteKeys(redis, `${config.redisPrefix}:*`);
      redis.disconnect();
      await sql.end({ timeout: 1 });
      await dropDatabase(config.databaseUrl);
    },
  };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists "${target.pathname.slice(1)}" with (force)`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
