import { Cron } from 'croner';
import type { Logger } from '../log.ts';
import { StartupError } from '../startup-error.ts';
import type { ScheduleStore } from './schedule-store.ts';
import type { ScheduleDefinition, ScheduleName, TickOutcome } from './schedules.ts';

/**
 * Starts one croner job per schedule (UTC). A tick is claimed in Redis before it runs, so several schedulers
 * fire it once; croner does not replay ticks missed while the process was down, so a restart never bursts.
 */
export function startScheduler(
  definitions: ScheduleDefinition[],
  handlers: Record<ScheduleName, () => Promise<TickOutcome>>,
  deps: { store: ScheduleStore; log: Logger },
): Cron[] {
  const crons = definitions.map((definition) => {
    try {
      return new Cron(definition.cron, { timezone: 'UTC', protect: true, paused: true }, async (self: Cron) => {
        const tick = self.currentRun() ?? new Date();
        tick.setMilliseconds(0);
        const log = deps.log.child({ schedule: definition.name, tick: tick.toISOString() });
        try {
          if (!(await deps.store.claimTick(definition.name, tick))) {
            log.info('schedule_tick_taken_elsewhere');
            return;
          }
          const outcome = await handlers[definition.name]();
          await deps.store.recordRun(definition.name, { tick: tick.toISOString(), job_id: outcome.job_id, note: outcome.note, error: null });
          log.info('schedule_tick', { ...outcome });
        } catch (error) {
          log.error('schedule_tick_failed', { error });
          await deps.store.recordRun(definition.name, { tick: tick.toISOString(), job_id: null, note: null, error: (error as Error).message }).catch(() => {});
        }
      });
    } catch (error) {
      throw new StartupError(`the cron pattern "${definition.cron}" for ${definition.name} is not valid: ${(error as Error).message}`);
    }
  });
  for (const [index, cron] of crons.entries()) {
    cron.resume();
    deps.log.info('schedule_started', { schedule: definitions[index]!.name, cron: definitions[index]!.cron, next_run: cron.nextRun()?.toISOString() ?? null });
  }
  return crons;
}

/** The next time a pattern fires, in UTC, without starting anything. */
export function nextRun(pattern: string, from = new Date()): Date | null {
  try {
    return new Cron(pattern, { timezone: 'UTC', paused: true }).nextRun(from);
  } catch {
    return null;
  }
}
