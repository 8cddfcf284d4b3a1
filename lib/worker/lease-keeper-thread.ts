// Runs in a worker thread: renews the leases of the jobs its worker holds, on an event loop of its own, so a
// job that blocks the main thread (a huge page to parse, a CPU-bound step) is not mistaken for a dead worker.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.ts';
import { JobQueue } from '../queue/queue.ts';
import type { QueueSettings } from '../queue/settings.ts';
import { createRedis } from '../redis/client.ts';
import { type HeldLeasesMemory, HeldLeasesReader } from './held-leases.ts';
import type { KeeperCommand, KeeperEvent } from './lease-keeper.ts';

const { redisUrl, settings, renewEveryMs, logLevel, workerId, held: memory } = workerData as {
  redisUrl: string;
  settings: QueueSettings;
  renewEveryMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  workerId: string;
  held: HeldLeasesMemory;
};
const log = createLogger(logLevel, { process: 'worker', worker_id: workerId, thread: 'lease-keeper' });
const redis = createRedis(redisUrl, log, 'worker-leases');
const leases = new JobQueue(redis, settings).leases();
const held = new HeldLeasesReader(memory);
/** Tokens found stale: the main thread is told once and drops the row; until then they are not renewed again. */
let lost = new Set<string>();
const port = parentPort!;
const send = (event: KeeperEvent) => port.postMessage(event);

port.on('message', (command: KeeperCommand) => {
  if (command.type === 'stop') {
    clearInterval(timer);
    redis.disconnect();
    port.close();
  }
});

let renewing = false;
const timer = setInterval(() => {
  if (renewing) return;
  renewing = true;
  void renewAll().finally(() => (renewing = false));
}, renewEveryMs);

async function renewAll(): Promise<void> {
  const now = Date.now();
  const leasesHeld = held.all();
  lost = new Set(leasesHeld.filter(({ token }) => lost.has(token)).map(({ token }) => token));
  await Promise.all(
    leasesHeld.map(async ({ id, token, until }) => {
      // Past its hard deadline a job is left to expire: a main thread stuck for good must not hold it for ever.
      if (now > until || lost.has(token)) return;
      try {
        const state = await leases.renew(id, token, null);
        if (state === 'lost') {
          lost.add(token);
          send({ type: 'lost', id });
        } else if (state === 'cancel_requested') {
          send({ type: 'cancel', id });
        }
      } catch (error) {
        // The lease outlives a few missed renewals; the next tick tries again.
        log.warn('lease_renew_failed', { job_id: id, error: (error as Error).message });
      }
    }),
  );
}

send({ type: 'ready' });
