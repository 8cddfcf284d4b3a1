// What every worker does besides running jobs, every few seconds with jitter: sweep (due retries, expired leases,
// retention), send its heartbeat, then its own chores (copying finished jobs into PostgreSQL). A failure is logged
// and the loop goes on: an outage slows it down, never stops it.
import { hostname } from 'node:os';
import type { Logger } from '../log.ts';
import type { JobLeases } from '../queue/leases.ts';
import { pause } from '../sleep.ts';

export interface MaintenanceOptions {
  leases: JobLeases;
  workerId: string;
  concurrency: number;
  startedAt: number;
  /** How many jobs run now, for the heartbeat. */
  running(): number;
  everyMs: number;
  chores?: () => Promise<unknown>;
  log: Logger;
}

/** Runs until `stop` aborts; resolves once the tick in flight (if any) has finished. */
export async function runMaintenance(options: MaintenanceOptions, stop: AbortSignal): Promise<void> {
  const { leases, log } = options;
  while (!stop.aborted) {
    try {
      const swept = await leases.sweep();
      if (swept.recovered || swept.quarantined || swept.cancelled) log.info('jobs_recovered', { ...swept });
      await leases.heartbeat(
        { id: options.workerId, host: hostname(), pid: process.pid, concurrency: options.concurrency, running: options.running(), startedAt: options.startedAt },
        options.everyMs * 3,
      );
      await options.chores?.();
    } catch (error) {
      log.warn('maintenance_failed', { error: (error as Error).message });
    }
    // Jitter keeps a fleet of workers from sweeping in lockstep.
    await pause(options.everyMs * (0.5 + Math.random() * 0.5), stop);
  }
}
