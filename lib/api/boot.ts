import { type ServerType, serve } from '@hono/node-server';
import type { Config } from '../config.ts';
import { assertPostgresReady, createSql } from '../db/client.ts';
import { listMigrations } from '../db/migrate.ts';
import type { Logger } from '../log.ts';
import { JobQueue, queueSettings } from '../queue/queue.ts';
import { assertRedisReady, createRedis } from '../redis.ts';
import { loadSourceRegistry } from '../sources/registry.ts';
import { createApp } from './app.ts';

export interface ApiProcess {
  server: ServerType;
  port: number;
  stop(): Promise<void>;
}

/** The start-up checks alone, for a cluster primary: it fails with one line before forking anything. */
export async function checkApiDependencies(config: Config, log: Logger): Promise<void> {
  await loadSourceRegistry(config);
  const redis = createRedis(config.redisUrl, log, 'api-check');
  const sql = createSql(config.databaseUrl, log, { max: 1 });
  try {
    await assertRedisReady(redis, config);
    await assertPostgresReady(sql, config.databaseUrl, (await listMigrations()).map((m) => m.name));
  } finally {
    redis.disconnect();
    await sql.end({ timeout: 1 });
  }
}

export async function startApiProcess(config: Config, log: Logger): Promise<ApiProcess> {
  const sources = await loadSourceRegistry(config);
  const redis = createRedis(config.redisUrl, log, 'api');
  const sql = createSql(config.databaseUrl, log);
  try {
    await assertRedisReady(redis, config);
    await assertPostgresReady(sql, config.databaseUrl, (await listMigrations()).map((m) => m.name));
  } catch (error) {
    redis.disconnect();
    await sql.end({ timeout: 1 });
    throw error;
  }
  const queue = new JobQueue(redis, queueSettings(config));
  await queue.upgradeKeys();
  const app = createApp({ config, redis, sql, queue, sources, log });
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
  log.info('api_listening', { host: config.host, port });
  return {
    server,
    port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
      await sql.end({ timeout: 5 });
    },
  };
}
