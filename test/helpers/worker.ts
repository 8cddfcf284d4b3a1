import { silentLogger } from '../../lib/log.ts';
import { type Job, isFinal } from '../../lib/model/job.ts';
import { JobQueue } from '../../lib/queue/queue.ts';
import { type QueueSettings, queueSettings } from '../../lib/queue/settings.ts';
import { createBlockingRedis } from '../../lib/redis/client.ts';
import { type JobHandler, Worker, type WorkerOptions } from '../../lib/worker/worker.ts';
import type { TestServices } from './services.ts';

export interface TestWorker {
  worker: Worker;
  queue: JobQueue;
  stop(deadlineMs?: number): Promise<void>;
}

/** A worker in this process with its own connections, running `handler` for every job. */
export async function startTestWorker(
  services: TestServices,
  handler: JobHandler,
  options: { concurrency?: number; settings?: Partial<QueueSettings>; maintenance?: () => Promise<unknown>; timeLimit?: WorkerOptions['timeLimit'] } = {},
): Promise<TestWorker> {
  const settings = { ...queueSettings(services.config), ...options.settings };
  const queue = new JobQueue(services.redis, settings);
  const blocking = createBlockingRedis(services.config.redisUrl, silentLogger, 'test-worker-take');
  const subscriber = createBlockingRedis(services.config.redisUrl, silentLogger, 'test-worker-cancel');
  const worker = new Worker({
    queue,
    settings,
    blocking,
    subscriber,
    handler,
    concurrency: options.concurrency ?? 2,
    log: silentLogger,
    logLevel: 'error',
    maintenance: options.maintenance,
    redisUrl: services.config.redisUrl,
    timeLimit: options.timeLimit,
  });
  await worker.start();
  return {
    worker,
    queue,
    async stop(deadlineMs = 1_000) {
      await worker.stop(deadlineMs);
      blocking.disconnect();
      subscriber.disconnect();
    },
  };
}

/** Polls the job until `done` says so; fails with the last state seen after `timeoutMs` (a hang, not a speed check). */
export async function waitForJob(queue: JobQueue, id: string, done: (job: Job) => boolean, timeoutMs = 20_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  let job: Job | null = null;
  while (Date.now() < deadline) {
    job = await queue.get(id);
    if (job && done(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`job ${id} did not reach the expected state; last seen: ${JSON.stringify(job)}`);
}

export const isFinished = (job: Job) => isFinal(job.status);
