// npm run bench:api — the real API (dist/api.js, WORKERS=1 and WORKERS=2) under a fixed offered load of
// POST /jobs/scrape and GET /jobs/{id} from a separate load-generator process, first idle, then while two real
// worker processes scrape flat out (jobs against the loopback fake upstream, rate limit raised). Reports requests/s
// and latency p50/p99 per endpoint and the ratio p99 busy / idle.
//   tsx scripts/bench/api.ts [--quick] [--reps 3] [--seconds 5] [--warmup 1] [--post-rate 200] [--get-rate 200]
//                            [--api-workers 1,2] [--scrape-workers 2] [--worker-nice 0,19] [--entry dist|tsx] [--no-build]
//                            [--cpu-prof DIR] [--out-dir D]
// The load generator is this file run with --loadgen: an open-loop generator (undici Pool) that sends on a fixed
// schedule whether or not earlier requests have returned, and measures each latency from the request's scheduled
// send time, so a stalled server is not hidden by a client that waited for it (no coordinated omission).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { type Service, type Summary, boxCpu, cell, cpuPressureTotalUs, entryArgs, intList, intValue, log, parseParams, percentile, printTable, procCpuMs, round, sampleRss, sleep, startProcess, stopProcess, summarize, treeCpuMs, treeRunqueueWaitMs, writeResult, resultEnvelope } from './common.ts';
import { summarizeCpuProfile } from './cpu-profile.ts';
import { loadConfig } from '../../lib/config.ts';
import { redisKeys } from '../../lib/redis/keys.ts';
import { WORKER_NODE_FLAGS } from '../../lib/worker/node-flags.ts';
import { RATE_LIMIT, startPageBench } from './page-bench.ts';
import { JOB_LIMIT } from './page-server.ts';
import { freePort } from '../harness/private-redis.ts';

interface LoadgenConfig {
  base: string;
  postRate: number;
  getRate: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

interface EndpointResult {
  offered_rate: number;
  sent: number;
  completed: number;
  achieved_rps: number;
  errors: number;
  statuses: Record<string, number>;
  latency_ms: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** From the moment the request was handed to the client library, for reference (includes its own queueing). */
  service_ms: { p50: number; p99: number };
  /** How late the generator itself sent (sent - scheduled): its own wait for a CPU, which the latency includes. */
  send_lag_ms: { p50: number; p99: number };
}

const SCRAPE_BODY = JSON.stringify({ source: 'trustpilot', query: 'bt.com', limit: JOB_LIMIT, full_rescan: true });

if (process.argv.includes('--loadgen')) await loadgen(JSON.parse(process.env.BENCH_LOADGEN ?? '{}') as LoadgenConfig);

async function loadgen(cfg: LoadgenConfig): Promise<never> {
  const pool = new Pool(cfg.base, { connections: cfg.connections, keepAliveTimeout: 30_000 });
  const ids: string[] = [];
  const post = async () => {
    const res = await pool.request({ path: '/jobs/scrape', method: 'POST', headers: { 'content-type': 'application/json' }, body: SCRAPE_BODY });
    const text = await res.body.text();
    if (res.statusCode === 202) {
      ids.push((JSON.parse(text) as { job_id: string }).job_id);
      if (ids.length > 10_000) ids.splice(0, 5_000);
    }
    return res.statusCode;
  };
  const get = async () => {
    const res = await pool.request({ path: `/jobs/${ids[Math.floor(Math.random() * ids.length)]}`, method: 'GET' });
    await res.body.dump();
    return res.statusCode;
  };
  for (let i = 0; i < 20; i++) await post(); // ids for the first GETs, and open connections

  type Sample = { scheduled: number; sent: number; done: number; status: number | 'error' };
  const samples: Record<'post' | 'get', Sample[]> = { post: [], get: [] };
  const inflight = new Set<Promise<void>>();
  const fire = (kind: 'post' | 'get', scheduled: number) => {
    const sent = performance.now();
    const p = (kind === 'post' ? post() : get())
      .then((status) => void samples[kind].push({ scheduled, sent, done: performance.now(), status }))
      .catch(() => void samples[kind].push({ scheduled, sent, done: performance.now(), status: 'error' }))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 20;
  const measureFrom = t0 + cfg.warmupSeconds * 1000;
  const end = measureFrom + cfg.seconds * 1000;
  // The driver samples the API's and the workers' CPU between these two marks: the measured window only.
  setTimeout(() => process.stdout.write('MARK start\n'), measureFrom - performance.now());
  const due = (n: number, rate: number) => t0 + (n * 1000) / rate;
  let nPost = 0;
  let nGet = 0;
  for (;;) {
    const now = performance.now();
    while (cfg.postRate > 0 && due(nPost, cfg.postRate) <= now && due(nPost, cfg.postRate) < end) fire('post', due(nPost++, cfg.postRate));
    while (cfg.getRate > 0 && due(nGet, cfg.getRate) <= now && due(nGet, cfg.getRate) < end) fire('get', due(nGet++, cfg.getRate));
    const next = Math.min(cfg.postRate > 0 ? due(nPost, cfg.postRate) : Infinity, cfg.getRate > 0 ? due(nGet, cfg.getRate) : Infinity);
    if (next >= end) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
  await sleep(end - performance.now());
  process.stdout.write('MARK end\n');
  // Requests still out after 10 s count as errors: the run is bounded whatever the server does.
  await Promise.race([Promise.all(inflight), sleep(10_000)]);
  const cpu = process.cpuUsage(cpu0);

  const summarise = (kind: 'post' | 'get', rate: number): EndpointResult => {
    const measured = samples[kind].filter((s) => s.scheduled >= measureFrom);
    const sentInWindow = Math.floor(cfg.seconds * rate);
    const ok = measured.filter((s) => s.status === (kind === 'post' ? 202 : 200));
    const lat = ok.map((s) => s.done - s.scheduled).sort((a, b) => a - b);
    const svc = ok.map((s) => s.done - s.sent).sort((a, b) => a - b);
    const lag = measured.map((s) => s.sent - s.scheduled).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    for (const s of measured) statuses[String(s.status)] = (statuses[String(s.status)] ?? 0) + 1;
    const lastDone = Math.max(...ok.map((s) => s.done), measureFrom + 1);
    return {
      offered_rate: rate,
      sent: sentInWindow,
      completed: ok.length,
      achieved_rps: round((ok.length / (Math.max(lastDone, end) - measureFrom)) * 1000, 1),
      errors: sentInWindow - ok.length,
      statuses,
      latency_ms: {
        p50: round(percentile(lat, 0.5), 3),
        p90: round(percentile(lat, 0.9), 3),
        p99: round(percentile(lat, 0.99), 3),
        max: round(lat.at(-1) ?? NaN, 3),
        mean: round(lat.reduce((a, b) => a + b, 0) / (lat.length || 1), 3),
      },
      service_ms: { p50: round(percentile(svc, 0.5), 3), p99: round(percentile(svc, 0.99), 3) },
      send_lag_ms: { p50: round(percentile(lag, 0.5), 3), p99: round(percentile(lag, 0.99), 3) },
    };
  };
  process.stdout.write(
    `RESULT ${JSON.stringify({ post: summarise('post', cfg.postRate), get: summarise('get', cfg.getRate), loadgen_cpu_ms: round((cpu.user + cpu.system) / 1000, 1) })}\n`,
  );
  await pool.close();
  process.exit(0);
}

// The driver: everything below runs only without --loadgen.

const { common, values } = parseParams(
  {
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    'post-rate': { type: 'string' },
    'get-rate': { type: 'string' },
    'api-workers': { type: 'string' },
    'scrape-workers': { type: 'string' },
    connections: { type: 'string' },
    'worker-nice': { type: 'string' },
  },
  { reps: 3 },
);
/** The worker's own default (WORKER_NICE unset), so the default busy phase measures production. */
const PRODUCTION_NICE = loadConfig({}).workerNice;
const P = {
  ...common,
  seconds: intValue(values, 'seconds', common.quick ? 1 : 5, 1, 600),
  warmupSeconds: intValue(values, 'warmup', 1, 0, 60),
  postRate: intValue(values, 'post-rate', common.quick ? 50 : 200, 0, 100_000),
  getRate: intValue(values, 'get-rate', common.quick ? 50 : 200, 0, 100_000),
  apiWorkers: intList(values, 'api-workers', common.quick ? [1] : [1, 2], 1, 64),
  scrapeWorkers: intValue(values, 'scrape-workers', 2, 1, 16),
  connections: intValue(values, 'connections', 32, 1, 1024),
  /** One busy phase per value, its workers started with WORKER_NICE=N (the production default when not given). */
  workerNice: intList(values, 'worker-nice', [PRODUCTION_NICE], 0, 19),
};
const { started, machine, entry, services, upstream, queue, closeAll, bound } = await startPageBench('api', P, P.quick ? 150 : 600);
// The load generator is one client sending hundreds of POSTs a second: the per-client limit would measure itself.
const baseEnv = { ...services.env, LOG_LEVEL: 'info', SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl, RATE_LIMIT_TRUSTPILOT: RATE_LIMIT, API_CLIENT_RATE_LIMIT: '0' };

/** Runs one load-generator process; `mark` is called when its measured window starts and ends. */
function runLoadgen(base: string, mark: (what: 'start' | 'end') => void): Promise<{ post: EndpointResult; get: EndpointResult; loadgen_cpu_ms: number }> {
  const cfg: LoadgenConfig = { base, postRate: P.postRate, getRate: P.getRate, seconds: P.seconds, warmupSeconds: P.warmupSeconds, connections: P.connections };
  const gen = startProcess('loadgen', ['--import', 'tsx', new URL(import.meta.url).pathname, '--loadgen'], { BENCH_LOADGEN: JSON.stringify(cfg) }, { keepLines: 60 });
  let out = '';
  let partial = '';
  gen.child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line === 'MARK start' || line === 'MARK end') mark(line === 'MARK start' ? 'start' : 'end');
  });
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    gen.exited.then(({ code }) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) throw new Error(`loadgen exited ${code} without a result:\n${gen.tail()}`);
      return JSON.parse(line.slice(7));
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void stopProcess(gen, { graceMs: 2_000 }).then(() => reject(new Error('loadgen did not finish in time')));
      }, (P.seconds + P.warmupSeconds + 40) * 1000);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Enough waiting jobs that the workers never run dry during a busy window. */
async function topUpPending(pagesPerSecondGuess: number): Promise<void> {
  const needed = Math.ceil(((P.seconds + P.warmupSeconds + 5) * pagesPerSecondGuess) / (JOB_LIMIT / 20)) + 50;
  const pending = await services.redis.llen(redisKeys(queue.prefix).pending);
  if (pending >= needed) return;
  const spec = { kind: 'scrape' as const, source: 'trustpilot', query: 'bt.com', limit: JOB_LIMIT, priority: 0, fullRescan: true };
  for (let left = needed - pending; left > 0; left -= 500) await queue.enqueueMany(Array.from({ length: Math.min(500, left) }, () => spec));
}

interface Run {
  api_workers: number;
  /** idle, busy (workers at the production WORKER_NICE), or busy-nice<N>. */
  state: string;
  worker_nice: number | null;
  rep: number;
  post: EndpointResult;
  get: EndpointResult;
  window_s: number;
  api_cpu_ms: number;
  api_cpu_util: number;
  /** Time the API's threads were runnable but waiting for a CPU, per request completed. */
  api_runqueue_wait_ms_per_request: number;
  box_cpu_busy_pct: number;
  box_cpu_pressure_pct: number;
  loadgen_cpu_ms: number;
  scrape: { workers: number; pages_per_s: number; workers_cpu_util: number; upstream_cpu_util: number; worker_peak_rss_mb: number } | null;
}

const busyState = (nice: number) => (nice === PRODUCTION_NICE ? 'busy' : `busy-nice${nice}`);
const STATES = ['idle', ...P.workerNice.map(busyState)];

async function measure(api: Service, port: number, w: number, state: string, rep: number, workers: Service[], nice: number | null): Promise<Run> {
  const snapshot = () => ({
    at: performance.now(),
    box: boxCpu(),
    psi: cpuPressureTotalUs(),
    apiCpu: treeCpuMs(api.pid),
    wait: treeRunqueueWaitMs(api.pid),
    workerCpu: workers.reduce((sum, s) => sum + procCpuMs(s.pid), 0),
    pages: upstream.stats().requests,
    driverCpu: upstream.stats().cpu_ms,
  });
  let first: ReturnType<typeof snapshot> | null = null;
  let last: ReturnType<typeof snapshot> | null = null;
  let rss: ReturnType<typeof sampleRss> | null = null;
  let peaks: Record<number, number> = {};
  const result = await runLoadgen(`http://127.0.0.1:${port}`, (what) => {
    if (what === 'start') {
      first = snapshot();
      rss = sampleRss(workers.map((s) => s.pid), 50);
    } else {
      last = snapshot();
      peaks = rss?.stop() ?? {};
    }
  });
  if (!first || !last) throw new Error('the load generator did not mark its measured window');
  const [a, b] = [first as ReturnType<typeof snapshot>, last as ReturnType<typeof snapshot>];
  const wallMs = b.at - a.at;
  const requests = result.post.completed + result.get.completed;
  return {
    api_workers: w,
    state,
    worker_nice: nice,
    rep,
    post: result.post,
    get: result.get,
    window_s: round(wallMs / 1000, 2),
    api_cpu_ms: round(b.apiCpu - a.apiCpu, 0),
    api_cpu_util: round((b.apiCpu - a.apiCpu) / wallMs, 3),
    api_runqueue_wait_ms_per_request: round((b.wait - a.wait) / Math.max(1, requests), 4),
    box_cpu_busy_pct: round(((b.box.busy - a.box.busy) / (b.box.total - a.box.total)) * 100, 1),
    box_cpu_pressure_pct: round(((b.psi - a.psi) / 1000 / wallMs) * 100, 1),
    loadgen_cpu_ms: result.loadgen_cpu_ms,
    scrape: workers.length
      ? {
          workers: workers.length,
          pages_per_s: round(((b.pages - a.pages) / wallMs) * 1000, 1),
          workers_cpu_util: round((b.workerCpu - a.workerCpu) / wallMs, 3),
          // The fake upstream runs in this driver process: what it (and the driver's polling) took of the box.
          upstream_cpu_util: round((b.driverCpu - a.driverCpu) / wallMs, 3),
          worker_peak_rss_mb: round(Math.max(...Object.values(peaks)), 1),
        }
      : null,
  };
}

const runs: Run[] = [];
const errors: string[] = [];
try {
  log(`api: POST ${P.postRate}/s + GET ${P.getRate}/s for ${P.seconds} s (+${P.warmupSeconds} s warm-up), WORKERS=${P.apiWorkers}, ${P.reps} reps, busy = ${P.scrapeWorkers} workers; entry ${entry}`);
  for (const w of P.apiWorkers) {
    const port = await freePort();
    const flags = P.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${P.cpuProf}`] : [];
    const api = startProcess(`api WORKERS=${w}`, entryArgs(P.entry, 'api', flags), { ...baseEnv, WORKERS: String(w), PORT: String(port), HOST: '127.0.0.1' }, { keepLines: 60 });
    try {
      await api.waitForEvent('api_listening', { count: w });
      // Reps interleave idle and busy, so drift on the box falls on both alike.
      for (let rep = 1; rep <= P.reps; rep++) {
        const idle = await measure(api, port, w, 'idle', rep, [], null);
        runs.push(idle);
        for (const nice of P.workerNice) {
          await topUpPending(400);
          const workers = Array.from({ length: P.scrapeWorkers }, (_, i) =>
            startProcess(`worker ${i + 1}`, entryArgs(P.entry, 'worker', WORKER_NODE_FLAGS), { ...baseEnv, WORKER_SHUTDOWN_TIMEOUT_MS: '2000', WORKER_NICE: String(nice) }, { keepLines: 60 }),
          );
          let busy: Run;
          try {
            await Promise.all(workers.map((s) => s.waitForEvent('worker_started')));
            await Promise.all(workers.map((s) => s.waitForEvent('job_completed', { count: 2 })));
            busy = await measure(api, port, w, busyState(nice), rep, workers, nice);
          } finally {
            await Promise.all(workers.map((s) => stopProcess(s)));
          }
          runs.push(busy);
          log(
            `  WORKERS=${w} rep ${rep} ${busy.state}: p99 POST ${idle.post.latency_ms.p99} -> ${busy.post.latency_ms.p99} ms, GET ${idle.get.latency_ms.p99} -> ${busy.get.latency_ms.p99} ms; ` +
              `${busy.scrape?.pages_per_s} pages/s, workers ${busy.scrape?.workers_cpu_util} CPUs, box ${busy.box_cpu_busy_pct}% busy`,
          );
        }
      }
    } finally {
      const exit = await stopProcess(api);
      if (exit.code !== 0) log(`api WORKERS=${w} exited with ${exit.code ?? exit.signal}:\n${api.tail()}`);
    }
  }
} finally {
  await closeAll();
}

for (const r of runs) {
  for (const kind of ['post', 'get'] as const) {
    if (r[kind].errors > 0) errors.push(`WORKERS=${r.api_workers} ${r.state} rep ${r.rep}: ${kind} ${r[kind].errors} of ${r[kind].sent} failed or unanswered (${JSON.stringify(r[kind].statuses)})`);
  }
}

const summary = P.apiWorkers.flatMap((w) =>
  STATES.flatMap((state) =>
    (['post', 'get'] as const).map((endpoint) => {
      const rows = runs.filter((r) => r.api_workers === w && r.state === state);
      const pick = (f: (r: Run) => number, d = 3) => summarize(rows.map(f), d);
      return {
        api_workers: w,
        state,
        endpoint: endpoint === 'post' ? 'POST /jobs/scrape' : 'GET /jobs/{id}',
        n: rows.length,
        offered_rate: endpoint === 'post' ? P.postRate : P.getRate,
        achieved_rps: pick((r) => r[endpoint].achieved_rps, 1),
        latency_p50_ms: pick((r) => r[endpoint].latency_ms.p50),
        latency_p99_ms: pick((r) => r[endpoint].latency_ms.p99),
        latency_max_ms: pick((r) => r[endpoint].latency_ms.max),
        loadgen_send_lag_p99_ms: pick((r) => r[endpoint].send_lag_ms.p99),
        api_cpu_util: pick((r) => r.api_cpu_util),
        api_runqueue_wait_ms_per_request: pick((r) => r.api_runqueue_wait_ms_per_request, 4),
        box_cpu_busy_pct: pick((r) => r.box_cpu_busy_pct, 1),
        box_cpu_pressure_pct: pick((r) => r.box_cpu_pressure_pct, 1),
        scrape_pages_per_s: state !== 'idle' ? pick((r) => r.scrape?.pages_per_s ?? NaN, 1) : null,
        workers_cpu_util: state !== 'idle' ? pick((r) => r.scrape?.workers_cpu_util ?? NaN) : null,
        worker_peak_rss_mb: state !== 'idle' ? pick((r) => r.scrape?.worker_peak_rss_mb ?? NaN, 1) : null,
      };
    }),
  ),
);
const ratios = P.apiWorkers.flatMap((w) =>
  STATES.filter((state) => state !== 'idle').flatMap((state) =>
    (['post', 'get'] as const).map((endpoint) => {
      const name = endpoint === 'post' ? 'POST /jobs/scrape' : 'GET /jobs/{id}';
      const at = (st: string) => summary.find((s) => s.api_workers === w && s.state === st && s.endpoint === name)!;
      // The same rep's idle window is its pair: both ran within a minute of each other.
      const paired = runs
        .filter((r) => r.api_workers === w && r.state === state)
        .map((b) => b[endpoint].latency_ms.p99 / runs.find((r) => r.api_workers === w && r.state === 'idle' && r.rep === b.rep)![endpoint].latency_ms.p99);
      return {
        api_workers: w,
        state,
        worker_nice: runs.find((r) => r.state === state)?.worker_nice ?? 0,
        endpoint: name,
        p99_busy_vs_idle: round(at(state).latency_p99_ms.median / at('idle').latency_p99_ms.median, 2),
        p50_busy_vs_idle: round(at(state).latency_p50_ms.median / at('idle').latency_p50_ms.median, 2),
        p99_busy_vs_idle_per_rep: summarize(paired, 2),
        target: '<= 2',
      };
    }),
  ),
);

// With --cpu-prof, each API process wrote a profile on exit (node:cluster children inherit the flag).
const cpuProfiles = P.cpuProf
  ? Object.fromEntries(readdirSync(P.cpuProf).filter((f) => f.endsWith('.cpuprofile')).map((f) => [f, summarizeCpuProfile(join(P.cpuProf!, f))]))
  : null;

const result = {
  ...resultEnvelope('api', started, machine),
  entry,
  params: { ...P, rate_limit_trustpilot: RATE_LIMIT, scrape_job: JSON.parse(SCRAPE_BODY) as unknown },
  notes: [
    'Open loop: each request has a scheduled send time (fixed rate per endpoint); latency = completion - scheduled time, so queueing in the client counts.',
    `Load generator: a separate Node process (undici Pool, ${P.connections} connections), started fresh for each window; its first ${P.warmupSeconds} s are discarded.`,
    'GET /jobs/{id} reads a random job among those this load generator created (Redis HGETALL behind it).',
    `Busy: ${P.scrapeWorkers} real worker processes (WORKER_CONCURRENCY default 2) scraping full_rescan jobs against the fake upstream, RATE_LIMIT_TRUSTPILOT=${RATE_LIMIT}; measured after each has completed 2 jobs. POSTed jobs join the same queue.`,
    'WORKERS is the number of API processes (node:cluster); the code default is 1, scripts/local-stack.sh runs 2.',
    `Workers lower their own CPU priority at start (WORKER_NICE, production default ${PRODUCTION_NICE}); busy-nice<N> (with --worker-nice 0,N): the same busy phase with WORKER_NICE=N, an experiment on what bounds the busy tail.`,
    'CPU, run-queue and scrape figures cover the load generator\'s measured window only (it prints marks at its start and end).',
    'api_runqueue_wait_ms_per_request: /proc/<pid>/task/*/schedstat run-queue wait of the API processes over the window / requests answered; box_cpu_pressure_pct: /proc/pressure/cpu "some" over the window.',
    'Everything (API, workers, Redis, PostgreSQL, fake upstream, load generator) shares the same cores.',
  ],
  summary,
  ratios,
  cpu_profiles: cpuProfiles,
  errors,
  runs,
};
const path = writeResult(P.outDir, 'api', result, started);
bound.done();

process.stdout.write(`\nAPI ${result.started_at}: POST ${P.postRate}/s + GET ${P.getRate}/s offered, ${P.seconds} s windows, median (min–max) of ${P.reps}; ${machine.cpus} × ${machine.cpu_model}; ${entry.split(' ')[0]}\n\n`);
printTable(
  ['WORKERS', 'state', 'endpoint', 'req/s', 'p50 ms', 'p99 ms', 'API CPU', 'API runq wait ms/req', 'scrape pages/s'],
  summary.map((s) => [s.api_workers, s.state, s.endpoint, cell(s.achieved_rps as Summary), cell(s.latency_p50_ms, 2), cell(s.latency_p99_ms, 2), cell(s.api_cpu_util, 2), cell(s.api_runqueue_wait_ms_per_request, 3), s.scrape_pages_per_s ? cell(s.scrape_pages_per_s) : '-']),
);
process.stdout.write('\n');
printTable(['WORKERS', 'busy state', 'endpoint', 'p99 busy/idle (target <= 2)', 'per rep', 'p50 busy/idle'], ratios.map((r) => [r.api_workers, r.state, r.endpoint, r.p99_busy_vs_idle, cell(r.p99_busy_vs_idle_per_rep, 2), r.p50_busy_vs_idle]));
process.stdout.write(`\n${errors.length ? `PROBLEMS (${errors.length}):\n  ${errors.slice(0, 10).join('\n  ')}` : 'checks: all passed'}\nresults: ${path}\n`);
process.exit(errors.length ? 1 : 0);
