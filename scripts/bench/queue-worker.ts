// A worker process for bench:queue: the real Worker (leases renewed by its thread, fenced finishing, sweeps,
// heartbeats and the history copy into PostgreSQL), with a job handler that does nothing. With REPORT_STARTS=1 it
// prints "<job id> <wall-clock ms with fractions>" when each job starts, for the add->start latency.
import { createSql } from '../../lib/db/client.ts';
import { drainJobHistory } from '../../lib/history/copy.ts';
import { silentLogger } from '../../lib/log.ts';
import { JobQueue } from '../../lib/queue/queue.ts';
import { createBlockingRedis, createRedis } from '../../lib/redis/client.ts';
import { Worker } from '../../lib/worker/worker.ts';

const redisUrl = process.env.REDIS_URL!;
const prefix = process.env.REDIS_PREFIX!;
const concurrency = Number(process.env.WORKER_CONCURRENCY);
const report = process.env.REPORT_STARTS === '1';
const redis = createRedis(redisUrl, silentLogger, 'bench-worker');
const sql = createSql(process.env.DATABASE_URL!, silentLogger, { max: 2 });
const settings = { prefix, leaseMs: 20_000, retentionMs: 7 * 86_400_000, maxAttempts: 3, retryBaseMs: 2_000 };
const queue = new JobQueue(redis, settings);
const worker = new Worker({
  queue,
  settings,
  blocking: createBlockingRedis(redisUrl, silentLogger, 'bench-take'),
  subscriber: createBlockingRedis(redisUrl, silentLogger, 'bench-cancel'),
  concurrency,
  log: silentLogger,
  logLevel: 'error',
  redisUrl,
  maintenance: () => drainJobHistory(queue, sql),
  handler: async (job) => {
    if (report) process.stdout.write(`${job.id} ${performance.timeOrigin + performance.now()}\n`);
    return { ok: true };
  },
});
await worker.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker.stop(5_000).then(async () => {
    await sql.end({ timeout: 1 });
    process.exit(0);
  });
});
