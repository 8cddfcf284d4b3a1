// The whole stack as scripts/local-stack.sh starts it (the API with WORKERS processes, two workers, the scheduler and
// Debian's nginx with the compose template), driven through nginx over HTTPS like a client of the compose stack.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { freePort } from './helpers/private-redis.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { serveBt } from './helpers/trustpilot-upstream.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/local-stack.sh');

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    // Niced, with everything it starts: the other test files running beside this one time things; this one waits.
    const child = spawn('nice', ['-n', '10', 'bash', SCRIPT, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local-stack.sh ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function nginxInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v nginx || test -x /usr/sbin/nginx'], { stdio: 'ignore' }).status === 0;
}

/** Running, and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** pid → parent pid of every process, from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
      map.set(Number(name), Number(fields[1]));
    } catch {
      // ended while we looked
    }
  }
  return map;
}

function descendants(pid: number, map = parents()): number[] {
  const children = [...map].filter(([, parent]) => parent === pid).map(([child]) => child);
  return children.flatMap((child) => [child, ...descendants(child, map)]);
}

describe('the local stack behind nginx', () => {
  let services: TestServices;
  let upstream: FakeUpstream;
  let dir: string;
  let env: Record<string, string>;
  let ports: { api: number; http: number; https: number };
  let started: Record<string, string> = {};
  let agent: Agent;
  let stopped = false;

  before(async () => {
    // Not a skip: CI installs nginx, and a stack test that quietly does not run proves nothing.
    assert.ok(nginxInstalled(), 'nginx is not installed: apt-get install nginx (its binary is used; the service need not run)');
    services = await startServices('local_stack');
    upstream = await startFakeUpstream();
    serveBt(upstream);
    dir = mkdtempSync(join(tmpdir(), 'vibe-local-stack-'));
    ports = { api: await freePort(), http: await freePort(), https: await freePort() };
    env = {
      ...services.env,
      LOG_LEVEL: 'info',
      SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl,
      API_PORT: String(ports.api),
      HTTP_PORT: String(ports.http),
      HTTPS_PORT: String(ports.https),
      WORKERS: '2',
      WORKERS_COUNT: '2',
      BACKUP_DIR: join(dir, 'backups'),
    };
    // --dev: the sources through tsx, as the suite runs before `npm run build` in CI.
    const run = await runScript(['start', '--dir', dir, '--dev'], env);
    assert.equal(run.code, 0, `local-stack.sh start failed:\n${run.stderr}`);
    started = Object.fromEntries(run.stdout.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
    // Trust exactly the stack's self-signed certificate, for this agent only.
    agent = new Agent({ connect: { ca: readFileSync(started.CA_CERT!) } });
  });

  after(async () => {
    if (dir && !stopped) await runScript(['stop', '--dir', dir], env).catch(() => {});
    await agent?.close();
    await upstream?.close();
    await services?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await request(`${started.URL}${path}`, {
      method,
      dispatcher: agent,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, any> };
  };

  const waitForJob = async (id: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let job: Record<string, any> = {};
    while (Date.now() < deadline) {
      job = (await call('GET', `/jobs/${id}`)).json();
      if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`job ${id} did not finish; last seen: ${JSON.stringify(job)}`);
  };

  test('start prints the HTTPS URL nginx serves and records every process it started', () => {
    assert.equal(started.URL, `https://127.0.0.1:${ports.https}`);
    const names = readFileSync(join(dir, 'pids'), 'utf8').trim().split('\n').map((line) => line.split(' ')[1]);
    assert.deepEqual(names, ['api', 'worker-1', 'worker-2', 'scheduler', 'nginx']);
  });

  test('plain HTTP is redirected to the same path over HTTPS', async () => {
    const res = await request(`http://127.0.0.1:${ports.http}/jobs?limit=1`);
    await res.body.dump();
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, `https://127.0.0.1:${ports.https}/jobs?limit=1`);
  });

  test('GET /ready answers 200 through nginx, with the security headers and a request id', async () => {
    const res = await call('GET', '/ready');
    assert.equal(res.status, 200);
    assert.equal(res.json().status, 'ready');
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'none'/);
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f]{32}$/);
    const mine = await call('GET', '/ready', undefined, { 'x-request-id': 'test-correlation-1' });
    assert.equal(mine.headers['x-request-id'], 'test-correlation-1');
  });

  test('JSON is gzipped for a client that accepts it', async () => {
    const res = await request(`${started.URL}/sources`, { dispatcher: agent, headers: { 'accept-encoding': 'gzip' } });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
  });

  test('a body over 64 KB is refused at nginx, in the API error shape', async () => {
    const res = await call('POST', '/jobs/scrape', JSON.stringify({ query: 'x'.repeat(70_000) }));
    assert.equal(res.status, 413);
    assert.equal(res.json().error.code, 'payload_too_large');
  });

  test('a scrape submitted through nginx runs on a worker and completes', async () => {
    const submitted = await call('POST', '/jobs/scrape', { source: 'trustpilot', query: 'bt.com', limit: 20 });
    assert.equal(submitted.status, 202, submitted.text);
    const job = await waitForJob(submitted.json().id);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.result.found, 20);
    assert.equal(job.result.inserted, 20);
  });

  test('a backup job writes a dump into BACKUP_DIR that GET /backups lists', async () => {
    const submitted = await call('POST', '/jobs/backup', {});
    assert.equal(submitted.status, 202, submitted.text);
    assert.equal(submitted.json().kind, 'backup');
    const job = await waitForJob(submitted.json().id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const listed = await call('GET', '/backups');
    assert.equal(listed.status, 200);
    const backups = listed.json().backups as { name: string; type: string; size_bytes: number; created_at: string }[];
    assert.ok(backups.length >= 1, listed.text);
    const backup = backups.find((entry) => entry.type === 'manual')!;
    assert.ok(backup, listed.text);
    assert.ok(backup.size_bytes > 0);
    assert.ok(!Number.isNaN(Date.parse(backup.created_at)));
    assert.equal(statSync(join(env.BACKUP_DIR!, backup.name)).size, backup.size_bytes);
  });

  test('stop ends every process the stack started, their children included, and no other', async () => {
    const recorded = readFileSync(join(dir, 'pids'), 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[0]));
    const map = parents();
    const all = recorded.flatMap((pid) => [pid, ...descendants(pid, map)]);
    // The API's two cluster processes and nginx's workers are there too.
    assert.ok(all.length >= recorded.length + 4, `expected children under ${recorded.join(', ')}, found ${all.join(', ')}`);
    assert.ok(all.every(alive), 'every recorded process runs before stop');
    const run = await runScript(['stop', '--dir', dir], env);
    stopped = true;
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(all.filter(alive), [], 'processes left running after stop');
    assert.ok(!existsSync(join(dir, 'pids')));
    assert.ok(alive(process.pid), 'the test runner itself was left alone');
  });
});
