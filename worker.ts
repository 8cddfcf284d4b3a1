// A worker process: takes jobs from Redis and scrapes. Run as many as you like (`npx tsx worker.ts`).
// First SIGTERM/SIGINT: stop taking jobs, finish running ones until WORKER_SHUTDOWN_TIMEOUT_MS, put the rest
// back in pending. Second signal: exit at once (the leases bring those jobs back within JOB_LEASE_MS).
import { loadConfig } from './lib/config.ts';
import { createLogger } from './lib/log.ts';
import { exitOnStartupError } from './lib/startup-error.ts';
import { startWorkerProcess } from './lib/worker/boot.ts';

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    return exitOnStartupError(error);
  }
})();
const log = createLogger(config.logLevel, { process: 'worker' });
const running = await startWorkerProcess(config, log).catch(exitOnStartupError);

let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    running.stop(config.shutdownTimeoutMs).then(
      () => process.exit(0),
      (error) => {
        log.error('shutdown_failed', { error });
        process.exit(1);
      },
    );
  });
}
