// npm run bench:queue [-- --quick] [--reps N] [--n N]
// Part 1 of the benchmark suite: the project's own queue module with every guarantee on (leases renewed by the
// worker's thread, fenced finishing, priorities, retries, history copied into PostgreSQL), measured the way the
// peer-bullmq harness measures BullMQ, with the same field names: enqueue jobs/s (single, 50 in flight, and bulk,
// 100 per call), no-op processing jobs/s at worker concurrency 1, 8 and 32 (one worker process), add->start latency
// at a steady 200 jobs/s, Redis memory per waiting job, and Redis CPU and commands per job from INFO deltas. It
// runs against a redis-server of its own (same binary, no persistence, like the peer's), so INFO counts only it.
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import postgres from 'postgres';
import { describeMachine, finishMachine, intValue, log, parseParams, percentile, printTable, round, sleep, summarize, writeResult } from './common.ts';
import { createSql } from '../../lib/db/client.ts';
import { ensureDatabase, migrate } from '../../lib/db/migrate.ts';
import { silentLogger } from '../../lib/log.ts';
import { JobQueue, type JobSpec } from '../../lib/queue/queue.ts';
import { createRedis } from '../../lib/redis/client.ts';
import { redisKeys } from '../../lib/redis/keys.ts';
import { startPrivateRedis } from '../harness/private-redis.ts';
import { type Spawned, startProcess, stopProcess } from '../harness/processes.ts';

const { common, values } = parseParams({ n: { type: 'string' } }, { reps: 3 });
const N = intValue(values, 'n', common.quick ? 1_000 : 10_000, 100, 200_000);
const CONCURRENCIES = [1, 8, 32];
const LATENCY_RATE = 200;
const LATENCY_SECONDS = common.quick ? 2 : 10;
const PAYLOAD: JobSpec = { kind: 'scrape', source: 'trustpilot', query: 'OVH', limit: 50, priority: 0 };

const startedAt = new Date();
const machine = await describeMachine();
const redisServer = await startPrivateRedis(['--appendonly', 'no', '--maxmemory-policy', 'noeviction']);
const databaseUrl = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres');
databaseUrl.pathname = `/vibe_bench_queue_${randomBytes(4).toString('hex')}`;
await ensureDatabase(databaseUrl.toString());
const setupSql = createSql(databaseUrl.toString(), silentLogger, { max: 1 });
await migrate(setupSql, silentLogger);
await setupSql.end();
const redis = createRedis(redisServer.url, silentLogger, 'bench-queue', { commandTimeout: 60_000 });

interface Counters {
  cpuUs: number;
  cmds: number;
}
async function counters(): Promise<Counters> {
  const [cpu, stats] = await Promise.all([redis.info('cpu'), redis.info('stats')]);
  const num = (text: string, field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(text)?.[1] ?? NaN);
  return { cpuUs: (num(cpu, 'used_cpu_user') + num(cpu, 'used_cpu_sys')) * 1e6, cmds: num(stats, 'total_commands_processed') };
}
const perJob = (c0: Counters, c1: Counters, jobs: number) => ({ cpu: (c1.cpuUs - c0.cpuUs) / jobs, cmds: (c1.cmds - c0.cmds - 2) / jobs });

let prefixSeq = 0;
function freshQueue(): JobQueue {
  prefixSeq += 1;
  return new JobQueue(redis, { prefix: `benchq${prefixSeq}`, leaseMs: 20_000, retentionMs: 7 * 86_400_000, maxAttempts: 3, retryBaseMs: 2_000 });
}
async function wipe(queue: JobQueue): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${queue.prefix}:*`, 'COUNT', 5_000);
    if (keys.length) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

function startWorker(queue: JobQueue, concurrency: number, reportStarts = false): { worker: Spawned; ready: Promise<void>; starts: Map<string, number> } {
  const env = { REDIS_URL: redisServer.url, REDIS_PREFIX: queue.prefix, DATABASE_URL: databaseUrl.toString(), WORKER_CONCURRENCY: String(concurrency), REPORT_STARTS: reportStarts ? '1' : '0' };
  const worker = startProcess(`queue worker c=${concurrency}`, ['--import', 'tsx', 'scripts/bench/queue-worker.ts'], env, { keepLines: 20 });
  const starts = new Map<string, number>();
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: worker.child.stdout! }).on('line', (line) => {
      if (line === 'ready') return resolve();
      const [id, at] = line.split(' ');
      if (id && at) starts.set(id, Number(at));
    });
    void worker.exited.then(() => reject(new Error(`the queue worker exited before it was ready:\n${worker.tail()}`)));
  });
  return { worker, ready, starts };
}

async function enqueueSingle(queue: JobQueue, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < n) {
        next += 1;
        await queue.enqueue(PAYLOAD);
      }
    }),
  );
}
async function enqueueBulk(queue: JobQueue, n: number): Promise<void> {
  for (let i = 0; i < n; i += 100) await queue.enqueueMany(Array.from({ length: Math.min(100, n - i) }, () => PAYLOAD));
}

const results: Record<string, unknown> = {};
try {
  // (a) enqueue
  const enqueue: Record<string, Record<string, number[]>> = { single_inflight50: { throughput: [], cpu: [], cmds: [] }, bulk100: { throughput: [], cpu: [], cmds: [] } };
  for (let rep = 0; rep < common.reps; rep++) {
    for (const [mode, run] of [['single_inflight50', enqueueSingle], ['bulk100', enqueueBulk]] as const) {
      const queue = freshQueue();
      const c0 = await counters();
      const t0 = performance.now();
      await run(queue, N);
      const seconds = (performance.now() - t0) / 1000;
      const c1 = await counters();
      const waiting = await redis.llen(redisKeys(queue.prefix).pending);
      if (waiting !== N) throw new Error(`${mode}: ${waiting} jobs waiting, expected ${N}`);
      const cost = perJob(c0, c1, N);
      enqueue[mode]!.throughput!.push(N / seconds);
      enqueue[mode]!.cpu!.push(cost.cpu);
      enqueue[mode]!.cmds!.push(cost.cmds);
      await wipe(queue);
    }
  }
  results.enqueue = Object.fromEntries(
    Object.entries(enqueue).map(([mode, runs]) => [mode, { throughput: summarize(runs.throughput!, 0), redis_cpu_us_per_job: summarize(runs.cpu!, 1), redis_cmds_per_job: summarize(runs.cmds!, 1) }]),
  );
  log(`enqueue: ${JSON.stringify(results.enqueue)}`);

  // (b) processing, one worker process
  const process_: Record<string, unknown> = {};
  for (const concurrency of CONCURRENCIES) {
    const runs = { throughput: [] as number[], cpu: [] as number[], cmds: [] as number[] };
    for (let rep = 0; rep < common.reps; rep++) {
      const queue = freshQueue();
      await enqueueBulk(queue, N);
      const worker = startWorker(queue, concurrency);
      // The clock starts once the worker process is up (as the peer's does), not while its code loads.
      await worker.ready;
      const c0 = await counters();
      const t0 = performance.now();
      const deadline = Date.now() + 120_000;
      while ((await redis.zcard(redisKeys(queue.prefix).finished.completed)) < N) {
        if (Date.now() > deadline) throw new Error(`c=${concurrency}: not done within 120 s`);
        await sleep(5);
      }
      const seconds = (performance.now() - t0) / 1000;
      // The copy of each finished job into PostgreSQL history is part of its cost: the Redis figures wait for it
      // (the worker's maintenance tick drains the outbox), the clock does not.
      while ((await redis.llen(redisKeys(queue.prefix).history)) > 0) {
        if (Date.now() > deadline) throw new Error(`c=${concurrency}: history not copied within 120 s`);
        await sleep(50);
      }
      const c1 = await counters();
      const cost = perJob(c0, c1, N);
      runs.throughput.push(N / seconds);
      runs.cpu.push(cost.cpu);
      runs.cmds.push(cost.cmds);
      await stopProcess(worker.worker, { graceMs: 10_000 });
      const left = (await redis.llen(redisKeys(queue.prefix).pending)) + (await redis.llen(redisKeys(queue.prefix).processing));
      if (left !== 0) throw new Error(`c=${concurrency}: ${left} jobs left waiting or active`);
      await wipe(queue);
    }
    process_[`c${concurrency}`] = { concurrency, throughput: summarize(runs.throughput, 0), redis_cpu_us_per_job: summarize(runs.cpu, 1), redis_cmds_per_job: summarize(runs.cmds, 1) };
    log(`process c=${concurrency}: ${JSON.stringify(process_[`c${concurrency}`])}`);
  }
  results.process = process_;

  // (c) add->start latency at a steady rate, worker concurrency 8
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let rep = 0; rep < common.reps; rep++) {
    const queue = freshQueue();
    const worker = startWorker(queue, 8, true);
    await worker.ready;
    const sent = new Map<string, number>();
    const total = LATENCY_RATE * LATENCY_SECONDS;
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / LATENCY_RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const at = performance.timeOrigin + performance.now();
      const job = await queue.enqueue(PAYLOAD);
      sent.set(job.id, at);
    }
    while (worker.starts.size < total) await sleep(10);
    // The first second warms connections and JIT, as in the peer harness.
    const latencies = [...sent].slice(LATENCY_RATE).map(([id, at]) => worker.starts.get(id)! - at).sort((a, b) => a - b);
    p50s.push(percentile(latencies, 0.5));
    p99s.push(percentile(latencies, 0.99));
    await stopProcess(worker.worker, { graceMs: 10_000 });
    await wipe(queue);
  }
  results.latency = { rate_per_s: LATENCY_RATE, seconds: LATENCY_SECONDS, worker_concurrency: 8, add_to_start_p50_ms: summarize(p50s, 3), add_to_start_p99_ms: summarize(p99s, 3) };
  log(`latency: ${JSON.stringify(results.latency)}`);

  // (d) memory of 10k waiting jobs
  const memQueue = freshQueue();
  const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  await enqueueBulk(memQueue, 10_000);
  const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  results.memory = { jobs: 10_000, bytes_per_10k_waiting: after - before, bytes_per_waiting_job: round((after - before) / 10_000, 0) };
  await wipe(memQueue);

  const ours = { impl: 'vibe-tracker', entry: 'tsx (worker process), in-process producer', params: { n: N, reps: common.reps, concurrencies: CONCURRENCIES }, ...results };
  const path = writeResult(common.outDir, 'queue', { started_at: startedAt.toISOString(), machine: finishMachine(machine), ours });
  const enq = results.enqueue as Record<string, { throughput: { median: number }; redis_cmds_per_job: { median: number } }>;
  const proc = results.process as Record<string, { throughput: { median: number }; redis_cpu_us_per_job: { median: number }; redis_cmds_per_job: { median: number } }>;
  printTable(
    ['figure', 'median'],
    [
      ['enqueue jobs/s, single (50 in flight)', round(enq.single_inflight50!.throughput.median, 0)],
      ['enqueue jobs/s, bulk 100', round(enq.bulk100!.throughput.median, 0)],
      ...CONCURRENCIES.map((c) => [`processing jobs/s, c=${c}`, round(proc[`c${c}`]!.throughput.median, 0)] as [string, number]),
      ['Redis commands per job, enqueue (single)', enq.single_inflight50!.redis_cmds_per_job.median],
      ['Redis commands per job, processing c=8', proc.c8!.redis_cmds_per_job.median],
      ['Redis CPU us per processed job, c=8', proc.c8!.redis_cpu_us_per_job.median],
      ['add->start p50 / p99 ms', `${(results.latency as { add_to_start_p50_ms: { median: number } }).add_to_start_p50_ms.median} / ${(results.latency as { add_to_start_p99_ms: { median: number } }).add_to_start_p99_ms.median}`],
      ['Redis bytes per waiting job', (results.memory as { bytes_per_waiting_job: number }).bytes_per_waiting_job],
    ],
  );
  console.log(`results: ${path}`);
} finally {
  redis.disconnect();
  await redisServer.dispose();
  const admin = postgres(new URL('/postgres', databaseUrl).toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${databaseUrl.pathname.slice(1)}" with (force)`).catch(() => {});
  await admin.end({ timeout: 1 });
}
