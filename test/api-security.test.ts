// The API against an attacker: no tokens in production, roles, forms posted from another site, floods bounded in
// count, slow clients, and searches that would starve the cheap reads.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { type ApiProcess, startApiProcess } from '../lib/api/boot.ts';
import { type Config, assertApiSecured, loadConfig } from '../lib/config.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { tickHandlers } from '../lib/scheduler/schedules.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { spawnEntry } from './helpers/processes.ts';
import { type TestServices, startServices } from './helpers/services.ts';

const ADMIN = 'admin-token-0123456789abcdef';
const READER = 'read-token-0123456789abcdefg';

describe('the API, closed by default', () => {
  let services: TestServices;
  let app: Hono;
  let config: Config;

  before(async () => {
    services = await startServices('api_security', { MAX_WAITING_JOBS: '3', MAX_TRACKED_QUERIES: '2' });
    config = { ...services.config, apiToken: ADMIN, apiReadToken: READER };
    app = await appWith(config);
  });
  after(() => services?.close());

  async function appWith(overrides: Config): Promise<Hono> {
    const queue = new JobQueue(services.redis, queueSettings(overrides));
    return createApp({ config: overrides, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(overrides), log: silentLogger });
  }
  const as = (token: string | null, init: RequestInit = {}) => ({ ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const json = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const code = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

  test('in production the API refuses to start without API_TOKEN, or without API_READ_TOKEN unless reads are public', () => {
    const production = (env: Record<string, string>) => () => assertApiSecured(loadConfig({ ENVIRONMENT: 'production', ...env }));
    assert.throws(production({}), /^ConfigError: API_TOKEN must be set when ENVIRONMENT=production/);
    assert.throws(production({ API_TOKEN: ADMIN }), /API_READ_TOKEN must be set when ENVIRONMENT=production, or API_PUBLIC_READS=true/);
    assert.doesNotThrow(production({ API_TOKEN: ADMIN, API_READ_TOKEN: READER }));
    assert.doesNotThrow(production({ API_TOKEN: ADMIN, API_PUBLIC_READS: 'true' }));
    assert.throws(production({ API_TOKEN: 'short', API_READ_TOKEN: READER }), /API_TOKEN must be at least 24 characters/);
    assert.throws(production({ API_TOKEN: ADMIN, API_READ_TOKEN: ADMIN }), /must differ/);
  });

  test('the API process itself exits with one line naming the variable', async () => {
    const api = spawnEntry('api.ts', { ...services.env, ENVIRONMENT: 'production', API_TOKEN: '', API_READ_TOKEN: '', PORT: '0' });
    const { code: exitCode } = await api.exited;
    assert.equal(exitCode, 1);
    assert.equal(api.stderr.length, 1);
    assert.match(api.stderr[0]!, /^vibe-tracker: API_TOKEN must be set when ENVIRONMENT=production/);
  });

  test('reads need the read or the admin token; a missing or wrong one is a 401 with a code', async () => {
    for (const path of ['/jobs', '/jobs/status', '/posts', '/sources', '/queries', '/schedule', '/backups']) {
      const anonymous = await app.request(path);
      assert.equal(anonymous.status, 401, path);
      assert.equal(await code(anonymous), 'unauthorized');
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await app.request(path, as('wrong-token'))).status, 401, path);
      assert.equal((await app.request(path, as(READER))).status, 200, path);
      assert.equal((await app.request(path, as(ADMIN))).status, 200, path);
    }
    // A prefix or an extension of a real token is a wrong token too.
    assert.equal((await app.request('/jobs', as(READER.slice(0, -1)))).status, 401);
    assert.equal((await app.request('/jobs', as(`${READER}x`))).status, 401);
  });

  test('the read token on a route that changes something is a 403; the admin token passes', async () => {
    const body = json({ source: 'trustpilot', query: 'bt.com' });
    const withRead = await app.request('/jobs/scrape', as(READER, body));
    assert.equal(withRead.status, 403);
    assert.equal(await code(withRead), 'forbidden');
    assert.equal((await app.request('/jobs/scrape', as(null, body))).status, 401);
    assert.equal((await app.request('/jobs/scrape', as(ADMIN, body))).status, 202);
    assert.equal((await app.request('/queries/1', as(READER, { method: 'DELETE' }))).status, 403);
  });

  test('/health and /ready stay open and say nothing sensitive', async () => {
    for (const path of ['/health', '/ready']) {
      const response = await app.request(path);
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.doesNotMatch(text, /pid|host|worker|postgres:\/\/|redis:\/\//i);
    }
  });

  test('POSTs that are not JSON are a 415, with or without a body: a cross-site form cannot trigger a backup', async () => {
    const cases: RequestInit[] = [
      { method: 'POST' },
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'type=manual' },
      { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' },
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"type":"manual"}' },
    ];
    for (const init of cases) {
      for (const path of ['/jobs/backup', '/jobs/00000000-0000-4000-8000-000000000000/retry', '/queries']) {
        const response = await app.request(path, as(ADMIN, init));
        assert.equal(response.status, 415, `${path} ${JSON.stringify(init.headers)}`);
        assert.equal(await code(response), 'unsupported_media_type');
      }
    }
  });

  test('GET /sources never shows credentials put in a base URL', async () => {
    const withCredentials = await appWith(loadConfig({ ...services.env, API_TOKEN: ADMIN, SOURCE_BASE_URL_GITHUB: 'https://bot:hunter2@github.example.com/api/v3' }));
    const body = (await (await withCredentials.request('/sources', as(ADMIN))).json()) as { sources: { name: string; base_url: string }[] };
    const github = body.sources.find((source) => source.name === 'github')!;
    assert.equal(github.base_url, 'https://github.example.com/api/v3');
    assert.doesNotMatch(JSON.stringify(body), /hunter2/);
  });

  test('past MAX_WAITING_JOBS an enqueue is a 503 queue_full with Retry-After, and nothing more waits', async () => {
    const queue = new JobQueue(services.redis, queueSettings(config));
    const before = (await queue.counts()).pending;
    const answers: number[] = [];
    for (let i = 0; i < 5; i++) answers.push((await app.request('/jobs/scrape', as(ADMIN, json({ source: 'trustpilot', query: `cap${i}.com` })))).status);
    assert.equal(answers.filter((status) => status === 202).length, 3 - before);
    const refused = await app.request('/jobs/scrape', as(ADMIN, json({ source: 'trustpilot', query: 'one-more.com' })));
    assert.equal(refused.status, 503);
    assert.equal(await code(refused), 'queue_full');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await queue.counts()).pending, 3);
  });

  test('past MAX_TRACKED_QUERIES a new tracked query is a 400; one already tracked is still answered', async () => {
    for (const query of ['one.example', 'two.example']) assert.equal((await app.request('/queries', as(ADMIN, json({ query })))).status, 201);
    const third = await app.request('/queries', as(ADMIN, json({ query: 'three.example' })));
    assert.equal(third.status, 400);
    assert.equal(await code(third), 'too_many_tracked_queries');
    assert.equal((await app.request('/queries', as(ADMIN, json({ query: 'one.example' })))).status, 200);
  });

  test('a backup asked for while one waits or runs is a 409 backup_running', async () => {
    const first = await app.request('/jobs/backup', as(ADMIN, json({})));
    assert.equal(first.status, 202);
    const second = await app.request('/jobs/backup', as(ADMIN, { method: 'POST', headers: { 'content-type': 'application/json' } }));
    assert.equal(second.status, 409);
    assert.equal(await code(second), 'backup_running');
  });
});

describe('the API process against floods and slow clients', () => {
  let services: TestServices;
  let api: ApiProcess;
  let base: string;

  before(async () => {
    services = await startServices('api_flood', {
      API_CLIENT_RATE_LIMIT: '3/60',
      API_HEADERS_TIMEOUT_MS: '1000',
      API_MAX_CONNECTIONS: '20',
      API_STATEMENT_TIMEOUT_MS: '300',
      API_SEARCH_CONCURRENCY: '1',
      API_SEARCH_QUEUE: '0',
    });
    api = await startApiProcess(loadConfig({ ...services.env, PORT: '0', HOST: '127.0.0.1' }), silentLogger);
    base = `http://127.0.0.1:${api.port}`;
  });
  after(async () => {
    await api?.stop();
    await services?.close();
  });

  const post = (headers: Record<string, string> = {}) =>
    fetch(`${base}/jobs/scrape`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ source: 'hackernews', query: 'flood' }) });

  test('one client address gets API_CLIENT_RATE_LIMIT changes per window, then 429 with Retry-After; another address its own', async () => {
    const first = [await post(), await post(), await post()];
    assert.deepEqual(first.map((r) => r.status), [202, 202, 202]);
    const limited = await post();
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Through a proxy on loopback (trusted by default), the address it names is the client.
    assert.equal((await post({ 'x-real-ip': '198.51.100.7' })).status, 202);
    assert.equal((await fetch(`${base}/jobs`)).status, 200, 'reads are not counted');
  });

  test('a client that sends its headers slower than API_HEADERS_TIMEOUT_MS is cut off', async () => {
    const socket = connect(api.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const closedAfter = await closed(socket, 10_000);
    assert.ok(closedAfter !== null, 'the half-sent request was never cut off');
  });

  test('sockets past API_MAX_CONNECTIONS are closed unanswered; those before them are served', async () => {
    // Each socket asks at once; keep-alive holds it open afterwards, so they all count at the same time.
    const answers = await Promise.all(
      Array.from({ length: 25 }, async () => {
        const socket = connect(api.port, '127.0.0.1');
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('connect', resolve));
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
        socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
        await closed(socket, 1_500);
        socket.destroy();
        return data.startsWith('HTTP/1.1 200');
      }),
    );
    // This process's own keep-alive connections from earlier requests count against the 20 too.
    const answered = answers.filter(Boolean).length;
    assert.ok(answered >= 15 && answered <= 20, `answered: ${answers.map(Number).join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await fetch(`${base}/health`)).status, 200);
  });

  test('a read past API_STATEMENT_TIMEOUT_MS is a 504 query_timeout; a search without a turn is a 503 busy', async () => {
    // A transaction holding an exclusive lock on posts keeps every read of it waiting.
    const locker = await services.sql.reserve();
    try {
      await locker`begin`;
      await locker`lock table posts in access exclusive mode`;
      const slowSearch = fetch(`${base}/posts?q=outage`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const crowded = await fetch(`${base}/posts?q=other`);
      assert.equal(crowded.status, 503);
      assert.equal(((await crowded.json()) as { error: { code: string } }).error.code, 'busy');
      const timedOut = await slowSearch;
      assert.equal(timedOut.status, 504);
      assert.equal(((await timedOut.json()) as { error: { code: string } }).error.code, 'query_timeout');
    } finally {
      await locker`rollback`;
      locker.release();
    }
    assert.equal((await fetch(`${base}/posts?q=outage`)).status, 200);
  });

  test('an automatic scrape of 1,000 tracked queries is enqueued, in scrape-all jobs of at most 200 children', async () => {
    const queries = Array.from({ length: 1_000 }, (_, i) => `tracked-${i}`);
    await services.sql`insert into tracked_queries (query, sources) select q, array['hackernews', 'github'] from unnest(${queries}::text[]) as q`;
    const config = loadConfig(services.env);
    const queue = new JobQueue(services.redis, { ...queueSettings(config), maxWaiting: 0 });
    const outcome = await tickHandlers({ config, sql: services.sql, queue, sources: await loadSourceRegistry(config) })['auto-scrape']();
    assert.match(outcome.note, /^2000 scrape jobs enqueued for 1000 tracked queries in 10 scrape-all jobs/);
    assert.equal((await queue.get(outcome.job_id!))?.children.length, 200);
  });
});

/** Milliseconds until the server closed the socket, or null if it stayed open for `withinMs`. */
function closed(socket: Socket, withinMs: number): Promise<number | null> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), withinMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
    socket.resume();
  });
}
