// npm run chaos [-- --quick] [--jobs N] [--workers K] [--kills K] [--seconds S]
// A bounded soak on loopback: the real API and worker processes, their own Redis (append-only) and their own
// PostgreSQL cluster, N scrape jobs against a fake upstream, while a driver SIGKILLs random workers, restarts
// Redis once and stops PostgreSQL once. At the end it checks that every accepted job reached a final state, that
// no post is stored twice and that every post the upstream served for a completed job is stored, and prints:
//   jobs=2000 kills=25 redis_restarts=1 pg_outages=1 lost=0 duplicated_posts=0 stuck=0 max_recovery_s=..
import { writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { freePort, startPrivateRedis } from './harness/private-redis.ts';
import { type Spawned, spawnEntry, stopProcess } from './harness/processes.ts';
import { startPrivatePostgres } from './chaos/private-postgres.ts';
import { startChaosUpstream } from './chaos/upstream.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    jobs: { type: 'string' },
    workers: { type: 'string' },
    kills: { type: 'string' },
    seconds: { type: 'string' },
  },
});
const quick = values.quick!;
const JOBS = Number(values.jobs ?? (quick ? 300 : 2000));
const WORKERS = Number(values.workers ?? (quick ? 3 : 4));
const KILLS = Number(values.kills ?? (quick ? 6 : 25));
// Submissions are spread over this long, so the faults land while work is going on.
const SUBMIT_SECONDS = Number(values.seconds ?? (quick ? 45 : 150));
const LEASE_MS = quick ? 3_000 : 20_000;
const PG_OUTAGE_MS = quick ? 5_000 : 20_000;
const FINISH_TIMEOUT_MS = quick ? 120_000 : 420_000;
const PAGES = 2;
const FINAL = new Set(['completed', 'failed', 'cancelled', 'dead']);

const log = (message: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const redisServer = await startPrivateRedis(['--maxmemory-policy', 'noeviction']);
const pg = await startPrivatePostgres(await freePort());
const upstream = await startChaosUpstream(PAGES);
const apiPort = await freePort();
const env: Record<string, string> = {
  REDIS_URL: redisServer.url,
  DATABASE_URL: pg.url,
  REDIS_PREFIX: 'vibe',
  SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl,
  // Politeness is not what is under test: the fake upstream can take it.
  RATE_LIMIT_TRUSTPILOT: '100000/1/64',
  // Nor is the API's per-client limit: every submission comes from this one process.
  API_CLIENT_RATE_LIMIT: '0',
  JOB_LEASE_MS: String(LEASE_MS),
  JOB_RETRY_BASE_MS: '500',
  WORKER_CONCURRENCY: '4',
  WORKER_SHUTDOWN_TIMEOUT_MS: '2000',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  PORT: String(apiPort),
};
const processes: Spawned[] = [];
const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
redis.on('error', () => {});
const sql = postgres(pg.url, { max: 2, onnotice: () => {}, connect_timeout: 5 });

let exitCode = 1;
try {
  const migrate = spawnEntry('scripts/migrate.ts', env);
  if ((await migrate.exited).code !== 0) throw new Error(`migrate failed: ${migrate.stderr.join('\n')}`);
  const api = spawnEntry('api.ts', { ...env, LOG_LEVEL: 'info' });
  processes.push(api);
  await api.waitForEvent('api_listening', { timeoutMs: 30_000 });
  const workers: Spawned[] = [];
  const killed = new Set<Spawned>();
  let finished = false;
  // Like a restart policy: a worker that exits by itself (one started while PostgreSQL is down refuses to run)
  // is started again a moment later.
  const startWorker = (): Spawned => {
    const worker = spawnEntry('worker.ts', env);
    processes.push(worker);
    workers.push(worker);
    void worker.exited.then(() => {
      if (killed.has(worker) || finished) return;
      log(`worker ${worker.child.pid} exited by itself (${worker.stderr.at(-1) ?? 'no message'}); starting another`);
      setTimeout(() => !finished && startWorker(), 2_000);
    });
    return worker;
  };
  for (let i = 0; i < WORKERS; i++) startWorker();
  log(`${JOBS} jobs over ${SUBMIT_SECONDS} s, ${WORKERS} workers, lease ${LEASE_MS} ms`);

  const accepted = new Map<number, string>();
  const startedAt = Date.now();
  const submitting = submitAll(accepted);
  const recoveries: number[] = [];
  let kills = 0;
  let redisRestarts = 0;
  let pgOutages = 0;

  const faults = (async () => {
    const killEvery = (SUBMIT_SECONDS * 1000) / (KILLS + 1);
    for (let i = 1; i <= KILLS; i++) {
      await sleep(killEvery);
      const progress = i / (KILLS + 1);
      if (redisRestarts === 0 && progress >= 0.3) {
        log('restarting Redis (SIGTERM: it writes its append-only file, then starts again)');
        await redisServer.stop('SIGTERM');
        await sleep(1_000);
        await redisServer.start();
        redisRestarts += 1;
      }
      if (pgOutages === 0 && progress >= 0.6) {
        log(`stopping PostgreSQL for ${PG_OUTAGE_MS / 1000} s`);
        await pg.stop();
        pgOutages += 1;
        setTimeout(() => void pg.start().then(() => log('PostgreSQL is back')), PG_OUTAGE_MS);
      }
      if (await killOne(workers, startWorker, recoveries, killed)) kills += 1;
    }
  })();

  await Promise.all([submitting, faults]);
  log(`accepted ${accepted.size} of ${JOBS}; waiting for every job to finish`);
  const states = await waitForFinal([...accepted.values()]);
  finished = true;

  const byStatus: Record<string, number> = {};
  for (const state of states.values()) byStatus[state] = (byStatus[state] ?? 0) + 1;
  const stuck = [...states.values()].filter((state) => state !== 'missing' && !FINAL.has(state)).length;
  const lost = [...states.values()].filter((state) => state === 'missing').length + (JOBS - accepted.size);
  const [dup] = await sql<{ duplicated: number; posts: number }[]>`
    select (count(*) - count(distinct (source, external_id)))::int as duplicated, count(*)::int as posts from posts
  `;
  const stored = new Set((await sql<{ external_id: string }[]>`select external_id from posts`).map((row) => row.external_id));
  const completedDomains = await completedQueries([...accepted.values()], states);
  let missingPosts = 0;
  for (const domain of completedDomains) for (const id of upstream.served.get(domain) ?? []) if (!stored.has(id)) missingPosts += 1;
  const maxRecovery = recoveries.length ? Math.max(...recoveries) / 1000 : 0;

  const line =
    `jobs=${JOBS} kills=${kills} redis_restarts=${redisRestarts} pg_outages=${pgOutages} lost=${lost} ` +
    `duplicated_posts=${dup?.duplicated ?? -1} stuck=${stuck} max_recovery_s=${maxRecovery.toFixed(1)}`;
  const details = {
    date: new Date().toISOString(),
    quick,
    jobs: JOBS,
    workers: WORKERS,
    lease_ms: LEASE_MS,
    pg_outage_ms: PG_OUTAGE_MS,
    seconds: Math.round((Date.now() - startedAt) / 1000),
    statuses: byStatus,
    posts: dup?.posts,
    missing_posts: missingPosts,
    recoveries_s: recoveries.map((ms) => Math.round(ms / 100) / 10),
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(`bench-results/chaos-${details.date.replace(/[:.]/g, '-')}.json`, JSON.stringify({ line, ...details }, null, 2));
  log(JSON.stringify(details));
  console.log(line);
  exitCode = lost === 0 && stuck === 0 && dup?.duplicated === 0 && missingPosts === 0 ? 0 : 1;
} catch (error) {
  log(`chaos run failed: ${(error as Error).stack ?? error}`);
} finally {
  await Promise.all(processes.map((spawned) => stopProcess(spawned, 'SIGKILL')));
  redis.disconnect();
  await sql.end({ timeout: 1 }).catch(() => {});
  await pg.dispose();
  await redisServer.dispose();
  await upstream.close();
}
process.exit(exitCode);

/** POSTs every job at an even pace; a refused or failed request is sent again with the same Idempotency-Key. */
async function submitAll(accepted: Map<number, string>): Promise<void> {
  const gapMs = (SUBMIT_SECONDS * 1000) / JOBS;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < JOBS; i++) {
    inFlight.push(submitOne(i, accepted));
    await sleep(gapMs);
  }
  await Promise.all(inFlight);
}

async function submitOne(i: number, accepted: Map<number, string>): Promise<void> {
  const body = JSON.stringify({ source: 'trustpilot', query: `d${i}.example`, limit: 20 * PAGES, full_rescan: true });
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${apiPort}/jobs/scrape`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `chaos-${i}` },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status === 202) {
        accepted.set(i, ((await response.json()) as { job_id: string }).job_id);
        return;
      }
      await response.body?.cancel();
    } catch {
      // Redis restarting: the API answers 503 or the request times out; the same key makes the retry safe.
    }
    await sleep(500);
  }
}

/** SIGKILLs the worker holding the most jobs, starts a replacement, and times how long its jobs take to run again. */
async function killOne(workers: Spawned[], startWorker: () => Spawned, recoveries: number[], killed: Set<Spawned>): Promise<boolean> {
  const alive = workers.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null);
  const held = new Map<string, string[]>();
  for (const id of await redis.lrange('vibe:jobs:processing', 0, -1).catch(() => [] as string[])) {
    const owner = await redis.hget(`vibe:job:${id}`, 'worker').catch(() => null);
    if (owner) held.set(owner, [...(held.get(owner) ?? []), id]);
  }
  const pidOf = (worker: Spawned) => worker.child.pid;
  const victim =
    alive.find((worker) => [...held.keys()].some((owner) => owner.includes(`-${pidOf(worker)}-`))) ?? alive[Math.floor(Math.random() * alive.length)];
  if (!victim) return false;
  const owner = [...held.keys()].find((key) => key.includes(`-${pidOf(victim)}-`));
  const jobs = owner ? held.get(owner)! : [];
  const killedAt = Date.now();
  killed.add(victim);
  victim.child.kill('SIGKILL');
  await victim.exited;
  startWorker();
  log(`killed worker ${pidOf(victim)} holding ${jobs.length} jobs`);
  // Each of its jobs is recovered when it runs again under another worker, or has finished.
  void Promise.all(
    jobs.map(async (id) => {
      for (let i = 0; i < 1200; i++) {
        const [status, worker] = await redis.hmget(`vibe:job:${id}`, 'status', 'worker').catch(() => [null, null]);
        if ((status === 'running' && worker !== owner) || (status && FINAL.has(status))) {
          recoveries.push(Date.now() - killedAt);
          return;
        }
        await sleep(100);
      }
    }),
  );
  return true;
}

async function waitForFinal(ids: string[]): Promise<Map<string, string>> {
  const deadline = Date.now() + FINISH_TIMEOUT_MS;
  const states = new Map<string, string>();
  for (;;) {
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hget(`vibe:job:${id}`, 'status');
    const replies = (await pipeline.exec()) ?? [];
    for (const [index, [, status]] of replies.entries()) states.set(ids[index]!, (status as string | null) ?? 'missing');
    const open = [...states.values()].filter((state) => !FINAL.has(state));
    if (open.length === 0 || Date.now() > deadline) break;
    await sleep(1_000);
  }
  // A record missing from Redis may have expired after reaching PostgreSQL's history: that is not a loss.
  const missing = ids.filter((id) => states.get(id) === 'missing');
  if (missing.length > 0) {
    for (const row of await sql<{ id: string; status: string }[]>`select id::text, status from jobs where id = any(${missing}::uuid[])`) {
      states.set(row.id, row.status);
    }
  }
  return states;
}

async function completedQueries(ids: string[], states: Map<string, string>): Promise<string[]> {
  const completed = ids.filter((id) => states.get(id) === 'completed');
  const queries: string[] = [];
  for (const id of completed) {
    const query = (await redis.hget(`vibe:job:${id}`, 'query')) ?? (await sql<{ query: string }[]>`select query from jobs where id = ${id}`)[0]?.query;
    if (query) queries.push(query);
  }
  return queries;
}
