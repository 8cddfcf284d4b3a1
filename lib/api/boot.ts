import { type ServerType, serve } from '@hono/node-server';
import { type Config, ConfigError, assertApiSecured } from '../config.ts';
import { assertPostgresReady, createSql } from '../db/client.ts';
import { listMigrations } from '../db/migrate.ts';
import { addressMatcher } from '../http/addresses.ts';
import type { Logger } from '../log.ts';
import { JobQueue } from '../queue/queue.ts';
import { queueSettings } from '../queue/settings.ts';
import { assertRedisReady, createRedis } from '../redis/client.ts';
import { loadSourceRegistry } from '../sources/registry.ts';
import { Metrics } from '../metrics/metrics.ts';
import { redisKeys } from '../redis/keys.ts';
import { createApp } from './app.ts';
import { metricsOnlyApp } from './metrics.ts';
import type { PagesFactory } from './deps.ts';

export interface ApiProcess {
  server: ServerType;
  port: number;
  /** The port of METRICS_LISTEN's server, when there is one. */
  metricsPort: number | null;
  stop(): Promise<void>;
}

/** The start-up checks alone, for a cluster primary: it fails with one line before forking anything. */
export async function checkApiDependencies(config: Config, log: Logger): Promise<void> {
  assertApiSecured(config);
  assertTrustedProxies(config);
  assertWebhookNetworks(config);
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

/** `pages`: what the API serves beside its JSON routes (api.ts gives it the dashboard). */
/**
 * The session settings of the API's reads. No JIT: the planner's row estimates for the statistics' generated
 * buckets are far too high, which put a 30-50 ms compile in front of queries that run in 15 (measured on the
 * overview's 7-day read at a million posts); the API's reads are short, so compiling never pays.
 */
export function apiConnection(config: Pick<Config, 'apiStatementTimeoutMs'>) {
  return { application_name: 'vibe-tracker-api', statement_timeout: config.apiStatementTimeoutMs, jit: 'off' };
}

/** The export's connections: no statement timeout, since an export of a million posts streams for minutes. */
export function exportConnection() {
  return { application_name: 'vibe-tracker-export' };
}

export async function startApiProcess(config: Config, log: Logger, pages?: PagesFactory): Promise<ApiProcess> {
  assertApiSecured(config);
  assertTrustedProxies(config);
  assertWebhookNetworks(config);
  const sources = await loadSourceRegistry(config);
  const redis = createRedis(config.redisUrl, log, 'api');
  const sql = createSql(config.databaseUrl, log, { connection: apiConnection(config) });
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
  const exportSql = createSql(config.databaseUrl, log, { max: config.apiExportConcurrency, connection: exportConnection() });
  const app = createApp({ config, redis, sql, queue, sources, log, exportSql }, pages);
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    // Node's defaults let a client take minutes to send its headers, keep idle sockets for long, and open as many
    // as it likes; the timeouts are checked every second rather than every 30 s.
    const serverOptions = {
      headersTimeout: config.apiHeadersTimeoutMs,
      requestTimeout: config.apiRequestTimeoutMs,
      keepAliveTimeout: config.apiKeepAliveTimeoutMs,
      connectionsCheckingInterval: 1_000,
    };
    const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port, serverOptions }, (info) => resolve({ server, port: info.port }));
    (server as import('node:net').Server).maxConnections = config.apiMaxConnections;
    server.once('error', reject);
  });
  log.info('api_listening', { host: config.host, port });
  const deps = { config, redis, sql, queue, sources, log, exportSql };
  const metricsServer = config.metricsListen
    ? await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
        const app = metricsOnlyApp(deps, new Metrics(redis, redisKeys(config.redisPrefix), log));
        const listen = config.metricsListen!;
        const server = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, (info) => resolve({ server, port: info.port }));
        server.once('error', reject);
      })
    : null;
  if (metricsServer) log.info('metrics_listening', { host: config.metricsListen!.host, port: metricsServer.port });
  return {
    server,
    port,
    metricsPort: metricsServer?.port ?? null,
    async stop() {
      if (metricsServer) await new Promise<void>((resolve) => metricsServer.server.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
      await Promise.all([sql.end({ timeout: 5 }), exportSql.end({ timeout: 1 })]);
    },
  };
}

function assertWebhookNetworks(config: Config): void {
  try {
    addressMatcher(config.webhookAllowNetworks);
  } catch (error) {
    throw new ConfigError(`WEBHOOK_ALLOW_NETWORKS: ${(error as Error).message}`);
  }
}

function assertTrustedProxies(config: Config): void {
  try {
    addressMatcher(config.trustedProxies);
  } catch (error) {
    throw new ConfigError(`TRUSTED_PROXIES: ${(error as Error).message}`);
  }
}
