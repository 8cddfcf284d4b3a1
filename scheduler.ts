// The scheduler: enqueues periodic work (automatic scrapes, backups) at its cron times and does nothing else.
// Run one or several; each tick still fires once.
import { loadConfig } from './lib/config.ts';
import { assertPostgresReady, createSql } from './lib/db/client.ts';
import { createLogger } from './lib/log.ts';
import { JobQueue } from './lib/queue/queue.ts';
import { assertRedisReady, createRedis } from './lib/redis/client.ts';
import { redisKeys } from './lib/redis/keys.ts';
import { ScheduleStore } from './lib/scheduler/schedule-store.ts';
import { scheduleDefinitions, tickHandlers } from './lib/scheduler/schedules.ts';
import { startScheduler } from './lib/scheduler/scheduler.ts';
import { loadSourceRegistry } from './lib/sources/registry.ts';
import { exitOnStartupError } from './lib/startup-error.ts';
import { queueSettings } from './lib/queue/settings.ts';

try {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { process: 'scheduler' });
  const sources = await loadSourceRegistry(config);
  const redis = createRedis(config.redisUrl, log, 'scheduler');
  const sql = createSql(config.databaseUrl, log, { max: 2 });
  await assertRedisReady(redis, config);
  await assertPostgresReady(sql, config.databaseUrl);
  const queue = new JobQueue(redis, queueSettings(config));
  await queue.upgradeKeys();
  const store = new ScheduleStore(redis, redisKeys(config.redisPrefix));
  const crons = startScheduler(scheduleDefinitions(config), tickHandlers({ config, sql, queue, sources }), { store, log });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      for (const cron of crons) cron.stop();
      redis.disconnect();
      void sql.end({ timeout: 2 }).finally(() => {
        log.info('scheduler_stopped', { signal });
        process.exit(0);
      });
    });
  }
} catch (error) {
  exitOnStartupError(error);
}
