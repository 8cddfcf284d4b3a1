// npm run bench:ingest — posts stored per second into PostgreSQL through the worker's own write path
// (upsertPosts from lib/db/posts.ts, on a client made by lib/db/client.ts as the worker makes it), in batches of 20
// (one Trustpilot page) and 200, as fresh inserts and as re-upserts of the same rows; against `COPY ... FROM STDIN`
// of the same rows into a scratch table shaped like `posts` (same columns, generated tsvector, indexes), the limit.
//   tsx scripts/bench/ingest.ts [--quick] [--reps 3] [--posts 10000] [--batches 20,200] [--lanes 1,4] [--out-dir D]
// Lanes are concurrent writers (as worker jobs running at once), each on its own connection.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ROOT, type Summary, cell, describeMachine, guard, intList, intValue, log, once, parseParams, printTable, procCpuMs, round, summarize, writeResult, resultEnvelope } from './common.ts';
import { createSql } from '../../lib/db/client.ts';
import { upsertPosts } from '../../lib/db/posts.ts';
import { silentLogger } from '../../lib/log.ts';
import type { ScrapedPost } from '../../lib/model/post.ts';
import { parseReviewPage } from '../../lib/sources/trustpilot.ts';
import { startServices } from '../harness/services.ts';

const { common, values } = parseParams({ posts: { type: 'string' }, batches: { type: 'string' }, lanes: { type: 'string' } }, { reps: 3 });
const P = {
  ...common,
  posts: intValue(values, 'posts', common.quick ? 400 : 10_000, 1, 10_000_000),
  batches: intList(values, 'batches', [20, 200], 1, 5_000),
  lanes: intList(values, 'lanes', common.quick ? [1] : [1, 4], 1, 32),
};
const SOURCE = 'trustpilot';
const QUERY = 'bt.com';

const started = new Date();
const machine = await describeMachine();
const services = await startServices('bench_ingest');
const maxLanes = Math.max(...P.lanes);
// The worker's client: createSql with the worker's options (max = concurrency + 1).
const sql = createSql(services.config.databaseUrl, silentLogger, { max: maxLanes + 1 });
const closeAll = once(async () => {
  await sql.end({ timeout: 5 });
  await services.close();
});
const bound = guard('ingest', P.quick ? 90 : 600, closeAll);

// Real reviews as the Trustpilot source maps them: the 40 of the two recorded pages, their ids made unique per post.
const templates = ['bt-com-page1-2023-05.html', 'eventnet-de-page1-2024-07-prettified.html'].flatMap(
  (file) => parseReviewPage(readFileSync(join(ROOT, 'test/fixtures/trustpilot', file), 'utf8'), `https://www.trustpilot.com/review/${QUERY}`).reviews,
);
let nextId = 0;
function freshPosts(n: number): ScrapedPost[] {
  return Array.from({ length: n }, () => {
    const k = nextId++;
    const t = templates[k % templates.length]!;
    const externalId = `${t.externalId.slice(0, 12)}${k.toString(16).padStart(12, '0')}`;
    return { ...t, externalId, url: t.url.replace(t.externalId, externalId) };
  });
}

const COPY_COLUMNS = ['source', 'external_id', 'query', 'url', 'author', 'title', 'body', 'rating', 'language', 'published_at', 'reply_body', 'reply_published_at', 'extra'];

/** One row in COPY's text format: tab-separated, \N for null, backslash escapes. */
function copyLine(p: ScrapedPost): string {
  const esc = (v: string | number | Date | null): string => {
    if (v === null) return '\\N';
    const s = v instanceof Date ? v.toISOString() : String(v);
    return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  };
  return `${[SOURCE, p.externalId, QUERY, p.url, p.author, p.title, p.text, p.rating, p.language, p.publishedAt, p.reply?.text ?? null, p.reply?.publishedAt ?? null, JSON.stringify(p.extra)].map(esc).join('\t')}\n`;
}

interface Run {
  method: 'upsert_fresh' | 'upsert_existing' | 'copy_posts_shape' | 'copy_no_indexes' | 'copy_bare';
  batch: number | null;
  lanes: number;
  rep: number;
  posts: number;
  inserted: number | null;
  wall_ms: number;
  posts_per_s: number;
  client_cpu_us_per_post: number;
  server_cpu_us_per_post: number;
  wal_bytes_per_post: number;
  problems: string[];
}

/** Runs `work` on `lanes` reserved connections and measures wall time, our CPU, the backends' CPU and WAL written. */
async function timed(lanes: number, work: (conn: typeof sql, lane: number) => Promise<number>) {
  const conns = await Promise.all(Array.from({ length: lanes }, () => sql.reserve()));
  try {
    const pids = await Promise.all(conns.map(async (c) => Number((await c<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid)));
    const lsn0 = (await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`)[0]!.lsn;
    const server0 = pids.reduce((s, pid) => s + procCpuMs(pid), 0);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const counts = await Promise.all(conns.map((c, i) => work(c, i)));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const server = pids.reduce((s, pid) => s + procCpuMs(pid), 0) - server0;
    const bytes = (await sql<{ bytes: string }[]>`select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${lsn0}::pg_lsn)::text as bytes`)[0]!.bytes;
    return { wallMs, clientMs: (cpu.user + cpu.system) / 1000, serverMs: server, walBytes: Number(bytes), result: counts.reduce((a, b) => a + b, 0) };
  } finally {
    for (const c of conns) c.release();
  }
}

function row(method: Run['method'], batch: number | null, lanes: number, rep: number, posts: number, m: Awaited<ReturnType<typeof timed>>, inserted: number | null, problems: string[]): Run {
  return {
    method,
    batch,
    lanes,
    rep,
    posts,
    inserted,
    wall_ms: round(m.wallMs, 1),
    posts_per_s: round((posts / m.wallMs) * 1000, 0),
    client_cpu_us_per_post: round((m.clientMs * 1000) / posts, 1),
    server_cpu_us_per_post: round((m.serverMs * 1000) / posts, 1),
    wal_bytes_per_post: round(m.walBytes / posts, 0),
    problems,
  };
}

async function upsertAll(posts: ScrapedPost[], batch: number, lanes: number): Promise<Awaited<ReturnType<typeof timed>>> {
  // Lane i takes batches i, i + lanes, ...: each lane is one job storing its pages in order.
  const batches: ScrapedPost[][] = [];
  for (let i = 0; i < posts.length; i += batch) batches.push(posts.slice(i, i + batch));
  return timed(lanes, async (conn, lane) => {
    let inserted = 0;
    for (let b = lane; b < batches.length; b += lanes) inserted += await upsertPosts(conn, SOURCE, QUERY, batches[b]!);
    return inserted;
  });
}

async function copyAll(table: string, posts: ScrapedPost[]): Promise<Awaited<ReturnType<typeof timed>>> {
  return timed(1, async (conn) => {
    const stream = (await conn`copy ${conn(table)} (${conn(COPY_COLUMNS)}) from stdin`.writable()) as Writable;
    // Chunks of 200 rows keep the stream's buffer small without a write per row.
    for (let i = 0; i < posts.length; i += 200) {
      if (!stream.write(posts.slice(i, i + 200).map(copyLine).join(''))) await new Promise((resolve) => stream.once('drain', resolve));
    }
    await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return posts.length;
  });
}

const runs: Run[] = [];
const errors: string[] = [];
try {
  await sql`create table bench_copy_posts_shape (like posts including all)`;
  await sql`create table bench_copy_no_indexes (like posts including defaults including generated including identity)`;
  await sql`create table bench_copy_bare (like posts including defaults including identity)`;
  log(`ingest: ${P.posts} posts per run, batches ${P.batches}, lanes ${P.lanes}, ${P.reps} reps; synchronous_commit=${machine.postgres_settings.synchronous_commit}`);
  await upsertAll(freshPosts(400), 20, 1); // warm-up: JIT, connections, prepared statements

  for (let rep = 1; rep <= P.reps; rep++) {
    let last: ScrapedPost[] = [];
    for (const lanes of P.lanes) {
      for (const batch of P.batches) {
        const posts = freshPosts(P.posts);
        const fresh = await upsertAll(posts, batch, lanes);
        const again = await upsertAll(posts, batch, lanes);
        const r1 = row('upsert_fresh', batch, lanes, rep, P.posts, fresh, fresh.result, fresh.result === P.posts ? [] : [`${fresh.result} of ${P.posts} were new rows`]);
        const r2 = row('upsert_existing', batch, lanes, rep, P.posts, again, again.result, again.result === 0 ? [] : [`${again.result} rows were inserted again`]);
        runs.push(r1, r2);
        log(`  rep ${rep} lanes ${lanes} batch ${String(batch).padStart(3)}: fresh ${r1.posts_per_s} posts/s, existing ${r2.posts_per_s} posts/s`);
        last = posts;
      }
    }
    // The limit: the last batch of fresh rows again, by COPY, into tables that have not seen them.
    const tables = [['copy_posts_shape', 'bench_copy_posts_shape'], ['copy_no_indexes', 'bench_copy_no_indexes'], ['copy_bare', 'bench_copy_bare']] as const;
    for (const [method, table] of tables) {
      const m = await copyAll(table, last);
      runs.push(row(method, null, 1, rep, last.length, m, null, []));
      log(`  rep ${rep} ${method}: ${runs.at(-1)!.posts_per_s} posts/s`);
    }
  }
  const count = (await sql<{ count: string }[]>`select count(*)::text as count from bench_copy_posts_shape`)[0]!.count;
  if (Number(count) !== P.posts * P.reps) errors.push(`COPY stored ${count} rows, expected ${P.posts * P.reps}`);
} finally {
  await closeAll();
}
for (const r of runs) errors.push(...r.problems.map((p) => `${r.method} batch ${r.batch} lanes ${r.lanes} rep ${r.rep}: ${p}`));

const groups = new Map<string, Run[]>();
for (const r of runs) groups.set(`${r.method}|${r.batch}|${r.lanes}`, [...(groups.get(`${r.method}|${r.batch}|${r.lanes}`) ?? []), r]);
const summary = [...groups.values()].map((rows) => ({
  method: rows[0]!.method,
  batch: rows[0]!.batch,
  lanes: rows[0]!.lanes,
  n: rows.length,
  posts_per_s: summarize(rows.map((r) => r.posts_per_s), 0),
  client_cpu_us_per_post: summarize(rows.map((r) => r.client_cpu_us_per_post), 1),
  server_cpu_us_per_post: summarize(rows.map((r) => r.server_cpu_us_per_post), 1),
  wal_bytes_per_post: summarize(rows.map((r) => r.wal_bytes_per_post), 0),
}));
const copyMedian = summary.find((s) => s.method === 'copy_posts_shape')?.posts_per_s.median ?? NaN;
const ratios = summary
  .filter((s) => s.method.startsWith('upsert'))
  .map((s) => ({
    method: s.method,
    batch: s.batch,
    lanes: s.lanes,
    posts_per_s: s.posts_per_s.median,
    vs_copy: round(s.posts_per_s.median / copyMedian, 3),
    meets_20k: s.posts_per_s.median >= 20_000,
    meets_0_3_copy: s.posts_per_s.median / copyMedian >= 0.3,
  }));

const result = {
  ...resultEnvelope('ingest', started, machine),
  entry: 'in-process: upsertPosts (lib/db/posts.ts) on createSql (lib/db/client.ts), the worker\'s own functions; no TypeScript loader cost in the database',
  params: P,
  notes: [
    'upsert_fresh: rows never seen (INSERT ... ON CONFLICT DO UPDATE ... RETURNING (xmax = 0), one statement and one commit per batch, as a worker stores a page).',
    'upsert_existing: the same rows again (every one takes the DO UPDATE branch; last_seen_at moves).',
    'copy_posts_shape: the limit, COPY FROM STDIN (text format) of the same rows into a table LIKE posts INCLUDING ALL (identity, generated tsvector, unique and GIN indexes), one statement.',
    'copy_no_indexes: the same into a table with no indexes (the tsvector is still generated), for reference.',
    'copy_bare: the same into a table with neither indexes nor the generated tsvector column: what the row itself costs.',
    'server_cpu_us_per_post: utime+stime of the PostgreSQL backends serving the connections (/proc/<pid>/stat), excluding WAL writer, checkpointer and fsync waits.',
    'wal_bytes_per_post: pg_current_wal_insert_lsn() delta (server-wide) / posts.',
    'Each rep generates new ids, so the tables grow by posts × batches per rep: later reps insert into bigger indexes.',
  ],
  summary,
  ratios,
  copy_posts_per_s: copyMedian,
  errors,
  runs,
};
const path = writeResult(P.outDir, 'ingest', result, started);
bound.done();

process.stdout.write(`\nIngest ${result.started_at}: ${P.posts} posts per run, median (min–max) of ${P.reps}; PostgreSQL ${machine.postgres_version}, synchronous_commit=${machine.postgres_settings.synchronous_commit}\n\n`);
printTable(
  ['method', 'batch', 'lanes', 'posts/s', 'vs COPY (target >= 0.3)', 'client CPU us/post', 'server CPU us/post', 'WAL B/post'],
  summary.map((s) => [s.method, s.batch ?? '-', s.lanes, cell(s.posts_per_s as Summary, 0), s.method.startsWith('upsert') ? round(s.posts_per_s.median / copyMedian, 2) : '-', cell(s.client_cpu_us_per_post, 1), cell(s.server_cpu_us_per_post, 1), cell(s.wal_bytes_per_post, 0)]),
);
process.stdout.write(`\n${errors.length ? `PROBLEMS (${errors.length}):\n  ${errors.slice(0, 10).join('\n  ')}` : 'checks: all passed'}\nresults: ${path}\n`);
process.exit(errors.length ? 1 : 0);
