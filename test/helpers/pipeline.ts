// The real worker, in this process, against this test file's own Redis prefix and database: for end-to-end
// jobs through the queue against a fake upstream (point SOURCE_BASE_URL_<NAME> at it in `env`).
import { loadConfig } from '../../lib/config.ts';
import { silentLogger } from '../../lib/log.ts';
import type { Job } from '../../lib/model/job.ts';
import { JobQueue } from '../../lib/queue/queue.ts';
import { queueSettings } from '../../lib/queue/settings.ts';
import { type WorkerProcess, startWorkerProcess } from '../../lib/worker/boot.ts';
import { type TestServices, startServices } from './services.ts';
import { isFinished, waitForJob } from './worker.ts';

export interface Pipeline {
  services: TestServices;
  queue: JobQueue;
  worker: WorkerProcess;
  /** Enqueues a scrape and waits until it finished (completed, failed or cancelled). */
  scrape(source: string, query: string, options?: { limit?: number; fullRescan?: boolean }): Promise<Job>;
  close(): Promise<void>;
}

export async function startPipeline(name: string, env: Record<string, string>): Promise<Pipeline> {
  const services = await startServices(name, { JOB_RETRY_BASE_MS: '100', ...env });
  const config = loadConfig({ ...services.env, ...env });
  const queue = new JobQueue(services.redis, queueSettings(config));
  const worker = await startWorkerProcess(config, silentLogger);
  const pipeline: Pipeline = {
    services,
    queue,
    worker,
    async scrape(source, query, options = {}) {
      const job = await queue.enqueue({ kind: 'scrape', source, query, limit: options.limit ?? 50, priority: 0, fullRescan: options.fullRescan });
      return waitForJob(queue, job.id, isFinished, 30_000);
    },
    async close() {
      // A test may have replaced the worker (stopped it and started another).
      await pipeline.worker.stop(1_000);
      await services.close();
    },
  };
  return pipeline;
}
