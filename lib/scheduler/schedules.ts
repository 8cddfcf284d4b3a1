import type { Config } from '../config.ts';
import type { Sql } from '../db/client.ts';
import { listTrackedQueries } from '../db/tracked-queries.ts';
import type { JobQueue } from '../queue/queue.ts';
import type { SourceRegistry } from '../sources/registry.ts';

const FAMILY_SIZE = 200;

export type ScheduleName = 'auto-scrape' | 'backup-hourly' | 'backup-daily' | 'alert-check';

export interface ScheduleDefinition {
  name: ScheduleName;
  cron: string;
  description: string;
}

export interface TickOutcome {
  job_id: string | null;
  note: string;
}

export function scheduleDefinitions(config: Pick<Config, 'autoScrapeCron' | 'backupHourlyCron' | 'backupDailyCron' | 'alertCheckCron'>): ScheduleDefinition[] {
  return [
    { name: 'auto-scrape', cron: config.autoScrapeCron, description: 'one scrape job per tracked query and enabled source (GET /queries)' },
    { name: 'backup-hourly', cron: config.backupHourlyCron, description: 'pg_dump backup, newest BACKUP_KEEP_HOURLY kept' },
    { name: 'backup-daily', cron: config.backupDailyCron, description: 'pg_dump backup, newest BACKUP_KEEP_DAILY kept' },
    { name: 'alert-check', cron: config.alertCheckCron, description: 'an alert-check job: spike rules judge the window that just ended and the open one (GET /alerts)' },
  ];
}

export interface TickDeps {
  config: Pick<Config, 'autoScrapeSources' | 'backupTimeoutMs' | 'jobLeaseMs'>;
  sql: Sql;
  queue: JobQueue;
  sources: SourceRegistry;
}

/** What each schedule enqueues at a tick. Nothing here scrapes or dumps: workers do. */
export function tickHandlers(deps: TickDeps): Record<ScheduleName, () => Promise<TickOutcome>> {
  const backup = (type: 'hourly' | 'daily') => async (): Promise<TickOutcome> => {
    const outcome = await deps.queue.enqueueBackup(type, deps.config.backupTimeoutMs + 2 * deps.config.jobLeaseMs + 60_000);
    if (outcome.status === 'busy') return { job_id: outcome.jobId, note: `${type} backup skipped: backup ${outcome.jobId} is still waiting or running` };
    return { job_id: outcome.job.id, note: `${type} backup enqueued` };
  };
  return {
    'auto-scrape': async () => {
      const tracked = await listTrackedQueries(deps.sql);
      const usable = deps.sources.all().filter((source) => source.missingSettings() === null).map((source) => source.name);
      const enabled = deps.config.autoScrapeSources.length > 0 ? usable.filter((name) => deps.config.autoScrapeSources.includes(name)) : usable;
      const children = tracked.flatMap((row) =>
        (row.sources ?? enabled).filter((name) => usable.includes(name)).map((source) => ({ source, query: row.query, limit: 50, priority: 0 })),
      );
      if (children.length === 0) {
        return { job_id: null, note: tracked.length === 0 ? 'no tracked queries (POST /queries)' : 'no usable source for the tracked queries' };
      }
      // One family per FAMILY_SIZE children: each is one atomic script call of bounded size, however many queries
      // are tracked (a single call for thousands of jobs would not fit in one).
      const parents: string[] = [];
      for (let start = 0; start < children.length; start += FAMILY_SIZE) {
        const { parent } = await deps.queue.enqueueFamily({ source: '', query: 'auto-scrape', limit: 50, priority: 0 }, children.slice(start, start + FAMILY_SIZE));
        parents.push(parent.id);
      }
      const families = parents.length > 1 ? ` in ${parents.length} scrape-all jobs (the first is this one)` : '';
      return { job_id: parents[0]!, note: `${children.length} scrape jobs enqueued for ${tracked.length} tracked queries${families}` };
    },
    'backup-hourly': backup('hourly'),
    'backup-daily': backup('daily'),
    'alert-check': async () => {
      const job = await deps.queue.enqueue({ kind: 'alert-check', source: '', query: '', limit: 1, priority: 6, maxAttempts: 2 });
      return { job_id: job.id, note: 'alert check enqueued' };
    },
  };
}
