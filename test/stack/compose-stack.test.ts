// The compose stack on a real Docker engine, driven as a user drives it from docs/operations.md: scripts/start-docker.sh
// --build in a clean copy of the checkout with the .env it writes, a scrape against recorded answers, scaling,
// killing a worker mid-job, restarting Redis, a backup and its restore, a legacy import, --status, --logs, --stop
// and a start that finds the data again, then scripts/dev-docker.sh with `npm run dev` on this machine.
//
// compose.yaml is used as it is. Everything runs under a compose project of its own (and an image tag of its own),
// with nginx published on free loopback ports, so it never meets a user's stack; `after` removes the containers,
// volumes, network and images it made (`down -v`), whatever happened.
import assert from 'node:assert/strict';
import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type TestContext, after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { freePort } from '../helpers/private-redis.ts';
import { recordedEnv, recordedPort } from '../helpers/recorded-upstreams.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FINAL = new Set(['completed', 'failed', 'cancelled', 'dead']);
const UPSTREAM_BASE_PORT = 8100;
// Each answer of the fake upstream waits this long, so a three-page job is still running when a worker is killed.
const UPSTREAM_DELAY_MS = 2_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: SpawnOptions & { timeoutMs?: number; input?: string } = {}): Promise<Run> {
  const { timeoutMs = 300_000, input, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...spawnOptions });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (input !== undefined) child.stdin!.end(input);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr:\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const ok = (result: Run, what: string) => assert.equal(result.code, 0, `${what} failed (exit ${result.code}):\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the engine and Compose are, or why this file cannot run (then every test fails saying so). */
function engine(): { compose: string[] } | { missing: string } {
  if (spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status !== 0) {
    return { missing: 'no Docker engine answers `docker info`: npm run test:all starts one (or start yours)' };
  }
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return { compose: ['docker', 'compose'] };
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return { compose: ['docker-compose'] };
  return { missing: 'neither `docker compose` nor `docker-compose` is installed: apt-get install docker-compose' };
}

/** The checkout as a fresh clone has it: tracked files and new ones not ignored, so no .env, node_modules or dist. */
function cleanCopy(to: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(listed.status, 0, `git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(from, join(to, file));
    chmodSync(join(to, file), statSync(from).mode);
  }
}

/** NAME=value lines of an env file, as Compose reads them. */
function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) out[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

const setup = engine();

describe('the compose stack on a real Docker engine, as docs/operations.md drives it', { timeout: 25 * 60_000 }, () => {
  const id = randomBytes(4).toString('hex');
  const project = `vibe-stack-test-${id}`;
  const devProject = `${project}-dev`;
  const image = `vibe-stack-test:${id}`;
  const depsImage = `vibe-stack-test:${id}-deps`;
  const upstreamName = `${project}-upstream`;
  const dir = mkdtempSync(join(tmpdir(), 'vibe-stack-'));
  const work = mkdtempSync(join(tmpdir(), 'vibe-stack-work-'));
  const compose = 'compose' in setup ? setup.compose : ['docker-compose'];
  let ports = { http: 0, https: 0, devPostgres: 0, devRedis: 0, devApi: 0 };
  let env: Record<string, string> = {};
  let secrets: Record<string, string> = {};
  let agent: Agent | undefined;
  let started: { url: string; seconds: number } | undefined;
  const times: Record<string, number> = {};

  /** A command as the user types it, in the copy, with the test's settings in the environment. */
  const sh = (command: string, args: string[], timeoutMs?: number) => run(command, args, { cwd: dir, env, timeoutMs });
  const dc = (args: string[], timeoutMs?: number) => sh(compose[0]!, [...compose.slice(1), ...args], timeoutMs);
  const script = (name: string, args: string[], timeoutMs?: number) => sh('bash', [join(dir, 'scripts', name), ...args], timeoutMs);
  const containers = async (service?: string) => {
    const filters = ['--filter', `label=com.docker.compose.project=${project}`, ...(service ? ['--filter', `label=com.docker.compose.service=${service}`] : [])];
    const result = await run('docker', ['ps', '-q', '--no-trunc', ...filters]);
    return result.stdout.split('\n').filter(Boolean);
  };
  const inspect = async (container: string) => JSON.parse((await run('docker', ['inspect', container])).stdout)[0] as Record<string, any>;

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    // Every POST is JSON, with a body or without one.
    const headers: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json' } : {};
    if (secrets.API_TOKEN) headers.authorization = `Bearer ${secrets.API_TOKEN}`;
    const res = await request(`${started!.url}${path}`, { method, dispatcher: agent, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, any> };
  };
  const until = async <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const value = await check();
        if (value) return value;
      } catch (error) {
        last = error; // nginx or the API between restarts
      }
      await sleep(250);
    }
    throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
  };
  const waitForJob = (jobId: string, timeoutMs = 90_000) =>
    until(`job ${jobId} finishing`, async () => {
      const job = (await call('GET', `/jobs/${jobId}`)).json();
      return FINAL.has(job.status) ? job : undefined;
    }, timeoutMs);
  const submit = async (body: unknown) => {
    const res = await call('POST', '/jobs/scrape', body);
    assert.equal(res.status, 202, res.text);
    return res.json().id as string;
  };
  const psql = async (query: string) => {
    const result = await dc(['exec', '-T', 'postgres', 'psql', '-U', secrets.POSTGRES_USER || 'vibe', '-d', secrets.POSTGRES_DB || 'ocft_tracker', '-Atc', query]);
    ok(result, `psql ${query}`);
    return result.stdout.trim();
  };
  const startUpstream = async () => {
    const network = (await run('docker', ['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`])).stdout.trim().split('\n')[0];
    assert.ok(network, 'the stack has no network');
    // The fake upstream is the tests' own code, run by node with tsx from the image's deps stage (every dependency),
    // reading test/ and scripts/ (the harness it is built on) mounted read-only, as start-docker.sh --demo mounts them.
    ok(await run('docker', ['build', '-q', '--target', 'deps', '-t', depsImage, dir], { env: { ...env, DOCKER_BUILDKIT: '0' } }), 'building the deps stage');
    ok(
      await run('docker', [
        'run', '-d', '--name', upstreamName, '--network', network!, '--network-alias', 'upstream', '--user', 'node',
        '-v', `${join(dir, 'test')}:/app/test:ro`, '-v', `${join(dir, 'scripts')}:/app/scripts:ro`, '-w', '/app', depsImage,
        'node', '--import', 'tsx', 'test/helpers/serve-recorded.ts', '--host', '0.0.0.0', '--base-port', String(UPSTREAM_BASE_PORT),
        '--public-origin', 'http://upstream', '--delay-ms', String(UPSTREAM_DELAY_MS),
      ]),
      'starting the fake upstream container',
    );
    await until('the fake upstream saying ready', async () => (await run('docker', ['logs', upstreamName])).stdout.includes('ready'), 60_000);
  };
  const removeUpstream = () => run('docker', ['rm', '-f', upstreamName]);
  const startStack = async (args: string[]) => {
    const t0 = Date.now();
    const result = await script('start-docker.sh', args, 15 * 60_000);
    ok(result, `start-docker.sh ${args.join(' ')}`);
    return { url: result.stdout.trim().split('\n').at(-1)!, seconds: (Date.now() - t0) / 1000, stderr: result.stderr };
  };

  before(async () => {
    if ('missing' in setup) return;
    ports = { http: await freePort(), https: await freePort(), devPostgres: await freePort(), devRedis: await freePort(), devApi: await freePort() };
    cleanCopy(dir);
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? work,
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      // Without a terminal, start-docker.sh writes .env only when told to (docs/operations.md, Deployment).
      VIBE_ASSUME_YES: 'y',
      COMPOSE_PROJECT_NAME: project,
      VIBE_IMAGE: image,
      HTTP_PORT: `127.0.0.1:${ports.http}`,
      HTTPS_PORT: `127.0.0.1:${ports.https}`,
      READY_TIMEOUT: '600',
      // A killed worker's job comes back within this plus one sweep.
      JOB_LEASE_MS: '5000',
      ...recordedEnv('trustpilot', `http://upstream:${recordedPort('trustpilot', UPSTREAM_BASE_PORT)}`),
    };
  });

  after(async () => {
    if ('missing' in setup) return;
    await agent?.close();
    await removeUpstream().catch(() => {});
    await dc(['down', '-v', '--remove-orphans', '--timeout', '5']).catch(() => {});
    await run(compose[0]!, [...compose.slice(1), '-p', devProject, '-f', 'compose.yaml', '-f', 'compose.dev.yaml', 'down', '-v', '--timeout', '5'], { cwd: dir, env }).catch(() => {});
    await run('docker', ['rmi', '-f', image, depsImage]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const step = (name: string, fn: (t: TestContext) => Promise<void> | void) =>
    test(name, async (t) => {
      if ('missing' in setup) assert.fail(setup.missing);
      const t0 = Date.now();
      await fn(t);
      times[name] = (Date.now() - t0) / 1000;
    });

  step('scripts/start-docker.sh --build, from a clean copy without .env, waits for /ready through nginx and prints the URL', async (t) => {
    assert.ok(!existsSync(join(dir, '.env')));
    const first = await startStack(['--build']);
    started = first;
    t.diagnostic(`start-docker.sh --build to ready: ${first.seconds.toFixed(1)} s`);
    assert.equal(first.url, `https://127.0.0.1:${ports.https}`);
    assert.match(first.stderr, /wrote a random POSTGRES_PASSWORD REDIS_PASSWORD API_TOKEN API_READ_TOKEN into \.env/);
    // The secrets it generated, read back from .env as the rest of this file uses them.
    secrets = readEnvFile(join(dir, '.env'));
    for (const name of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'API_TOKEN', 'API_READ_TOKEN']) assert.match(secrets[name] ?? '', /^[0-9a-f]{48}$/, name);
    assert.equal(statSync(join(dir, '.env')).mode & 0o777, 0o600);
    // The certificate tls-init made, copied out as docs/operations.md says (`docker cp`, which Compose 1.29 lacks as `cp`).
    const [nginx] = await containers('nginx');
    ok(await run('docker', ['cp', `${nginx}:/etc/nginx/tls/tls.crt`, join(work, 'tls.crt')]), 'docker cp of the certificate');
    agent = new Agent({ connect: { ca: readFileSync(join(work, 'tls.crt')) } });
    const ready = await call('GET', '/ready');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.json(), { status: 'ready', redis: 'ok', postgres: 'ok' });
    // Closed by default: without a token nothing is read or changed, and the read token changes nothing.
    const anonymous = await request(`${started!.url}/jobs`, { dispatcher: agent });
    assert.equal(anonymous.statusCode, 401);
    await anonymous.body.dump();
    const reader = await request(`${started!.url}/jobs/backup`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets.API_READ_TOKEN}` }, body: '{}' });
    assert.equal(reader.statusCode, 403);
    await reader.body.dump();
  });

  step('the build context holds only what the Dockerfile copies', async () => {
    // The context as the engine receives it (after .dockerignore), copied whole into an image of nothing else.
    const tag = `${image}-context`;
    ok(await run('docker', ['build', '-q', '-t', tag, '-f', '-', dir], { env: { ...env, DOCKER_BUILDKIT: '0' }, input: 'FROM scratch\nCOPY . /context/\n' }), 'building the context image');
    try {
      const created = await run('docker', ['create', tag, '/none']);
      ok(created, 'docker create');
      const listing = await run('sh', ['-c', `docker export ${created.stdout.trim()} | tar -t; docker rm ${created.stdout.trim()} >/dev/null`]);
      const files = listing.stdout.split('\n').filter((line) => line.startsWith('context/') && !line.endsWith('/')).map((line) => line.slice('context/'.length));
      const allowed = /^(package\.json|package-lock\.json|tsconfig\.json|tsconfig\.build\.json|api\.ts|worker\.ts|scheduler\.ts|lib\/.+|sql\/.+|scripts\/(build\.sh|migrate\.ts|import-legacy\.ts|restore\.sh))$/;
      assert.deepEqual(files.filter((file) => !allowed.test(file)), [], 'files in the build context that the image does not need');
      for (const needed of ['package-lock.json', 'lib/queue/lua/claim-3.lua', 'sql/0001_init.sql', 'scripts/restore.sh']) assert.ok(files.includes(needed), needed);
    } finally {
      await run('docker', ['rmi', '-f', tag]);
    }
  });

  step('plain HTTP is redirected to the published HTTPS port, and /nginx-health answers only inside the container', async () => {
    const res = await request(`http://127.0.0.1:${ports.http}/posts?limit=1`);
    await res.body.dump();
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers.location, `https://127.0.0.1:${ports.https}/posts?limit=1`);
    const outside = await call('GET', '/nginx-health');
    assert.equal(outside.status, 404, outside.text);
    const [nginx] = await containers('nginx');
    const inside = await run('docker', ['exec', nginx!, 'curl', '-fsk', 'https://127.0.0.1/nginx-health']);
    ok(inside, 'curl /nginx-health inside the nginx container');
    // Its first health check runs one interval (15 s) after the start.
    await until('nginx healthy', async () => (await inspect(nginx!)).State.Health?.Status === 'healthy', 60_000);
  });

  step('only nginx publishes ports, on loopback; the app runs as an unprivileged user; Redis keeps an AOF and never evicts', async () => {
    const all = await containers();
    assert.ok(all.length >= 6, `expected the stack's containers, found ${all.length}`);
    for (const container of all) {
      const info = await inspect(container);
      const service = info.Config.Labels['com.docker.compose.service'] as string;
      const bindings = Object.values((info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp: string }[] | null>).flat().filter(Boolean);
      if (service === 'nginx') {
        assert.equal(bindings.length, 2, JSON.stringify(bindings));
        assert.ok(bindings.every((binding) => binding!.HostIp === '127.0.0.1'), JSON.stringify(bindings));
      } else {
        assert.deepEqual(bindings, [], `${service} publishes ${JSON.stringify(bindings)}`);
      }
      assert.deepEqual(info.HostConfig.CapDrop, ['ALL'], `${service} keeps its capabilities`);
      assert.ok((info.HostConfig.SecurityOpt ?? []).includes('no-new-privileges:true'), `${service} may gain privileges`);
      assert.equal(info.HostConfig.ReadonlyRootfs, true, `${service} has a writable root file system`);
      assert.ok(info.HostConfig.Memory > 0, `${service} has no memory limit`);
      if (['api', 'worker', 'scheduler'].includes(service)) {
        const uid = await run('docker', ['exec', container, 'id', '-u']);
        assert.equal(uid.stdout.trim(), '1000', `${service} runs as uid ${uid.stdout.trim()}`);
      }
    }
    const [redis] = await containers('redis');
    const config = await run('docker', ['exec', redis!, 'redis-cli', 'CONFIG', 'GET', '*']);
    const values = config.stdout.trim().split('\n');
    const get = (name: string) => values[values.indexOf(name) + 1];
    assert.equal(get('appendonly'), 'yes');
    assert.equal(get('appendfsync'), 'everysec');
    assert.equal(get('maxmemory-policy'), 'noeviction');
  });

  step('a scrape against a fake upstream container on the compose network stores posts that GET /posts lists', async () => {
    await startUpstream();
    const job = await waitForJob(await submit({ source: 'trustpilot', query: 'bt.com', limit: 20 }));
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual([job.result.found, job.result.inserted], [20, 20]);
    const posts = await call('GET', '/posts?source=trustpilot&limit=50');
    assert.equal(posts.status, 200);
    assert.equal(posts.json().posts.length, 20);
  });

  step('--scale worker=3 runs three workers that heartbeat', async () => {
    ok(await dc(['up', '-d', '--scale', 'worker=3']), 'up -d --scale worker=3');
    assert.equal((await containers('worker')).length, 3);
    await until('three workers heartbeating', async () => {
      const status = (await call('GET', '/jobs/status')).json();
      return new Set((status.workers as { host: string }[]).map((worker) => worker.host)).size >= 3;
    });
  });

  step('a worker container killed with SIGKILL mid-job: the job completes on another worker after the lease', async () => {
    const jobId = await submit({ source: 'trustpilot', query: 'bt.com', limit: 60, full_rescan: true });
    const running = await until('the job running', async () => {
      const job = (await call('GET', `/jobs/${jobId}`)).json();
      return job.status === 'running' && job.worker ? job : undefined;
    });
    const victim = (await containers('worker')).find((container) => (running.worker as string).startsWith(container.slice(0, 12)));
    assert.ok(victim, `no worker container runs ${running.worker}`);
    ok(await run('docker', ['kill', '-s', 'KILL', victim!]), 'docker kill');
    const job = await waitForJob(jobId, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.attempts, 2);
    assert.notEqual(job.worker, running.worker);
    assert.equal(job.result.found, 60);
  });

  step('`restart redis` while jobs run: every job the API acknowledged completes', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 6; i++) accepted.push(await submit({ source: 'trustpilot', query: 'bt.com', limit: 20, full_rescan: true }));
    ok(await dc(['restart', 'redis']), 'restart redis');
    // Submitted while Redis comes back: a 503 is a refusal the client sees, a 202 a promise.
    for (let i = 0; i < 3; i++) {
      accepted.push(await until('a submission accepted after the restart', async () => {
        const res = await call('POST', '/jobs/scrape', { source: 'trustpilot', query: 'bt.com', limit: 20, full_rescan: true });
        return res.status === 202 ? (res.json().id as string) : undefined;
      }));
    }
    for (const jobId of accepted) {
      const job = await waitForJob(jobId, 180_000);
      assert.equal(job.status, 'completed', `${jobId}: ${JSON.stringify(job.error)}`);
    }
  });

  step('a backup job leaves a dump in the volume that pg_restore reads, and scripts/restore.sh --yes restores it', async () => {
    const submitted = await call('POST', '/jobs/backup');
    assert.equal(submitted.status, 202, submitted.text);
    const job = await waitForJob(submitted.json().id);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const backups = (await call('GET', '/backups')).json().backups as { name: string; type: string; size_bytes: number }[];
    const backup = backups.find((entry) => entry.type === 'manual');
    assert.ok(backup && backup.size_bytes > 0, JSON.stringify(backups));
    const file = `/var/lib/vibe/backups/${backup!.name}`;
    const [worker] = await containers('worker');
    const list = await run('docker', ['exec', worker!, 'pg_restore', '--list', file]);
    ok(list, 'pg_restore --list');
    assert.match(list.stdout, /TABLE DATA public posts/);

    const before = await psql('select count(*) from posts');
    assert.ok(Number(before) >= 20);
    await psql('delete from posts');
    // docs/operations.md, Backups and restore: stop what writes, restore, start again.
    ok(await dc(['stop', 'scheduler', 'worker']), 'stop scheduler worker');
    const restored = await dc(['run', '--rm', 'worker', 'scripts/restore.sh', file, '--yes']);
    ok(restored, 'restore.sh');
    assert.match(restored.stdout + restored.stderr, /restored into ocft_tracker/);
    ok(await dc(['start', 'worker', 'scheduler']), 'start worker scheduler');
    assert.equal(await psql('select count(*) from posts'), before);
  });

  step('--migrate FILE --dry-run counts what a legacy export would add and writes nothing; without --dry-run it imports', async () => {
    const file = join(work, 'posts.csv');
    copyFileSync(join(ROOT, 'test/fixtures/legacy/posts-export-synthetic.csv'), file);
    chmodSync(file, 0o644);
    const report = (result: Run) => JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { dryRun: boolean; inserted: number; rowsRead: number };
    const legacy = () => psql("select count(*) from posts where extra->>'legacy' = 'true'");
    const dry = await script('start-docker.sh', ['--migrate', file, '--dry-run']);
    ok(dry, '--migrate --dry-run');
    assert.equal(report(dry).dryRun, true);
    assert.ok(report(dry).inserted > 0, dry.stdout);
    assert.equal(await legacy(), '0');
    const real = await script('start-docker.sh', ['--migrate', file]);
    ok(real, '--migrate');
    assert.equal(report(real).inserted, report(dry).inserted);
    assert.equal(await legacy(), String(report(dry).inserted));
  });

  step('--status shows the services, the queue and the URL; --logs follows a service', async () => {
    const status = await script('start-docker.sh', ['--status']);
    ok(status, '--status');
    assert.match(status.stdout, /nginx/);
    assert.match(status.stdout, /queue \(vibe\):/);
    assert.match(status.stdout, /pending 0/);
    assert.match(status.stdout, /worker_heartbeats [1-9]/);
    assert.match(status.stdout, new RegExp(`url: https://127\\.0\\.0\\.1:${ports.https}`));

    // --logs follows (-f): read until the API's own JSON lines show, then end it and what it started, by process group.
    const child = spawn('bash', [join(dir, 'scripts/start-docker.sh'), '--logs', 'api'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await until('--logs api printing the API log', async () => /"event":"api_listening"|"event":/.test(out), 30_000);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    assert.match(out, /api/);
  });

  step('--stop removes the containers and keeps the volumes; starting again finds the data', async (t) => {
    const posts = await psql('select count(*) from posts');
    const backups = (await call('GET', '/backups')).json().backups as unknown[];
    // Not part of the stack: it would hold the network that `down` removes.
    await removeUpstream();
    ok(await script('start-docker.sh', ['--stop'], 180_000), '--stop');
    assert.deepEqual(await containers(), []);
    const volumes = (await run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`])).stdout;
    for (const name of ['pgdata', 'redisdata', 'backups', 'tls']) assert.match(volumes, new RegExp(`_${name}$`, 'm'));

    const again = await startStack([]);
    t.diagnostic(`start-docker.sh (no build, volumes kept) to ready: ${again.seconds.toFixed(1)} s`);
    assert.equal(again.url, started!.url);
    assert.equal(await psql('select count(*) from posts'), posts);
    assert.equal(((await call('GET', '/backups')).json().backups as unknown[]).length, backups.length);
    // The certificate is the same one: the client that trusted it still does.
    assert.equal((await call('GET', '/ready')).status, 200);
  });

  step('scripts/dev-docker.sh --postgres publishes the ports .env names, and npm run migrate && npm run dev run against them', async () => {
    // The ports in .env, not the shell: compose publishes what .env says, and the script must print the same.
    const envFile = join(dir, '.env');
    const text = readFileSync(envFile, 'utf8')
      .replace(/^DEV_POSTGRES_PORT=.*$/m, `DEV_POSTGRES_PORT=${ports.devPostgres}`)
      .replace(/^DEV_REDIS_PORT=.*$/m, `DEV_REDIS_PORT=${ports.devRedis}`);
    writeFileSync(envFile, text);
    const devEnv = { ...env, DEV_PROJECT_NAME: devProject };
    const up = await run('bash', [join(dir, 'scripts/dev-docker.sh'), '--postgres'], { cwd: dir, env: devEnv, timeoutMs: 300_000 });
    ok(up, 'dev-docker.sh --postgres');
    const exported = Object.fromEntries([...up.stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    assert.equal(exported.DATABASE_URL, `postgres://vibe:${secrets.POSTGRES_PASSWORD}@127.0.0.1:${ports.devPostgres}/ocft_tracker`);
    assert.equal(exported.REDIS_URL, `redis://:${secrets.REDIS_PASSWORD}@127.0.0.1:${ports.devRedis}/0`, "still behind the password");
    // compose.dev.yaml publishes them on loopback only.
    const devContainers = (await run('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${devProject}`])).stdout.split('\n').filter(Boolean);
    assert.equal(devContainers.length, 2);
    for (const container of devContainers) {
      const bindings = Object.values(((await inspect(container)).HostConfig.PortBindings ?? {}) as Record<string, { HostIp: string }[]>).flat();
      assert.ok(bindings.length > 0 && bindings.every((binding) => binding.HostIp === '127.0.0.1'), JSON.stringify(bindings));
    }

    // On this machine, from the copy (its node_modules are the checkout's), with what the script printed exported.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const hostEnv = { ...env, ...exported, PORT: String(ports.devApi), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    ok(await run('npm', ['run', 'migrate'], { cwd: dir, env: hostEnv, timeoutMs: 120_000 }), 'npm run migrate');
    const dev = spawn('npm', ['run', 'dev', '--', '--no-watch'], { cwd: dir, env: hostEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    dev.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    dev.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => dev.on('exit', (code) => resolve(code)));
    try {
      await until('npm run dev answering /ready', async () => {
        const res = await request(`http://127.0.0.1:${ports.devApi}/ready`);
        await res.body.dump();
        return res.statusCode === 200;
      }, 90_000).catch((error: Error) => {
        throw new Error(`${error.message}; npm run dev printed:\n${out.slice(-3000)}`);
      });
    } finally {
      // Ctrl-C reaches the whole foreground group: npm, the dev script and what it started.
      process.kill(-dev.pid!, 'SIGINT');
    }
    await exited;
    ok(await run('bash', [join(dir, 'scripts/dev-docker.sh'), '--stop'], { cwd: dir, env: devEnv, timeoutMs: 120_000 }), 'dev-docker.sh --stop');
  });

  test('reports what each step took', (t) => {
    for (const [name, seconds] of Object.entries(times)) t.diagnostic(`${seconds.toFixed(1)} s  ${name}`);
  });
});
