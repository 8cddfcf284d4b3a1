// The side-by-side table of issue 7: each figure, ours, the peer's, the ratio, the target and whether it is met,
// from the latest part JSONs in bench-results/ and the peer results they ran beside. Writes summary-<time>.json.
//   tsx scripts/bench/compare.ts [--dir bench-results] [--scrape F] [--api F] [--ingest F] [--spike F] [--queue F] [--sentiment F] [--bullmq F] [--suite F]
// Queue figures (part 1) come from queue-*.json when it exists, read at the same paths as the `bullmq` object of a
// peer-bullmq results file: enqueue.{single_inflight50,bulk100}.{throughput,redis_cpu_us_per_job,redis_cmds_per_job},
// process.c{1,8,32}.{throughput,redis_cpu_us_per_job,redis_cmds_per_job}, latency.add_to_start_p{50,99}_ms,
// memory.bytes_per_waiting_job (each a number or a {median} summary), at the top level or under `ours`. The peer-bullmq
// file is --bullmq, else the queue JSON's `peers.bullmq.results_path`, else the newest in peer-bullmq/results.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PEERS_DIR, ROOT, latestResult, log, printTable, readJson, round, writeResult } from './common.ts';

type Json = Record<string, any>;

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: join(ROOT, 'bench-results') },
    scrape: { type: 'string' },
    api: { type: 'string' },
    ingest: { type: 'string' },
    spike: { type: 'string' },
    queue: { type: 'string' },
    sentiment: { type: 'string' },
    bullmq: { type: 'string' },
    /** all.ts: what ran in this suite and how long it took. */
    suite: { type: 'string' },
  },
});
const dir = values.dir!;
const pick = (part: string): { path: string; json: Json } | null => {
  const path = (values[part as keyof typeof values] as string | undefined) ?? latestResult(dir, part);
  return path && existsSync(path) ? { path, json: readJson(path) } : null;
};
const scrape = pick('scrape');
const api = pick('api');
const ingest = pick('ingest');
const queue = pick('queue');
const sentiment = pick('sentiment');
const spike = pick('spike');

interface Row {
  part: string;
  figure: string;
  ours: number | string | null;
  peer: number | string | null;
  peer_name: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
  /** When the target has two parts, which of them held. */
  met_detail?: string;
}
const rows: Row[] = [];
const notes: string[] = [];
const med = (x: unknown): number => (typeof x === 'number' ? x : typeof x === 'object' && x !== null && 'median' in x ? Number((x as Json).median) : NaN);
const get = (o: Json | null | undefined, path: string): number => med(path.split('.').reduce<unknown>((a, k) => (a == null ? a : (a as Json)[k]), o));
const ratioOf = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? round(a / b, 2) : null);
type Test = (ratio: number | null, ours: number) => boolean | null;
const add = (r: Omit<Row, 'ratio' | 'met'> & { ratio?: number | null }, test: Test | null) => {
  const ratio = r.ratio !== undefined ? r.ratio : ratioOf(Number(r.ours), Number(r.peer));
  const ours = Number(r.ours);
  rows.push({ ...r, ratio, met: test && Number.isFinite(ours) ? test(ratio, ours) : null });
};
/** A ratio target: unknown (null) when the peer figure is missing. */
const atMost = (limit: number): Test => (ratio) => (ratio === null ? null : ratio <= limit);
const atLeast = (limit: number): Test => (ratio) => (ratio === null ? null : ratio >= limit);

if (!queue) {
  notes.push('queue: not measured (no queue-*.json; part 1 is scripts/bench/queue.ts)');
  rows.push({ part: 'queue', figure: 'queue: not measured', ours: null, peer: null, peer_name: 'BullMQ', ratio: null, target: '-', met: null });
} else {
  const q: Json = queue.json.ours ?? queue.json;
  const bullPath = values.bullmq ?? queue.json.peers?.bullmq?.results_path ?? newestPeerResult('peer-bullmq');
  const bull: Json | null = bullPath && existsSync(bullPath) ? (readJson(bullPath).bullmq ?? null) : null;
  if (!bull) notes.push('queue: peer-bullmq results missing; ratios to BullMQ cannot be computed');
  else if (queue.json.started_at && statSync(bullPath!).mtimeMs < Date.parse(queue.json.started_at) - 30 * 60_000)
    notes.push(`queue: the peer-bullmq results (${bullPath}) predate this queue run by more than 30 min: not the same run`);
  const B = 'BullMQ';
  const cmds = (o: Json | null) => get(o, 'enqueue.single_inflight50.redis_cmds_per_job') + get(o, 'process.c8.redis_cmds_per_job');
  add({ part: 'queue', figure: 'Redis CPU per processed job, c=8 (us)', ours: get(q, 'process.c8.redis_cpu_us_per_job'), peer: get(bull, 'process.c8.redis_cpu_us_per_job'), peer_name: B, target: '<= 0.5x' }, atMost(0.5));
  add({ part: 'queue', figure: 'Redis commands per job (enqueue + process, c=8)', ours: cmds(q), peer: cmds(bull), peer_name: B, target: '<= 10' }, (_, o) => o <= 10);
  for (const c of [8, 32])
    add({ part: 'queue', figure: `processing jobs/s, c=${c}`, ours: get(q, `process.c${c}.throughput`), peer: get(bull, `process.c${c}.throughput`), peer_name: B, target: '>= 1.2x' }, atLeast(1.2));
  add({ part: 'queue', figure: 'add->start latency p99 (ms)', ours: get(q, 'latency.add_to_start_p99_ms'), peer: get(bull, 'latency.add_to_start_p99_ms'), peer_name: B, target: '<= 0.5x' }, atMost(0.5));
  add({ part: 'queue', figure: 'Redis memory per waiting job (B)', ours: get(q, 'memory.bytes_per_waiting_job'), peer: get(bull, 'memory.bytes_per_waiting_job'), peer_name: B, target: '<= 0.6x' }, atMost(0.6));
  for (const [figure, path] of [
    ['enqueue jobs/s, single', 'enqueue.single_inflight50.throughput'],
    ['enqueue jobs/s, bulk', 'enqueue.bulk100.throughput'],
    ['processing jobs/s, c=1', 'process.c1.throughput'],
    ['add->start latency p50 (ms)', 'latency.add_to_start_p50_ms'],
  ] as const)
    add({ part: 'queue', figure, ours: get(q, path), peer: get(bull, path), peer_name: B, target: '-' }, null);
}

if (!scrape) notes.push('scrape: not measured (no scrape-*.json)');
else {
  const s = scrape.json;
  const peerRow = (variant: string, c: number) => (s.peers?.crawlee?.summary as Json[] | null)?.find((x) => x.variant === variant && x.concurrency === c);
  if (!s.peers?.crawlee?.summary) notes.push(`scrape: peer figures missing (${s.peers?.crawlee?.run?.missing ?? s.peers?.crawlee?.run?.skipped ?? 'not run'})`);
  for (const o of s.summary as Json[]) {
    const c = o.concurrency as number;
    add({ part: 'scrape', figure: `CPU ms per page, c=${c}`, ours: med(o.cpu_ms_per_page), peer: med(peerRow('crawlee', c)?.cpu_ms_per_page), peer_name: 'Crawlee', target: '<= 0.5x' }, atMost(0.5));
    add({ part: 'scrape', figure: `CPU ms per page, c=${c}`, ours: med(o.cpu_ms_per_page), peer: med(peerRow('limit', c)?.cpu_ms_per_page), peer_name: 'parse limit', target: '<= 1.5x' }, atMost(1.5));
    add({ part: 'scrape', figure: `pages/s, c=${c}`, ours: med(o.pages_per_s), peer: med(peerRow('crawlee', c)?.pages_per_s), peer_name: 'Crawlee', target: '-' }, null);
    add({ part: 'scrape', figure: `pages/s, c=${c}`, ours: med(o.pages_per_s), peer: med(peerRow('limit', c)?.pages_per_s), peer_name: 'parse limit', target: '-' }, null);
    add({ part: 'scrape', figure: `worker peak RSS under load, c=${c} (MB)`, ours: med(o.peak_rss_mb), peer: med(peerRow('crawlee', c)?.peak_rss_mb), peer_name: 'Crawlee', target: '<= 150 MB' }, (_, v) => v <= 150);
  }
}

if (!api) notes.push('api: not measured (no api-*.json)');
else {
  for (const r of api.json.ratios as Json[]) {
    const state = (r.state as string | undefined) ?? 'busy';
    const at = (st: string) => (api.json.summary as Json[]).find((s) => s.api_workers === r.api_workers && s.state === st && s.endpoint === r.endpoint);
    const nice = state === 'busy' ? '' : `, experiment: workers at nice ${r.worker_nice}`;
    add(
      { part: 'api', figure: `${r.endpoint} p99 while workers scrape (ms), WORKERS=${r.api_workers}${nice}`, ours: med(at(state)?.latency_p99_ms), peer: med(at('idle')?.latency_p99_ms), peer_name: 'same API idle', ratio: r.p99_busy_vs_idle, target: '<= 2x idle' },
      atMost(2),
    );
  }
  const busy = (api.json.summary as Json[]).filter((s) => s.state !== 'idle' && s.worker_peak_rss_mb);
  if (busy.length)
    add({ part: 'api', figure: 'worker peak RSS while scraping flat out (MB)', ours: Math.max(...busy.map((s) => med(s.worker_peak_rss_mb))), peer: null, peer_name: '-', target: '<= 150 MB' }, (_, v) => v <= 150);
}

if (!ingest) notes.push('ingest: not measured (no ingest-*.json)');
else {
  const copy = ingest.json.copy_posts_per_s as number;
  for (const r of ingest.json.ratios as Json[]) {
    add(
      { part: 'ingest', figure: `posts/s, ${r.method}, batch ${r.batch}, ${r.lanes} lane${r.lanes > 1 ? 's' : ''}`, ours: r.posts_per_s, peer: copy, peer_name: 'COPY', target: '>= 20k/s and >= 0.3x' },
      (ratio, v) => v >= 20_000 && ratio !== null && ratio >= 0.3,
    );
    const last = rows.at(-1)!;
    last.met_detail = `20k/s: ${last.ours !== null && Number(last.ours) >= 20_000 ? 'yes' : 'NO'}, 0.3x: ${last.ratio === null ? 'n/a' : last.ratio >= 0.3 ? 'yes' : 'NO'}`;
  }
}

if (!sentiment) notes.push('sentiment: not measured (no sentiment-*.json)');
else for (const t of sentiment.json.targets as Json[]) rows.push({ part: 'sentiment', figure: t.figure, ours: t.ours, peer: null, peer_name: '-', ratio: null, target: t.target, met: t.met });
if (!spike) notes.push('spike: not measured (no spike-*.json)');
else {
  const rateName = (rate: number) => `${rate} posts/h`;
  for (const s of (spike.json.summary as Json[]).filter((x) => x.kind === 'volume' && String(x.detector).startsWith('seasonal'))) {
    const plain = (spike.json.summary as Json[]).find((x) => x.kind === 'volume' && x.rate === s.rate && String(x.detector).startsWith('plain'));
    add(
      { part: 'spike', figure: `false alerts/month, worst seed, ${rateName(s.rate)}`, ours: s.falseAlertsPerMonth.worst, peer: plain?.falseAlertsPerMonth.worst ?? null, peer_name: 'mean + 3σ, 14 days', target: '< 2 and < peer' },
      (ratio, v) => v < 2 && ratio !== null && ratio < 1,
    );
    const a = s.atLeast5;
    add(
      { part: 'spike', figure: `≥5σ incidents found in their first window (%), ${rateName(s.rate)}`, ours: round((100 * a.firstWindow) / a.total, 1), peer: plain ? round((100 * plain.atLeast5.firstWindow) / plain.atLeast5.total, 1) : null, peer_name: 'mean + 3σ, 14 days', target: '100 %' },
      (_, v) => v >= 100,
    );
  }
}

const fmt = (x: number | string | null) => (x === null || (typeof x === 'number' && !Number.isFinite(x)) ? 'n/a' : typeof x === 'number' ? (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(round(x, 2))) : x);
const date = new Date();
process.stdout.write(`\nSide by side, ${date.toISOString().slice(0, 16)}Z (medians; ratio = ours / peer)\n\n`);
printTable(
  ['part', 'figure', 'ours', 'peer', 'ratio', 'target', 'met?'],
  rows.map((r) => [r.part, r.figure, fmt(r.ours), r.peer === null ? '-' : `${fmt(r.peer)} (${r.peer_name})`, r.ratio === null ? '-' : `${r.ratio}x`, r.target, r.met_detail ?? (r.met === null ? '-' : r.met ? 'yes' : 'NO')]),
);
if (notes.length) process.stdout.write(`\n${notes.join('\n')}\n`);
const machine = (scrape ?? api ?? ingest ?? queue)?.json.machine ?? null;
const path = writeResult(dir, 'summary', {
  bench: 'summary',
  date: date.toISOString(),
  machine,
  sources: { queue: queue?.path ?? null, scrape: scrape?.path ?? null, api: api?.path ?? null, ingest: ingest?.path ?? null, sentiment: sentiment?.path ?? null, spike: spike?.path ?? null },
  suite: values.suite && existsSync(values.suite) ? readJson(values.suite) : null,
  rows,
  notes,
});
process.stdout.write(`\nsummary: ${path}\n`);
log(`compare: ${rows.filter((r) => r.met === true).length} targets met, ${rows.filter((r) => r.met === false).length} missed`);

function newestPeerResult(peer: string): string | null {
  if (PEERS_DIR === null) return null;
  const folder = join(PEERS_DIR, peer, 'results');
  if (!existsSync(folder)) return null;
  const names = readdirSync(folder).filter((n) => n.endsWith('.json')).sort();
  return names.length ? join(folder, names.at(-1)!) : null;
}
