// The scheduler: enqueues periodic work at its cron times and does nothing else.
import { loadConfig } from './lib/config.ts';
import { createLogger } from './lib/log.ts';
import { JobQueue, queueSettings } from './lib/queue/queue.ts';
import { assertRedisReady, createRedis } from './lib/redis.ts';
import { startAutoScrape } from './lib/scheduler/auto-scrape.ts';
import { loadSourceRegistry } from './lib/sources/registry.ts';
import { exitOnStartupError } from './lib/startup-error.ts';

try {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { process: 'scheduler' });
  const redis = createRedis(config.redisUrl, log, 'scheduler');
  await assertRedisReady(redis, config);
  const queue = new JobQueue(redis, queueSettings(config));
  const cron = startAutoScrape({ config, redis, queue, sources: await loadSourceRegistry(config), log });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      cron.stop();
      redis.disconnect();
      log.info('scheduler_stopped', { signal });
      process.exit(0);
    });
  }
} catch (error) {
  exitOnStartupError(error);
}
