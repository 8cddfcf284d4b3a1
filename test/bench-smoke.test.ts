// The benchmarks in their smallest form (--quick: a few jobs, one rep), so they do not rot: each part runs as a
// child process against the real services and must exit 0 and write its JSON with the figures compare.ts reads.
// No timing is asserted. The peers are skipped with --no-peers (they need network installs), and the JSON says so.
// The entry files run through tsx (--entry tsx): CI runs the tests before `npm run build`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'vibe-bench-smoke-'));
after(() => rmSync(out, { recursive: true, force: true }));

type Json = Record<string, any>;

/** Runs scripts/bench/<part>.ts and returns its exit code, output and the JSON it wrote. */
function runPart(part: string, args: string[]): Promise<{ code: number | null; output: string; json: Json | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench', `${part}.ts`), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  // A hung bench fails the test instead of holding CI; the part's own guard cleans up on SIGTERM.
  const timer = setTimeout(() => child.kill('SIGTERM'), 100_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      const file = readdirSync(out).filter((n) => n.startsWith(`${part === 'compare' ? 'summary' : part}-`)).sort().at(-1);
      resolve({ code, output, json: file ? (JSON.parse(readFileSync(join(out, file), 'utf8')) as Json) : null });
    }),
  );
}

const quick = ['--quick', '--no-peers', '--entry', 'tsx', '--out-dir', out];
const isFigure = (s: Json | undefined) => typeof s?.median === 'number' && Number.isFinite(s.median) && Array.isArray(s.runs);

describe('the benchmark suite, --quick', { concurrency: 1 }, () => {
  test('bench:scrape runs a real worker through the queue and records pages/s, CPU per page and peak RSS', async () => {
    const { code, output, json } = await runPart('scrape', quick);
    assert.equal(code, 0, output);
    assert.ok(json, 'scrape wrote no JSON');
    assert.equal(json.errors.length, 0, json.errors.join('\n'));
    assert.match(json.entry, /^tsx/);
    assert.deepEqual(json.summary.map((s: Json) => s.concurrency), [1, 4]);
    for (const s of json.summary) {
      for (const field of ['pages_per_s', 'reviews_per_s', 'posts_per_s', 'cpu_ms_per_page', 'peak_rss_mb', 'max_rss_mb']) assert.ok(isFigure(s[field]), `${field} at c=${s.concurrency}`);
    }
    assert.match(json.peers.crawlee.run.skipped, /--no-peers/);
    for (const field of ['cpus', 'cpu_model', 'node', 'redis_version', 'postgres_version', 'loadavg_start', 'loadavg_end']) assert.ok(field in json.machine, field);
  });

  test('bench:api measures both endpoints idle and while two workers scrape, and their p99 ratio', async () => {
    const { code, output, json } = await runPart('api', quick);
    assert.equal(code, 0, output);
    assert.ok(json, 'api wrote no JSON');
    assert.equal(json.errors.length, 0, json.errors.join('\n'));
    const keys = json.summary.map((s: Json) => `${s.state} ${s.endpoint}`).sort();
    assert.deepEqual(keys, ['busy GET /jobs/{id}', 'busy POST /jobs/scrape', 'idle GET /jobs/{id}', 'idle POST /jobs/scrape']);
    for (const s of json.summary) for (const field of ['achieved_rps', 'latency_p50_ms', 'latency_p99_ms']) assert.ok(isFigure(s[field]), `${field} ${s.state} ${s.endpoint}`);
    assert.ok(json.runs.find((r: Json) => r.state === 'busy').scrape.pages_per_s > 0, 'the workers scraped nothing while busy');
    for (const r of json.ratios) assert.equal(typeof r.p99_busy_vs_idle, 'number');
  });

  test('bench:ingest stores posts through upsertPosts in batches of 20 and 200 and by COPY', async () => {
    const { code, output, json } = await runPart('ingest', quick);
    assert.equal(code, 0, output);
    assert.ok(json, 'ingest wrote no JSON');
    assert.equal(json.errors.length, 0, json.errors.join('\n'));
    const keys = json.summary.map((s: Json) => `${s.method} ${s.batch}`);
    for (const key of ['upsert_fresh 20', 'upsert_existing 20', 'upsert_fresh 200', 'upsert_existing 200', 'copy_posts_shape null']) assert.ok(keys.includes(key), key);
    for (const s of json.summary) assert.ok(isFigure(s.posts_per_s), `${s.method} ${s.batch}`);
    for (const r of json.ratios) assert.equal(typeof r.vs_copy, 'number');
  });

  test('bench:queue runs the real queue and worker and records throughput, latency, memory and Redis cost per job', async () => {
    const { code, output, json } = await runPart('queue', ['--quick', '--out-dir', out]);
    assert.equal(code, 0, output);
    assert.ok(json, 'bench:queue wrote no JSON');
    for (const path of ['enqueue.single_inflight50.throughput', 'enqueue.bulk100.redis_cmds_per_job', 'process.c8.throughput', 'process.c8.redis_cpu_us_per_job', 'latency.add_to_start_p99_ms']) {
      const figure = path.split('.').reduce<Json | undefined>((o, k) => o?.[k], json.ours);
      assert.ok(isFigure(figure), `${path} is not a figure: ${JSON.stringify(figure)}`);
    }
    assert.ok(json.ours.memory.bytes_per_waiting_job > 0);
  });

  test('bench:spike replays the alert detectors over synthetic years and records incidents found and false alerts', async () => {
    const { code, output, json } = await runPart('spike', quick);
    assert.equal(code, 0, output);
    assert.ok(json, 'spike wrote no JSON');
    assert.equal(json.errors.length, 0, json.errors.join('\n'));
    const volume = json.summary.filter((s: Json) => s.kind === 'volume');
    assert.deepEqual([...new Set(volume.map((s: Json) => s.rate))], [0.5, 5, 50]);
    for (const s of volume) {
      assert.equal(typeof s.falseAlertsPerMonth.median, 'number', `${s.detector} at ${s.rate}/h`);
      assert.ok(s.atLeast5.total > 0, `${s.detector} at ${s.rate}/h saw no incident of 5σ or more`);
    }
    assert.ok(json.targets.length >= 9);
  });

  test('bench:dashboard times every page and counts what a first load sends, each answered with a 200', async () => {
    const { code, output, json } = await runPart('dashboard', ['--quick', '--posts', '5000', '--out-dir', out]);
    assert.equal(code, 0, output);
    assert.ok(json, 'dashboard wrote no JSON');
    assert.ok(json.pages.length >= 15);
    for (const page of json.pages) {
      assert.ok(page.server_ms.p50 > 0, page.page);
      assert.ok(page.first_load_bytes.sent > 0 && page.first_load_bytes.sent < page.first_load_bytes.raw, page.page);
    }
    assert.equal(typeof json.targets.met, 'boolean');
  });

  test('compare.ts puts the parts side by side, ours against the peers where they ran', async () => {
    const { code, output, json } = await runPart('compare', ['--dir', out]);
    assert.equal(code, 0, output);
    assert.ok(json, 'compare wrote no summary');
    assert.deepEqual([...new Set(json.rows.map((r: Json) => r.part))], ['queue', 'scrape', 'api', 'ingest', 'spike']);
    for (const r of json.rows) for (const field of ['figure', 'ours', 'peer', 'ratio', 'target', 'met']) assert.ok(field in r, field);
  });
});
