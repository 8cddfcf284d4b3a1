// npm run bench — the whole suite of issue 7 in one run, sized to finish in under 10 minutes on the 2-core box:
// builds dist/ once, runs queue (when scripts/bench/queue.ts exists, with the peer-bullmq harness beside it),
// scrape (with the peer-crawlee harness), api, ingest, redis-scale, sentiment, spike (the alert detectors'
// replay: pure computation) and dashboard (its pages at a million posts), each as its own process under a time limit, then
// compare.ts for the side-by-side table. Results: bench-results/<part>-<UTC time>.json and summary-<UTC time>.json.
//   tsx scripts/bench/all.ts [--quick] [--no-peers] [--entry dist|tsx] [--out-dir bench-results]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PeerRun, ROOT, log, parseParams, prepareEntry, round, runPeer } from './common.ts';

const { common: P } = parseParams({}, { reps: 3 });
const started = Date.now();
const entry = prepareEntry(P);
const shared = ['--no-build', '--entry', P.entry, '--out-dir', P.outDir, ...(P.quick ? ['--quick'] : []), ...(P.peers ? [] : ['--no-peers'])];

interface PartRun {
  part: string;
  rc: number | null;
  wall_s: number;
  results: string | null;
  timed_out: boolean;
}

/** Runs `tsx scripts/bench/<part>.ts`, its output passed through, killed by PID past `limitS`. */
function runPart(part: string, limitS: number, args: string[] = shared): Promise<PartRun> {
  const t0 = Date.now();
  log(`\n== ${part} (limit ${limitS} s) ==`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench', `${part}.ts`), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    process.stdout.write(d);
  });
  let timedOut = false;
  // The part's own guard cleans up first (its limit is shorter); this is the backstop.
  const timer = setTimeout(() => {
    timedOut = true;
    log(`!! ${part} ran past ${limitS} s: sending SIGTERM to pid ${child.pid}`);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
  }, limitS * 1000);
  return new Promise((resolve) =>
    child.on('close', (rc) => {
      clearTimeout(timer);
      const results = /^results: (\S+\.json)$/m.exec(out)?.[1] ?? null;
      resolve({ part, rc, wall_s: round((Date.now() - t0) / 1000, 1), results, timed_out: timedOut });
    }),
  );
}

const parts: PartRun[] = [];
let bullmq: PeerRun | null = null;
const notes: string[] = [];
if (existsSync(join(ROOT, 'scripts/bench/queue.ts'))) {
  parts.push(await runPart('queue', P.quick ? 120 : 200));
  if (P.peers) {
    // peer-bullmq's default run takes about 4 minutes; these knobs keep its figures (medians of 3) in about 1.5.
    const knobs = P.quick
      ? { BENCH_N: '2000', BENCH_REPS: '1', BENCH_LAT_SECONDS: '2', LIMITS_N: '20000' }
      : { BENCH_N: '5000', BENCH_REPS: '3', BENCH_LAT_SECONDS: '5', LIMITS_N: '50000' };
    bullmq = await runPeer('peer-bullmq', knobs, P.quick ? 90 : 170);
  }
} else {
  notes.push('queue: scripts/bench/queue.ts does not exist yet, so part 1 and peer-bullmq were not run');
  log(notes.at(-1)!);
}
parts.push(await runPart('scrape', P.quick ? 120 : 330));
parts.push(await runPart('api', P.quick ? 150 : 240));
parts.push(await runPart('ingest', P.quick ? 90 : 180));
parts.push(await runPart('redis-scale', P.quick ? 60 : 180));
parts.push(await runPart('sentiment', P.quick ? 60 : 120, ['--out-dir', P.outDir, ...(P.quick ? ['--quick'] : [])]));
parts.push(await runPart('spike', P.quick ? 60 : 240));
// The dashboard's pages at 1,000,000 posts (--quick: 20,000); most of its time is the insert.
parts.push(await runPart('dashboard', P.quick ? 90 : 600, ['--out-dir', P.outDir, ...(P.quick ? ['--quick'] : [])]));

const suite = { entry, started_at: new Date(started).toISOString(), wall_s_before_compare: round((Date.now() - started) / 1000, 1), parts, peer_bullmq: bullmq, notes };
const suitePath = join(P.outDir, '.suite.json');
mkdirSync(P.outDir, { recursive: true });
writeFileSync(suitePath, JSON.stringify(suite));
const compareArgs = ['--dir', P.outDir, '--suite', suitePath];
// compare.ts tables the parts it knows; the others print their own tables.
const COMPARED = new Set(['queue', 'scrape', 'api', 'ingest', 'sentiment', 'spike']);
for (const p of parts) if (p.results && COMPARED.has(p.part)) compareArgs.push(`--${p.part}`, p.results);
if (bullmq?.ok && bullmq.results_path) compareArgs.push('--bullmq', bullmq.results_path);
const compare = await runPart('compare', 60, compareArgs);
rmSync(suitePath, { force: true });

const total = round((Date.now() - started) / 1000, 1);
process.stdout.write(`\nparts: ${[...parts, compare].map((p) => `${p.part} ${p.wall_s} s${p.rc === 0 ? '' : ` (rc ${p.rc}${p.timed_out ? ', timed out' : ''})`}`).join(', ')}\n`);
if (bullmq) process.stdout.write(`peer-bullmq: ${bullmq.ok ? `${bullmq.wall_s} s, ${bullmq.results_path}` : bullmq.missing}\n`);
process.stdout.write(`total wall time: ${total} s (${Math.floor(total / 60)} min ${Math.round(total % 60)} s)\n`);
process.exit(parts.some((p) => p.rc !== 0) || compare.rc !== 0 ? 1 : 0);
