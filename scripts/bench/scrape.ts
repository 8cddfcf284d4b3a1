// npm run bench:scrape — one real worker process (dist/worker.js, started with production's node flags from
// lib/worker/node-flags.ts) scraping the recorded Trustpilot pages from a loopback fake upstream with no delay,
// through the queue and into PostgreSQL, every guarantee on (leases, fenced finishing, fleet-wide rate limiter,
// per-host turns, upserts). Then the same pages through Crawlee's CheerioCrawler and through the parse limit, by
// running the peer harness peer-crawlee (in BENCH_PEERS_DIR).
//   tsx scripts/bench/scrape.ts [--quick] [--reps 3] [--jobs 30] [--conc 1,4] [--entry dist|tsx] [--no-build]
//                               [--no-peers] [--cpu-prof DIR] [--node-flags="--max-semi-space-size=4"] [--out-dir bench-results]
// Writes <out-dir>/scrape-<UTC time>.json; field names follow peer-crawlee's where the figure is the same.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type PeerRun, type Summary, cell, entryArgs, intList, intValue, log, parseParams, printTable, procCpuMs, procMemMb, readJson, round, runPeer, sampleRss, sleep, startProcess, stopProcess, summarize, writeResult, resultEnvelope } from './common.ts';
import { summarizeCpuProfile } from './cpu-profile.ts';
import { redisKeys } from '../../lib/redis/keys.ts';
import { WORKER_NODE_FLAGS } from '../../lib/worker/node-flags.ts';
import { RATE_LIMIT, startPageBench } from './page-bench.ts';
import { JOB_LIMIT, PAGES_PER_JOB } from './page-server.ts';

const { common, values } = parseParams(
  { jobs: { type: 'string' }, conc: { type: 'string' }, 'warmup-jobs': { type: 'string' }, 'node-flags': { type: 'string' } },
  { reps: 3 },
);
const P = {
  ...common,
  jobs: intValue(values, 'jobs', common.quick ? 3 : 30, 1, 10_000),
  warmupJobs: intValue(values, 'warmup-jobs', common.quick ? 1 : 3, 0, 1_000),
  concurrency: intList(values, 'conc', [1, 4], 1, 64),
  /** Production's flags, then any --node-flags (e.g. "--max-semi-space-size=4", which overrides), to test what moves a figure. */
  nodeFlags: [...WORKER_NODE_FLAGS, ...((values['node-flags'] as string | undefined) ?? '').split(' ').filter(Boolean)],
};
const QUERY = 'bt.com';

const { started, machine, entry, services, upstream, queue, closeAll, bound } = await startPageBench('scrape', P, P.quick ? 120 : 600);

interface Run {
  variant: 'vibe-worker';
  concurrency: number;
  rep: number;
  jobs: number;
  pages: number;
  reviews: number;
  inserted: number;
  wall_ms: number;
  pages_per_s: number;
  reviews_per_s: number;
  posts_per_s: number;
  jobs_per_s: number;
  cpu_ms_per_page: number;
  cpu_util: number;
  peak_rss_mb: number;
  max_rss_mb: number;
  rss_after_start_mb: number;
  upstream: { requests: number; cpu_ms_per_page: number };
  problems: string[];
}

/** Enqueues `n` scrape jobs at once and waits until every one has finished; returns their ids. */
async function runJobs(n: number, timeoutMs: number): Promise<string[]> {
  const k = redisKeys(queue.prefix).finished;
  const finished = async () => {
    const replies = (await services.redis.pipeline().zcard(k.completed).zcard(k.failed).zcard(k.cancelled).exec()) ?? [];
    return replies.reduce((sum, [, count]) => sum + Number(count), 0);
  };
  const before = await finished();
  const jobs = await queue.enqueueMany(
    Array.from({ length: n }, () => ({ kind: 'scrape' as const, source: 'trustpilot', query: QUERY, limit: JOB_LIMIT, priority: 0, fullRescan: true })),
  );
  const deadline = Date.now() + timeoutMs;
  while ((await finished()) - before < n) {
    if (Date.now() > deadline) throw new Error(`${n} jobs did not finish within ${timeoutMs} ms`);
    await sleep(20);
  }
  return jobs.map((j) => j.id);
}

async function runOurs(c: number, rep: number): Promise<Run> {
  const env = {
    ...services.env,
    LOG_LEVEL: 'info',
    SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl,
    RATE_LIMIT_TRUSTPILOT: RATE_LIMIT,
    WORKER_CONCURRENCY: String(c),
    WORKER_SHUTDOWN_TIMEOUT_MS: '5000',
    // The peers run at normal priority; pages/s is compared like for like (CPU per page does not depend on it).
    WORKER_NICE: '0',
  };
  const flags = [...P.nodeFlags, ...(P.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${P.cpuProf}`, `--cpu-prof-name=worker-c${c}-rep${rep}.cpuprofile`] : [])];
  const worker = startProcess(`worker c=${c}`, entryArgs(P.entry, 'worker', flags), env, { keepLines: 60 });
  try {
    await worker.waitForEvent('worker_started');
    const rssAfterStart = procMemMb(worker.pid, 'VmRSS');
    // Warm-up (JIT, connection pools, the first inserts), as the peer's 20 warm-up pages.
    if (P.warmupJobs) await runJobs(P.warmupJobs, 120_000);

    const up0 = upstream.stats();
    const cpu0 = procCpuMs(worker.pid);
    const sampler = sampleRss([worker.pid]);
    const t0 = performance.now();
    const ids = await runJobs(P.jobs, Math.max(120_000, P.jobs * PAGES_PER_JOB * 200));
    const wallMs = performance.now() - t0;
    const cpuMs = procCpuMs(worker.pid) - cpu0;
    const peak = sampler.stop()[worker.pid] ?? NaN;
    const up1 = upstream.stats();
    const maxRss = procMemMb(worker.pid, 'VmHWM');

    const jobs = await Promise.all(ids.map((id) => queue.get(id)));
    const problems: string[] = [];
    let pages = 0;
    let reviews = 0;
    let inserted = 0;
    for (const job of jobs) {
      if (job?.status !== 'completed') {
        problems.push(`job ${job?.id} ended ${job?.status}: ${JSON.stringify(job?.error)}`);
        continue;
      }
      pages += Number(job.result?.pages ?? 0);
      reviews += Number(job.result?.found ?? 0);
      inserted += Number(job.result?.inserted ?? 0);
    }
    const requests = up1.requests - up0.requests;
    if (pages !== P.jobs * PAGES_PER_JOB) problems.push(`jobs read ${pages} pages, expected ${P.jobs * PAGES_PER_JOB}`);
    if (requests !== pages) problems.push(`the upstream served ${requests} pages in the window, the jobs report ${pages}`);
    if (reviews !== pages * 20) problems.push(`${reviews} reviews from ${pages} pages, expected 20 a page`);
    if (inserted !== reviews) problems.push(`${inserted} of ${reviews} reviews were new rows, expected all`);
    return {
      variant: 'vibe-worker',
      concurrency: c,
      rep,
      jobs: P.jobs,
      pages,
      reviews,
      inserted,
      wall_ms: round(wallMs, 1),
      pages_per_s: round((pages / wallMs) * 1000, 1),
      reviews_per_s: round((reviews / wallMs) * 1000, 1),
      posts_per_s: round((reviews / wallMs) * 1000, 1),
      jobs_per_s: round((P.jobs / wallMs) * 1000, 2),
      cpu_ms_per_page: round(cpuMs / pages, 3),
      cpu_util: round(cpuMs / wallMs, 3),
      peak_rss_mb: round(peak, 1),
      max_rss_mb: round(maxRss, 1),
      rss_after_start_mb: round(rssAfterStart, 1),
      upstream: { requests, cpu_ms_per_page: round((up1.cpu_ms - up0.cpu_ms) / requests, 3) },
      problems,
    };
  } finally {
    const exit = await stopProcess(worker);
    if (exit.code !== 0) log(`worker c=${c} exited with ${exit.code ?? exit.signal}:\n${worker.tail()}`);
  }
}

const runs: Run[] = [];
const errors: string[] = [];
try {
  log(`scrape: ${P.jobs} jobs × ${PAGES_PER_JOB} pages per run (+${P.warmupJobs} warm-up jobs), c=${P.concurrency}, ${P.reps} reps; entry ${entry}`);
  for (let rep = 1; rep <= P.reps; rep++) {
    for (const c of P.concurrency) {
      const run = await runOurs(c, rep);
      runs.push(run);
      errors.push(...run.problems.map((p) => `vibe-worker c=${c} rep=${rep}: ${p}`));
      log(`  rep ${rep} vibe-worker c=${c}  ${run.pages_per_s} pages/s  ${run.cpu_ms_per_page} CPU ms/page  peak RSS ${run.peak_rss_mb} MB${run.problems.length ? `  !! ${run.problems[0]}` : ''}`);
    }
  }
} finally {
  await closeAll();
}

// The peer runs after ours, in the same run, on the same number of pages; its reps interleave among themselves.
type Json = Record<string, any>;
let peer: PeerRun | { ok: false; skipped: string };
let peerResults: Json | null = null;
if (!P.peers) {
  peer = { ok: false, skipped: '--no-peers: peer-crawlee was not run (it needs `npm ci` from the network on first use)' };
  log(`peers skipped (--no-peers)`);
} else {
  const pages = P.jobs * PAGES_PER_JOB;
  peer = await runPeer(
    'peer-crawlee',
    {
      BENCH_PAGES: String(pages),
      BENCH_REPS: String(P.reps),
      BENCH_CONC: P.concurrency.join(','),
      BENCH_VARIANTS: 'crawlee,limit',
      BENCH_AUTOSCALE_REPS: '0',
      INMEM_METHODS: 'b',
      INMEM_ITER: P.quick ? '50' : '400',
      INMEM_BATCHES: '5',
    },
    Math.round(60 + P.reps * P.concurrency.length * (12 + pages / 15)),
  );
  if (peer.ok && peer.results_path) peerResults = readJson(peer.results_path);
  if (peerResults?.errors?.length) errors.push(...(peerResults.errors as string[]).map((e) => `peer-crawlee: ${e}`));
}

const summary = P.concurrency.map((c) => {
  const rows = runs.filter((r) => r.concurrency === c && r.problems.length === 0);
  const pick = (f: (r: Run) => number, d = 2) => summarize(rows.map(f), d);
  return {
    variant: 'vibe-worker',
    concurrency: c,
    n: rows.length,
    pages_per_s: pick((r) => r.pages_per_s, 1),
    reviews_per_s: pick((r) => r.reviews_per_s, 0),
    posts_per_s: pick((r) => r.posts_per_s, 0),
    jobs_per_s: pick((r) => r.jobs_per_s),
    cpu_ms_per_page: pick((r) => r.cpu_ms_per_page, 3),
    cpu_util: pick((r) => r.cpu_util, 3),
    peak_rss_mb: pick((r) => r.peak_rss_mb, 1),
    max_rss_mb: pick((r) => r.max_rss_mb, 1),
    rss_after_start_mb: pick((r) => r.rss_after_start_mb, 1),
    upstream_cpu_ms_per_page: pick((r) => r.upstream.cpu_ms_per_page, 3),
  };
});
const peerSummary = (variant: string, c: number): Json | undefined =>
  (peerResults?.summary as Json[] | undefined)?.find((s) => s.variant === variant && s.concurrency === c);
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? round(a / b, 2) : null);
const ratios = P.concurrency.map((c) => {
  const ours = summary.find((s) => s.concurrency === c)!;
  const crawlee = peerSummary('crawlee', c);
  const lim = peerSummary('limit', c);
  return {
    concurrency: c,
    ours_vs_crawlee_cpu_per_page: ratio(ours.cpu_ms_per_page.median, crawlee?.cpu_ms_per_page?.median),
    ours_vs_limit_cpu_per_page: ratio(ours.cpu_ms_per_page.median, lim?.cpu_ms_per_page?.median),
    ours_vs_crawlee_pages_per_s: ratio(ours.pages_per_s.median, crawlee?.pages_per_s?.median),
    ours_vs_limit_pages_per_s: ratio(ours.pages_per_s.median, lim?.pages_per_s?.median),
    ours_vs_crawlee_peak_rss: ratio(ours.peak_rss_mb.median, crawlee?.peak_rss_mb?.median),
  };
});

let cpuProfiles: Json | null = null;
if (P.cpuProf) {
  cpuProfiles = Object.fromEntries(
    readdirSync(P.cpuProf).filter((f) => f.startsWith('worker-') && f.endsWith('.cpuprofile')).map((f) => [f, summarizeCpuProfile(join(P.cpuProf!, f))]),
  );
}

const result = {
  ...resultEnvelope('scrape', started, machine),
  entry,
  params: { ...P, pages_per_job: PAGES_PER_JOB, job_limit: JOB_LIMIT, query: QUERY, full_rescan: true, rate_limit_trustpilot: RATE_LIMIT },
  notes: [
    'One worker process per run (a fresh one for each concurrency and rep), so peak RSS belongs to that run. Reps interleave (rep -> c).',
    `The worker's node flags: ${P.nodeFlags.join(' ')} (production's from lib/worker/node-flags.ts, then any --node-flags).`,
    `Measured window: from enqueueing ${P.jobs} jobs at once to the last one completed (polled every 20 ms), after ${P.warmupJobs} warm-up jobs.`,
    'cpu_ms_per_page: utime+stime of the worker process (all threads, /proc/<pid>/stat) over the window / pages. Redis and PostgreSQL CPU are not in it.',
    'peak_rss_mb: VmRSS of the worker sampled every 10 ms over the window; max_rss_mb: the kernel high-water mark VmHWM (whole life of the process).',
    `RATE_LIMIT_TRUSTPILOT=${RATE_LIMIT} lifts the fleet-wide politeness limit so it does not bound the figure; the one-request-at-a-time-per-host rule inside a worker process stays on, so at c=4 fetches are serial and parsing and writes overlap.`,
    'Upstream: peer-crawlee\'s page rule (bt.com odd, eventnet.de even), same bytes, except eventnet\'s totalPages 1 -> 9 and the last 6 hex digits of each review id (fresh rows on every page); in-process in the bench driver.',
    'posts_per_s and reviews_per_s are the same figure (reviews stored per second); reviews_per_s is peer-crawlee\'s name for it.',
    'The peer stores reviews into an array in memory; ours writes them to PostgreSQL, renews the job lease and admits each request through Redis.',
  ],
  summary,
  ratios,
  peers: {
    crawlee: {
      run: peer,
      summary: (peerResults?.summary as Json[] | undefined)?.filter((s) => s.variant === 'crawlee' || s.variant === 'limit') ?? null,
      inmem: peerResults?.inmem ?? null,
      machine: peerResults?.machine ?? null,
      packages: peerResults?.packages ?? null,
      digests_agree: peerResults?.digests?.agree ?? null,
    },
  },
  cpu_profiles: cpuProfiles,
  errors,
  runs,
};
const path = writeResult(P.outDir, 'scrape', result, started);
bound.done();

const fmt = (s: Summary | Json | undefined, d = 1) => cell(s as Summary, d);
process.stdout.write(`\nScrape ${result.started_at}: ${P.jobs * PAGES_PER_JOB} pages per run, median (min–max) of ${P.reps}; ${machine.cpus} × ${machine.cpu_model}, node ${machine.node}; ours: ${entry.split(' ')[0]}\n\n`);
const tableRows: (string | number)[][] = [];
for (const s of summary)
  tableRows.push(['vibe-worker', s.concurrency, fmt(s.pages_per_s), fmt(s.reviews_per_s, 0), fmt(s.cpu_ms_per_page, 2), fmt(s.peak_rss_mb, 0), fmt(s.max_rss_mb, 0)]);
for (const variant of ['crawlee', 'limit'])
  for (const c of P.concurrency) {
    const s = peerSummary(variant, c);
    if (s) tableRows.push([`peer ${variant}`, c, fmt(s.pages_per_s), fmt(s.reviews_per_s, 0), fmt(s.cpu_ms_per_page, 2), fmt(s.peak_rss_mb, 0), fmt(s.max_rss_mb, 0)]);
  }
printTable(['variant', 'c', 'pages/s', 'reviews/s', 'CPU ms/page', 'peak RSS MB', 'max RSS MB'], tableRows);
process.stdout.write('\n');
printTable(
  ['c', 'CPU/page vs crawlee (target <= 0.5)', 'CPU/page vs limit (target <= 1.5)', 'pages/s vs crawlee', 'pages/s vs limit'],
  ratios.map((r) => [r.concurrency, r.ours_vs_crawlee_cpu_per_page ?? 'n/a', r.ours_vs_limit_cpu_per_page ?? 'n/a', r.ours_vs_crawlee_pages_per_s ?? 'n/a', r.ours_vs_limit_pages_per_s ?? 'n/a']),
);
if (!P.peers) process.stdout.write('\npeer figures: skipped (--no-peers)\n');
else if (!peer.ok) process.stdout.write(`\npeer figures missing: ${(peer as PeerRun).missing}\n`);
process.stdout.write(`\n${errors.length ? `PROBLEMS (${errors.length}):\n  ${errors.slice(0, 10).join('\n  ')}` : 'checks: all passed'}\nresults: ${path}\n`);
process.exit(errors.length ? 1 : 0);
