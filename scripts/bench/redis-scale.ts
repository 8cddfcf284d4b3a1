// npm run bench:redis-scale — what queue reads and writes cost inside Redis once it holds a lot, in a Redis of
// the bench's own prefix on the local server:
//   - GET /jobs?status= over N finished jobs (default 100,000), the few failed ones the oldest: read from the
//     status's own index (the queue's list()), beside the previous release's scan of the recent-jobs list;
//   - enqueues of each priority behind N waiting jobs: Redis time per call (INFO commandstats, diffed: run it
//     alone, other clients' calls would count) and the slowest calls in the slowlog.
//   tsx scripts/bench/redis-scale.ts [--quick] [--jobs N] [--out-dir bench-results]
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describeMachine, finishMachine, intValue, log, parseParams, printTable, round, summarize, writeResult } from './common.ts';
import type { Job } from '../../lib/model/job.ts';
import { JobQueue } from '../../lib/queue/queue.ts';
import { fromHash } from '../../lib/queue/record.ts';
import type { QueueSettings } from '../../lib/queue/settings.ts';

const { common: P, values } = parseParams({ jobs: { type: 'string' } }, { reps: 5 });
// N is even, so the mixed scenario splits it in two.
const N = Math.floor(intValue(values, 'jobs', P.quick ? 5_000 : 100_000, 100, 1_000_000) / 2) * 2;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://localhost:6379/0';
const prefix = `vibe_bench_scale_${randomBytes(3).toString('hex')}`;
const settings: QueueSettings = { prefix, leaseMs: 60_000, retentionMs: 7 * 86_400_000, maxAttempts: 3, retryBaseMs: 1_000 };
const redis = new Redis(REDIS_URL);
const queue = new JobQueue(redis, settings);
const leases = queue.leases();
const machine = await describeMachine();

async function cleanup(): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** The previous release's filter: every hash of the recent-jobs list, newest first, until `limit` match. */
async function scanRecent(status: string, limit: number): Promise<Job[]> {
  const jobs: Job[] = [];
  const page = Math.max(limit, 50);
  for (let start = 0; jobs.length < limit; start += page) {
    const ids = await redis.lrange(`${prefix}:jobs:recent`, start, start + page - 1);
    if (ids.length === 0) break;
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(`${prefix}:job:${id}`);
    for (const [index, [, hash]] of ((await pipeline.exec()) ?? []).entries()) {
      const job = fromHash(ids[index]!, hash as Record<string, string>);
      if (job && job.status === status) jobs.push(job);
      if (jobs.length === limit) break;
    }
    if (ids.length < page) break;
  }
  return jobs;
}

async function timed<T>(call: () => Promise<T>, reps: number): Promise<{ ms: number[]; last: T }> {
  const ms: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    last = await call();
    ms.push(performance.now() - t0);
  }
  return { ms, last: last! };
}

async function fillFinished(): Promise<void> {
  // The failed ones first, so they are the oldest: the scan has to read every newer record to find them.
  const outcomes: ('failed' | 'completed')[] = [...Array(10).fill('failed'), ...Array(N - 10).fill('completed')];
  for (let start = 0; start < outcomes.length; start += 500) {
    const part = outcomes.slice(start, start + 500);
    await queue.enqueueMany(part.map((_, i) => ({ kind: 'scrape', source: 'hackernews', query: `q${start + i}`, limit: 1, priority: 0 })));
    for (let taken = 0; taken < part.length; ) {
      const claims = await leases.claimMany('bench', Math.min(64, part.length - taken));
      await leases.finishMany(claims.map((claim, i) => {
        const outcome = part[taken + i]!;
        return { id: claim.job.id, token: claim.token, outcome, details: outcome === 'completed' ? { result: {} } : { error: { code: 'x', message: 'x' } } };
      }));
      taken += claims.length;
    }
  }
}

/** Redis's own totals per command, to diff around a measured stretch (other clients' calls count too: run alone). */
async function commandTotals(): Promise<Map<string, { calls: number; usec: number }>> {
  const totals = new Map<string, { calls: number; usec: number }>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (match) totals.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return totals;
}

/** Waiting jobs: `low` at priority 0 and `high` at priority 5 (the enqueue scripts' own path, in bulk). */
async function fillWaiting(low: number, high: number): Promise<void> {
  for (const [count, priority] of [[low, 0], [high, 5]] as const) {
    for (let start = 0; start < count; start += 500) {
      const n = Math.min(500, count - start);
      await queue.enqueueMany(Array.from({ length: n }, (_, i) => ({ kind: 'scrape' as const, source: 'hackernews', query: `w${priority}-${start + i}`, limit: 1, priority })));
    }
  }
}

/** Redis time per enqueue of one priority behind what waits, and the slowest calls the slowlog saw. */
async function enqueueCost(priority: number, count: number): Promise<{ priority: number; usec_per_call: number; max_slowlog_usec: number; over_5ms: number }> {
  const slowlogBefore = ((await redis.slowlog('GET', 1)) as [number][])[0]?.[0] ?? -1;
  const before = await commandTotals();
  for (let i = 0; i < count; i++) await queue.enqueue({ kind: 'scrape', source: 'hackernews', query: `urgent-${priority}-${i}`, limit: 1, priority });
  const after = await commandTotals();
  const key = [...after.keys()].find((name) => name === 'evalsha') ?? 'evalsha';
  const calls = (after.get(key)?.calls ?? 0) - (before.get(key)?.calls ?? 0);
  const usec = (after.get(key)?.usec ?? 0) - (before.get(key)?.usec ?? 0);
  // Entries past the ones there before, of our scripts (their arguments name our prefix).
  const entries = ((await redis.slowlog('GET', 128)) as [number, number, number, string[]][]).filter(([id, , , args]) => id > slowlogBefore && args.some((arg) => String(arg).includes(prefix)));
  const durations = entries.map(([, , us]) => us);
  return { priority, usec_per_call: round(usec / Math.max(1, calls), 1), max_slowlog_usec: durations.length ? Math.max(...durations) : 0, over_5ms: durations.filter((us) => us > 5_000).length };
}

const results: Record<string, unknown> = { n_jobs: N };
try {
  log(`filling ${N} finished jobs under ${prefix} ...`);
  const t0 = Date.now();
  await fillFinished();
  log(`filled in ${round((Date.now() - t0) / 1000, 1)} s`);
  const reps = P.quick ? 3 : P.reps;
  const byIndex = await timed(() => queue.list({ status: 'failed', limit: 20 }), reps);
  const byScan = await timed(() => scanRecent('failed', 20), Math.min(reps, 3));
  if (byIndex.last.length !== 10 || byScan.last.length !== 10) throw new Error(`expected 10 failed jobs, got ${byIndex.last.length} and ${byScan.last.length}`);
  const recent = await timed(() => queue.list({ limit: 20 }), reps);
  const list = { index_ms: summarize(byIndex.ms), scan_ms: summarize(byScan.ms), unfiltered_ms: summarize(recent.ms) };
  results.jobs_list = list;
  printTable(
    ['GET /jobs (20 of them)', `over ${N} finished jobs, ms (median)`],
    [
      ['status=failed, from its index', list.index_ms.median],
      ['status=failed, scanning the recent list (previous release)', list.scan_ms.median],
      ['no status', list.unfiltered_ms.median],
      ['scan ÷ index', round(list.scan_ms.median / list.index_ms.median, 1)],
    ],
  );

  await cleanup();
  const slowlogThreshold = ((await redis.config('GET', 'slowlog-log-slower-than')) as string[])[1]!;
  // Logs every call over 1 ms while measuring (put back afterwards), so the slowest one is seen.
  await redis.config('SET', 'slowlog-log-slower-than', '1000');
  try {
    const perPriority = P.quick ? 20 : 200;
    const scenarios: { name: string; low: number; high: number; priorities: number[] }[] = [
      { name: `${N} waiting at priority 0`, low: N, high: 0, priorities: [0, 5, 10] },
      { name: `${N / 2} at priority 0 and ${N / 2} at priority 5 (an insert in the middle)`, low: N / 2, high: N / 2, priorities: [3, 5, 10] },
    ];
    const enqueue: Record<string, unknown>[] = [];
    for (const scenario of scenarios) {
      await fillWaiting(scenario.low, scenario.high);
      for (const priority of scenario.priorities) enqueue.push({ scenario: scenario.name, ...(await enqueueCost(priority, perPriority)) });
      await cleanup();
    }
    results.enqueue = enqueue;
    printTable(
      ['enqueue behind waiting jobs', 'priority', 'Redis µs per call', 'slowest in slowlog, µs', 'calls over 5 ms'],
      enqueue.map((row) => [String(row.scenario), Number(row.priority), Number(row.usec_per_call), Number(row.max_slowlog_usec), Number(row.over_5ms)]),
    );
  } finally {
    await redis.config('SET', 'slowlog-log-slower-than', slowlogThreshold);
  }
} finally {
  await cleanup();
  redis.disconnect();
}
const path = writeResult(P.outDir, 'redis-scale', { machine: finishMachine(machine), ...results });
process.stdout.write(`results: ${path}\n`);
