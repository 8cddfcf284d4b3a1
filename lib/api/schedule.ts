import { Hono } from 'hono';
import type { ScheduleStore } from '../scheduler/schedule-store.ts';
import { nextRun } from '../scheduler/scheduler.ts';
import { scheduleDefinitions } from '../scheduler/schedules.ts';
import type { ApiDeps } from './deps.ts';

/** GET /schedule: each schedule, when it fires next, and how its last tick went. */
export function scheduleRoutes(deps: ApiDeps, store: ScheduleStore) {
  return new Hono().get('/', async (c) => {
    const schedules = await Promise.all(
      scheduleDefinitions(deps.config).map(async (definition) => {
        const last = await store.lastRun(definition.name);
        const job = last?.job_id ? await deps.queue.get(last.job_id) : null;
        return {
          name: definition.name,
          cron: definition.cron,
          timezone: 'UTC',
          description: definition.description,
          next_run: nextRun(definition.cron)?.toISOString() ?? null,
          last_run: last && {
            tick: last.tick,
            job_id: last.job_id,
            job_status: job?.status ?? null,
            note: last.note,
            error: last.error ?? job?.error?.message ?? null,
          },
        };
      }),
    );
    return c.json({ schedules });
  });
}
