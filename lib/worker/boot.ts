import { readFileSync } from 'node:fs';
import { type Config, ConfigError } from '../config.ts';
import { assertPostgresReady, createSql } from '../db/client.ts';
import { listMigrations } from '../db/migrate.ts';
import { drainJobHistory } from '../history/copy.ts';
import { createHttpClient } from '../http/client.ts';
import { createHostLimiter } from '../http/host-limiter.ts';
import type { Logger } from '../log.ts';
import { JobQueue } from '../queue/queue.ts';
import { queueSettings } from '../queue/settings.ts';
import { assertRedisReady, createBlockingRedis, createRedis } from '../redis/client.ts';
import { loadSourceRegistry } from '../sources/registry.ts';
import { AlertEvaluator } from '../alerts/evaluator.ts';
import { createWebhookClient } from '../http/webhook-client.ts';
import { Metrics } from '../metrics/metrics.ts';
import { redisKeys } from '../redis/keys.ts';
import { runAlertCheck } from './alert-check-job.ts';
import { runAlertDelivery } from './alert-delivery-job.ts';
import { runBackupJob } from './backup-job.ts';
import { lowerOwnPriority } from './priority.ts';
import { runScrapeJob } from './scrape-job.ts';
import { runSentimentBackfill } from './sentiment-backfill-job.ts';
import { Worker, newWorkerId } from './worker.ts';

// A scrape that has not finished in ten minutes is stuck on something; a source with longer runs says so.
const DEFAULT_SCRAPE_TIMEOUT_MS = 10 * 60_000;
const BACKFILL_ATTEMPT_MS = 60 * 60_000;
const ALERT_CHECK_ATTEMPT_MS = 5 * 60_000;

export interface WorkerProcess {
  worker: Worker;
  /** Drains (see Worker.stop) and closes every connection. */
  stop(deadlineMs: number): Promise<void>;
}

/** Builds the clients a worker needs, checks that Redis and PostgreSQL are usable, and starts it. */
export async function startWorkerProcess(config: Config, log: Logger): Promise<WorkerProcess> {
  // First, so the lease-keeper thread and pg_dump children inherit it.
  lowerOwnPriority(config.workerNice, log);
  const sources = await loadSourceRegistry(config);
  const redis = createRedis(config.redisUrl, log, 'worker');
  const blocking = createBlockingRedis(config.redisUrl, log, 'worker-take');
  const subscriber = createBlockingRedis(config.redisUrl, log, 'worker-cancel');
  const sql = createSql(config.databaseUrl, log, { max: Math.max(2, config.workerConcurrency + 1) });
  const limiter = createHostLimiter(redis, config.redisPrefix);
  const http = createHttpClient({ userAgent: config.httpUserAgent, timeoutMs: config.httpTimeoutMs, log, limiter, maxBodyBytes: config.httpMaxBodyBytes });
  let webhooks: ReturnType<typeof createWebhookClient>;
  try {
    webhooks = createWebhookClient({ userAgent: config.httpUserAgent, timeoutMs: config.webhookTimeoutMs, allowNetworks: config.webhookAllowNetworks });
  } catch (error) {
    redis.disconnect();
    blocking.disconnect();
    subscriber.disconnect();
    await Promise.allSettled([sql.end({ timeout: 1 }), http.close()]);
    throw new ConfigError(`WEBHOOK_ALLOW_NETWORKS: ${(error as Error).message}`);
  }
  const close = async () => {
    redis.disconnect();
    blocking.disconnect();
    subscriber.disconnect();
    await Promise.allSettled([sql.end({ timeout: 5 }), http.close(), webhooks.close()]);
  };
  try {
    await assertRedisReady(redis, config);
    await assertPostgresReady(sql, config.databaseUrl, (await listMigrations()).map((m) => m.name));
  } catch (error) {
    await close();
    throw error;
  }

  const settings = queueSettings(config);
  const queue = new JobQueue(redis, settings);
  await queue.upgradeKeys();
  const workerId = newWorkerId();
  const workerLog = log.child({ worker_id: workerId });
  const metrics = new Metrics(redis, redisKeys(config.redisPrefix), workerLog);
  const smtp = config.smtpUrl && config.smtpFrom
    ? { url: config.smtpUrl, from: config.smtpFrom, timeoutMs: config.webhookTimeoutMs, ...(config.smtpCaFile ? { ca: readSmtpCa(config.smtpCaFile) } : {}) }
    : null;
  const evaluator = new AlertEvaluator({ sql, queue, log: workerLog, deliveryAttempts: config.alertDeliveryMaxAttempts });
  const worker = new Worker({
    queue,
    settings,
    blocking,
    subscriber,
    workerId,
    concurrency: config.workerConcurrency,
    log: workerLog,
    handler: (job, ctx) => {
      if (job.kind === 'backup') return runBackupJob(job, ctx, config);
      if (job.kind === 'sentiment-backfill') return runSentimentBackfill(job, ctx, { sql, ratingKind: (name) => sources.get(name)?.ratingKind ?? 'votes' });
      if (job.kind === 'alert-delivery') return runAlertDelivery(job, ctx, { sql, webhooks, metrics, smtp });
      if (job.kind === 'alert-check') return runAlertCheck(job, ctx, evaluator);
      return runScrapeJob(job, ctx, {
        sources,
        http,
        sql,
        log: workerLog.child({ job_id: job.id }),
        limits: { maxNewPosts: config.scrapeMaxNewPosts, maxPages: config.scrapeMaxPages },
        countIngested: (source, count) => metrics.postsIngested(source, count),
        afterIngest: (ingest) => evaluator.afterIngest(ingest),
      });
    },
    maintenance: () => drainJobHistory(queue, sql, workerLog),
    redisUrl: config.redisUrl,
    logLevel: config.logLevel,
    // A dump that outgrew its limit would only outgrow it again: it fails, saying which setting to raise.
    timeLimit: (job) =>
      job.kind === 'backup'
        ? { ms: job.timeoutMs ?? config.backupTimeoutMs, onExpiry: 'fail', hint: 'the dump did not finish in time; raise BACKUP_TIMEOUT_MS' }
        : job.kind === 'sentiment-backfill'
          ? // A backfill goes on from where it stopped, so a long one simply takes several attempts.
            { ms: job.timeoutMs ?? BACKFILL_ATTEMPT_MS, onExpiry: 'retry' }
          : job.kind === 'alert-delivery'
            ? // The client's own timeout ends a slow receiver first; this is the backstop.
              { ms: config.webhookTimeoutMs + 5_000, onExpiry: 'retry' }
            : job.kind === 'alert-check'
              ? { ms: ALERT_CHECK_ATTEMPT_MS, onExpiry: 'retry' }
              : { ms: job.timeoutMs ?? sources.get(job.source)?.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS, onExpiry: 'retry' },
  });
  await worker.start();
  return {
    worker,
    async stop(deadlineMs) {
      await worker.stop(deadlineMs);
      await close();
    },
  };
}

function readSmtpCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`SMTP_CA_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
