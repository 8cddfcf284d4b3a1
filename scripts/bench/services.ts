// A part's bounds: its processes (started through scripts/harness/processes.ts) and its database and Redis keys
// are cleaned up whatever happens, past its time limit, on a signal or on an error.
import { sleep, stopAll } from '../harness/processes.ts';
import { log } from './params.ts';

export { type Spawned as Service, sleep, startProcess, stopAll, stopProcess } from '../harness/processes.ts';

/**
 * Bounds a part: past `maxSeconds`, or on SIGINT/SIGTERM, it runs `cleanup` (drop the database and Redis keys,
 * stop the processes it started) and exits non-zero, so a hung run never leaves anything behind.
 */
export function guard(part: string, maxSeconds: number, cleanup: () => Promise<void>): { done(): void } {
  let ending = false;
  const end = async (why: string, code: number) => {
    if (ending) return;
    ending = true;
    log(`bench ${part}: ${why}; cleaning up`);
    // Processes first: a worker still running would write keys after they were deleted.
    await Promise.race([stopAll(5_000).then(() => cleanup()).catch((error: Error) => log(`cleanup failed: ${error.message}`)), sleep(25_000)]);
    process.exit(code);
  };
  const timer = setTimeout(() => void end(`over its time limit of ${maxSeconds} s`, 124), maxSeconds * 1000);
  const onSignal = (signal: NodeJS.Signals) => void end(`got ${signal}`, 130);
  // An error anywhere (also one thrown while a cleanup above is closing connections) ends the run the same way,
  // instead of exiting before the processes are stopped and the database dropped.
  const onError = (error: unknown) => {
    if (!ending) log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    void end('failed', 1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    done() {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** `fn` runs once however often it is called: the guard and the normal path share one cleanup. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}

