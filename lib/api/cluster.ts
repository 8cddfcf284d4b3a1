import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import type { Logger } from '../log.ts';

const READY = 'vibe:api-ready';

/**
 * The primary of a node:cluster API: forks `count` processes that share one port and replaces any that dies
 * once it had started. A process that dies before it ever listened (Redis down, a bad setting) stops the whole
 * API instead: forking it again would only fail again, faster than anyone could read why.
 */
export function runApiPrimary(count: number, log: Logger): void {
  let stopping = false;
  let restarts = 0;
  const fork = () => {
    const worker: ClusterWorker = cluster.fork();
    let started = false;
    worker.on('message', (message: unknown) => {
      if (message === READY) {
        started = true;
        restarts = 0;
      }
    });
    worker.on('exit', (code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      if (!started) {
        log.error('api_process_failed_to_start', { pid: worker.process.pid, code });
        stopAll(1);
        return;
      }
      restarts += 1;
      // Back off when processes keep dying, so a crash loop does not spin the CPU.
      const delay = Math.min(100 * 2 ** Math.min(restarts, 8), 30_000);
      log.warn('api_process_died', { pid: worker.process.pid, code, signal, restart_in_ms: delay });
      setTimeout(fork, delay);
    });
  };
  const stopAll = (code: number) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(code);
    for (const worker of workers) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(code), 10_000).unref();
    if (code !== 0) process.exitCode = code;
  };
  for (let i = 0; i < count; i++) fork();
  log.info('api_primary_started', { processes: count });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stopAll(0));
}

/** Tells the primary (when there is one) that this API process is listening. */
export function reportApiReady(): void {
  if (cluster.isWorker) process.send?.(READY);
}
