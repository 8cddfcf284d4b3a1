import { Cron } from 'croner';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { JobQueue } from '../queue/queue.ts';
import type { SourceRegistry } from '../sources/registry.ts';
import { StartupError } from '../startup-error.ts';

/**
 * Enqueues one scrape job per AUTO_SCRAPE_QUERIES entry at each AUTO_SCRAPE_CRON tick. It only enqueues.
 * A per-tick key (SET NX) makes each tick fire once however many schedulers run; croner does not replay
 * ticks missed while the process was down.
 */
export function startAutoScrape(deps: { config: Config; redis: Redis; queue: JobQueue; sources: SourceRegistry; log: Logger }): Cron {
  const { config, redis, queue, sources, log } = deps;
  for (const { source } of config.autoScrapeQueries) {
    if (!sources.get(source)) throw new StartupError(`AUTO_SCRAPE_QUERIES names unknown source "${source}"; valid: ${sources.names().join(', ')}`);
  }
  let cron: Cron;
  try {
    cron = new Cron(config.autoScrapeCron, { protect: true, timezone: 'UTC', paused: true }, async (self: Cron) => {
      const tick = self.currentRun()?.toISOString() ?? new Date().toISOString();
      const key = `${config.redisPrefix}:schedule:auto-scrape:${tick}`;
      try {
        if ((await redis.set(key, process.pid, 'EX', 86_400, 'NX')) !== 'OK') {
          log.info('auto_scrape_tick_taken', { tick });
          return;
        }
        for (const { source, query } of config.autoScrapeQueries) {
          const job = await queue.enqueue({ kind: 'scrape', source, query, limit: 50, priority: 0 });
          log.info('auto_scrape_enqueued', { tick, job_id: job.id, source, query });
        }
      } catch (error) {
        log.error('auto_scrape_failed', { tick, error });
      }
    });
  } catch (error) {
    throw new StartupError(`AUTO_SCRAPE_CRON "${config.autoScrapeCron}" is not a valid cron pattern: ${(error as Error).message}`);
  }
  cron.resume();
  log.info('auto_scrape_scheduled', {
    cron: config.autoScrapeCron,
    next_run: cron.nextRun()?.toISOString() ?? null,
    queries: config.autoScrapeQueries.length,
  });
  return cron;
}
