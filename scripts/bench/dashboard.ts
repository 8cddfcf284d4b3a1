// npm run bench:dashboard — the server time of every dashboard page, and the bytes a first load of it transfers,
// then the JSON API's GET /posts/stats (90 days by day, with and without filters) and GET /posts/export's memory,
// at 1,000,000 posts over two years (10 sources, 5 tracked queries, a third of them negative) written with one
// insert ... select from generate_series into a private database, as the rollup's triggers see a real batch.
// Pages are asked of the real app in this process (app.request(): routing, the session, the queries, the JSX),
// so the time is the server's alone; the bytes are the page plus its CSS and JavaScript as sent to a browser that
// takes gzip (the dashboard compresses them itself), and uncompressed beside.
//   tsx scripts/bench/dashboard.ts [--quick] [--posts 1000000] [--reps 15] [--out-dir D]
// Prints medians and p90 per page against the targets (200 ms, 150 KB), writes bench-results/dashboard-<UTC time>.json.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { createApp } from '../../lib/api/app.ts';
import { apiConnection, exportConnection } from '../../lib/api/boot.ts';
import { loadConfig } from '../../lib/config.ts';
import { ASSETS } from '../../lib/dashboard/assets.ts';
import { dashboardPages } from '../../lib/dashboard/pages.tsx';
import { createSql } from '../../lib/db/client.ts';
import { ensureDatabase, migrate } from '../../lib/db/migrate.ts';
import { silentLogger } from '../../lib/log.ts';
import { JobQueue } from '../../lib/queue/queue.ts';
import { queueSettings } from '../../lib/queue/settings.ts';
import { createRedis } from '../../lib/redis/client.ts';
import { loadSourceRegistry } from '../../lib/sources/registry.ts';
import { spawnEntry, stopProcess } from '../harness/processes.ts';
import { describeMachine, intValue, log, parseParams, percentile, printTable, resultEnvelope, round, writeResult } from './common.ts';

const { common, values } = parseParams({ posts: { type: 'string' } }, { reps: 15 });
const POSTS = intValue(values, 'posts', common.quick ? 20_000 : 1_000_000, 1_000, 20_000_000);
const REPS = common.reps;
const WARMUP = 2;
const TARGET_MS = 200;
const TARGET_KB = 150;
const SOURCES = ['bluesky', 'discourse', 'github', 'google-news', 'hackernews', 'lemmy', 'mastodon', 'reddit', 'stackoverflow', 'trustpilot'];
const QUERIES = ['acme', 'acme widgets', 'acme cloud', 'acme support', 'acme pricing'];

const started = new Date();
const machine = await describeMachine();
const suffix = randomBytes(4).toString('hex');
const databaseUrl = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://localhost:5432/postgres');
databaseUrl.pathname = `/vibe_bench_dashboard_${suffix}`;
const config = loadConfig({
  ...process.env,
  DATABASE_URL: databaseUrl.toString(),
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://localhost:6379/0',
  REDIS_PREFIX: `vibe_bench_dashboard_${suffix}`,
  ENVIRONMENT: 'test',
  API_TOKEN: '',
  API_READ_TOKEN: '',
  LOG_LEVEL: 'error',
});

await ensureDatabase(config.databaseUrl);
// The writes have no time limit; the pages read as the API process reads (apiConnection).
const setupSql = createSql(config.databaseUrl, silentLogger, { max: 1, connection: { statement_timeout: 0 } });
const sql = createSql(config.databaseUrl, silentLogger, { max: 10, connection: apiConnection(config) });
const redis = createRedis(config.redisUrl, silentLogger, 'bench-dashboard');
const exportSql = createSql(config.databaseUrl, silentLogger, { max: config.apiExportConcurrency, connection: exportConnection() });
try {
  await migrate(setupSql, silentLogger);
  const t0 = performance.now();
  await setupSql`
    insert into posts (source, external_id, query, url, author, title, body, rating, language, published_at,
                       sentiment_score, sentiment_label, sentiment_method, sentiment_language)
    select (${SOURCES}::text[])[1 + n % ${SOURCES.length}], 'bench-' || n, (${QUERIES}::text[])[1 + (n / 10) % ${QUERIES.length}],
           'https://example.com/posts/' || n, 'author' || (n % 5000), 'Post ' || n || ' about the widget',
           case n % 3 when 0 then 'The widget is broken and slow again, support never answers'
                      when 1 then 'I love how fast the widget is, great work'
                      else 'The widget arrived today' end,
           case when n % 10 = 9 then 1 + (n / 10) % 5 else null end, 'en',
           now() - (n::float8 / ${POSTS}) * interval '730 days',
           case n % 3 when 0 then -0.6 when 1 then 0.7 else 0 end,
           case n % 3 when 0 then 'negative' when 1 then 'positive' else 'neutral' end, 'bench-v1', 'en'
    from generate_series(1, ${POSTS}) as n
  `;
  const insertS = round((performance.now() - t0) / 1000, 1);
  await setupSql`insert into tracked_queries (query) select unnest(${QUERIES}::text[])`;
  // A finished run of every (query, source) a few times over, for the Queries page's "last run" column.
  await setupSql`
    insert into jobs (id, kind, source, query, status, priority, attempts, result, created_at, started_at, finished_at)
    select gen_random_uuid(), 'scrape', s, q, case when i % 7 = 0 then 'failed' else 'completed' end, 0, 1,
           '{"found": 50, "inserted": 3}'::jsonb, now() - i * interval '3 hours', now() - i * interval '3 hours', now() - i * interval '3 hours' + interval '20 seconds'
    from unnest(${SOURCES}::text[]) as s, unnest(${QUERIES}::text[]) as q, generate_series(1, 20) as i
  `;
  await setupSql`analyze`;
  log(`dashboard: ${POSTS.toLocaleString('en')} posts inserted in ${insertS} s`);

  const queue = new JobQueue(redis, queueSettings(config));
  const jobs = await queue.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ kind: 'scrape' as const, source: SOURCES[i % SOURCES.length]!, query: QUERIES[i % QUERIES.length]!, limit: 50, priority: 0 })));
  const sources = await loadSourceRegistry(config);
  const app = createApp({ config, redis, sql, queue, sources, log: silentLogger, exportSql }, dashboardPages);
  // One session for every request, as a browser keeps its cookie (the first answer hands it out).
  const first = await app.request('/ui/alerts');
  const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;

  const deepCursor = async () => {
    let path = '/ui/feed';
    for (let i = 0; i < 4; i++) {
      const html = await (await app.request(path, { headers: { cookie } })).text();
      path = /href="(\/ui\/feed\?[^"]*before=[^"]+)" rel="next"/.exec(html)![1]!.replaceAll('&amp;', '&');
    }
    return path;
  };
  const pages: [string, string][] = [
    ['overview, 7 days', '/ui/?period=7'],
    ['overview, 30 days', '/ui/?period=30'],
    ['overview, 90 days', '/ui/?period=90'],
    ['overview, 90 days, one query', `/ui/?period=90&query=${encodeURIComponent(QUERIES[1]!)}`],
    ['feed', '/ui/feed'],
    ['feed, page 5', await deepCursor()],
    ['feed, one source', '/ui/feed?source=trustpilot'],
    ['feed, negative, one query', `/ui/feed?sentiment=negative&query=${encodeURIComponent(QUERIES[2]!)}`],
    ['feed, rating 1', '/ui/feed?rating=1'],
    ['feed, text search', '/ui/feed?q=support'],
    ['feed, a month', `/ui/feed?from=${new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10)}&to=${new Date(Date.now() - 370 * 86_400_000).toISOString().slice(0, 10)}`],
    ['queries', '/ui/queries'],
    ['queue', '/ui/queue'],
    ['queue, pending', '/ui/queue?status=pending'],
    ['job', `/ui/queue/jobs/${jobs[0]!.id}`],
    ['sources', '/ui/sources'],
    ['backups', '/ui/backups'],
    ['alerts', '/ui/alerts'],
  ];

  // What a browser is sent for the two files, asked as it asks (Accept-Encoding: gzip).
  let assetsSent = 0;
  for (const asset of [ASSETS.css, ASSETS.js]) {
    const response = await app.request(asset.href, { headers: { cookie, 'accept-encoding': 'gzip, deflate, br' } });
    assetsSent += (await response.arrayBuffer()).byteLength;
  }
  const assetBytes = { raw: Buffer.byteLength(ASSETS.css.body) + Buffer.byteLength(ASSETS.js.body), sent: assetsSent };
  const results = [];
  for (const [name, path] of pages) {
    const times: number[] = [];
    let html = '';
    for (let i = 0; i < WARMUP + REPS; i++) {
      const t = performance.now();
      const response = await app.request(path, { headers: { cookie } });
      html = await response.text();
      const ms = performance.now() - t;
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${html.slice(0, 300)}`);
      if (i >= WARMUP) times.push(ms);
    }
    times.sort((a, b) => a - b);
    const htmlRaw = Buffer.byteLength(html);
    const sent = await app.request(path, { headers: { cookie, 'accept-encoding': 'gzip, deflate, br' } });
    const htmlSent = (await sent.arrayBuffer()).byteLength;
    results.push({
      page: name,
      path,
      server_ms: { p50: round(percentile(times, 0.5), 1), p90: round(percentile(times, 0.9), 1), max: round(times.at(-1)!, 1) },
      first_load_bytes: { sent: htmlSent + assetBytes.sent, raw: htmlRaw + assetBytes.raw, html_sent: htmlSent, html_raw: htmlRaw },
    });
    log(`dashboard: ${name} ${round(percentile(times, 0.5), 1)} ms`);
  }

  printTable(
    ['page', 'server p50 ms', 'p90 ms', 'first load KB sent', 'uncompressed KB', 'targets'],
    results.map((r) => [
      r.page, r.server_ms.p50, r.server_ms.p90, round(r.first_load_bytes.sent / 1024, 1), round(r.first_load_bytes.raw / 1024, 1),
      r.server_ms.p50 < TARGET_MS && r.first_load_bytes.sent / 1024 < TARGET_KB ? 'met' : 'MISSED',
    ]),
  );
  // The JSON API's trends and export at the same size: GET /posts/stats for 90 days a day at a time (with and
  // without a source filter, and grouped), and the whole export streamed through this process, its RSS sampled.
  const ninetyDays = `from=${new Date(Date.now() - 90 * 86_400_000).toISOString()}&to=${new Date().toISOString()}`;
  const statsCases: [string, string][] = [
    ['stats, 90 days by day', `/posts/stats?interval=day&${ninetyDays}`],
    ['stats, 90 days by day, one source', `/posts/stats?interval=day&source=trustpilot&${ninetyDays}`],
    ['stats, 90 days by day, by source', `/posts/stats?interval=day&group_by=source&${ninetyDays}`],
    ['stats, 90 days by day, negative, one query', `/posts/stats?interval=day&sentiment=negative&query=${encodeURIComponent(QUERIES[0]!)}&${ninetyDays}`],
    ['stats, 2 years by week, Europe/Paris', '/posts/stats?interval=week&tz=Europe/Paris&from=' + new Date(Date.now() - 730 * 86_400_000).toISOString()],
  ];
  const stats = [];
  for (const [name, path] of statsCases) {
    const times: number[] = [];
    let readFrom = '';
    for (let i = 0; i < WARMUP + REPS; i++) {
      const t = performance.now();
      const response = await app.request(path);
      const body = (await response.json()) as { read_from: string };
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(body)}`);
      if (i >= WARMUP) times.push(performance.now() - t);
      readFrom = body.read_from;
    }
    times.sort((x, y) => x - y);
    stats.push({ case: name, path, read_from: readFrom, ms: { p50: round(percentile(times, 0.5), 1), p90: round(percentile(times, 0.9), 1) } });
    log(`dashboard: ${name} ${round(percentile(times, 0.5), 1)} ms`);
  }
  // The export as production serves it: an API process of its own (its RSS read from /proc), a client reading
  // the whole download over HTTP as fast as it can.
  const exports = [];
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const api = spawnEntry('api.ts', { ...(process.env as Record<string, string>), DATABASE_URL: config.databaseUrl, REDIS_URL: config.redisUrl, REDIS_PREFIX: config.redisPrefix, ENVIRONMENT: 'test', API_TOKEN: '', API_READ_TOKEN: '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', WORKERS: '1' }, { keepLines: 50 });
  try {
    for (let tries = 0; ; tries++) {
      const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      if (tries > 300) throw new Error(`the API did not start: ${api.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${api.pid}/status`, 'utf8'))![1]) * 1024;
    // The first export after start grows the heap to its working size (and compiles the code it runs); the later
    // ones show what an export itself holds. Both are reported.
    for (const [run, format] of [['first', 'csv'], ['then', 'ndjson'], ['then', 'csv']] as const) {
      const rssBefore = rssOf();
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, rssOf());
      }, 50);
      const t = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/posts/export?format=${format}`);
      let bytes = 0;
      let lines = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        for (const byte of chunk) if (byte === 10) lines++;
      }
      clearInterval(sampler);
      const seconds = (performance.now() - t) / 1000;
      const rows = format === 'csv' ? lines - 1 : lines;
      if (rows !== POSTS) throw new Error(`the ${format} export had ${rows} rows, not ${POSTS}`);
      exports.push({ run, format, rows, mb: round(bytes / 1e6, 1), s: round(seconds, 1), rows_per_s: Math.round(rows / seconds), rss_before_mb: round(rssBefore / 1e6, 1), rss_growth_mb: round((rssPeak - rssBefore) / 1e6, 1) });
      log(`dashboard: export ${format} (${run}) ${round(seconds, 1)} s, API RSS ${round(rssBefore / 1e6, 1)} MB +${round((rssPeak - rssBefore) / 1e6, 1)} MB`);
    }
  } finally {
    await stopProcess(api);
  }
  printTable(['GET /posts/stats', 'read from', 'p50 ms', 'p90 ms', 'target < 150 ms'], stats.map((r) => [r.case, r.read_from, r.ms.p50, r.ms.p90, r.ms.p50 < 150 ? 'met' : 'MISSED']));
  printTable(['GET /posts/export', 'after start', 'rows', 'MB', 's', 'rows/s', 'RSS growth MB', 'target < 50 MB'], exports.map((r) => [r.format, r.run === 'first' ? 'first export' : 'later', r.rows, r.mb, r.s, r.rows_per_s, r.rss_growth_mb, r.rss_growth_mb < 50 ? 'met' : 'MISSED']));

  const slowest = Math.max(...results.map((r) => r.server_ms.p50));
  const heaviest = Math.max(...results.map((r) => r.first_load_bytes.sent));
  process.stdout.write(`\n${POSTS.toLocaleString('en')} posts, ${REPS} reps a page: slowest median ${slowest} ms (target < ${TARGET_MS}), heaviest first load ${round(heaviest / 1024, 1)} KB sent (target < ${TARGET_KB})\n`);
  const path = writeResult(common.outDir, 'dashboard', {
    ...resultEnvelope('dashboard', started, machine),
    params: { posts: POSTS, reps: REPS, warmup: WARMUP, quick: common.quick },
    insert_s: insertS,
    assets_bytes: assetBytes,
    pages: results,
    posts_stats: stats,
    posts_export: exports,
    targets: { server_ms_p50: TARGET_MS, first_load_kb: TARGET_KB, met: slowest < TARGET_MS && heaviest / 1024 < TARGET_KB },
  });
  process.stdout.write(`results: ${path}\n`);
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redisPrefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
  await Promise.all([sql.end({ timeout: 1 }), setupSql.end({ timeout: 1 }), exportSql.end({ timeout: 1 })]);
  const admin = new URL(config.databaseUrl);
  admin.pathname = '/postgres';
  const adminSql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  await adminSql.unsafe(`drop database if exists "vibe_bench_dashboard_${suffix}" with (force)`);
  await adminSql.end({ timeout: 1 });
}
