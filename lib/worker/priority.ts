import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Logger } from '../log.ts';

/**
 * Lowers this process's CPU priority to `nice` so that, on a box the API shares with the workers, a request
 * waits less behind a page being parsed: scraping is background work, a request is someone waiting.
 * Linux keeps a nice value per thread, so every thread already running (V8's, libuv's) is lowered; threads
 * started later inherit the main thread's. Raising it back needs privileges, so this is one-way. Never fatal.
 */
export function lowerOwnPriority(nice: number, log: Logger): void {
  if (nice === 0) return;
  const failures: string[] = [];
  for (const thread of ownThreads()) {
    try {
      setPriority(thread, nice);
    } catch (error) {
      failures.push(`${thread}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) log.warn('worker_nice_not_applied', { nice, failures: failures.slice(0, 3) });
}

function ownThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter(Number.isInteger);
  } catch {
    // Not Linux: there the process as a whole has one priority.
    return [0];
  }
}
