// compose.yaml checked by a real Compose implementation's `config`, without an engine: it must resolve, refuse to
// without POSTGRES_PASSWORD, and keep the properties the stack relies on. test/stack/compose-stack.test.ts runs it for real.
// Also nginx's template rendered with compose's values and served by a real nginx on loopback.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BACKUP_DIR = '/var/lib/vibe/backups';

const version = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
const missing = version.error ? 'docker-compose is not installed: apt-get install docker-compose' : false;
const isV1 = /^1\./.test(version.stdout?.trim() ?? '');

interface Service {
  image?: string;
  command?: string[] | string;
  container_name?: string;
  ports?: unknown[];
  restart?: string;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  mem_limit?: string | number;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  read_only?: boolean;
}

interface ComposeConfig {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const work = mkdtempSync(join(tmpdir(), 'vibe-compose-'));
// An empty env file instead of the working tree's .env, so a developer's settings cannot change the outcome.
const emptyEnvFile = join(work, 'empty.env');
writeFileSync(emptyEnvFile, '');

function runConfig(env: Record<string, string>, files = ['compose.yaml']) {
  const args = ['--env-file', emptyEnvFile, ...files.flatMap((file) => ['-f', file]), 'config', ...(isV1 ? [] : ['--format', 'json'])];
  return spawnSync('docker-compose', args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, ...env },
    encoding: 'utf8',
  });
}

function loadConfig(files?: string[]): ComposeConfig {
  const result = runConfig({ POSTGRES_PASSWORD: 'test-pw', REDIS_PASSWORD: 'redis-pw' }, files);
  assert.equal(result.status, 0, `docker-compose config failed:\n${result.stderr}`);
  if (!isV1) return JSON.parse(result.stdout) as ComposeConfig;
  // docker-compose 1.x prints only YAML; it is a Python program, so Python and its YAML module are there with it.
  const json = spawnSync('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: result.stdout,
    encoding: 'utf8',
  });
  assert.equal(json.status, 0, `could not read docker-compose's YAML with python3: ${json.stderr}`);
  return JSON.parse(json.stdout) as ComposeConfig;
}

/** source → target of a service's volumes, whichever syntax the Compose version prints. */
function mounts(service: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const volume of service.volumes ?? []) {
    if (typeof volume === 'string') {
      const [source, target] = volume.split(':');
      out[source!] = target!;
    } else if (volume.source && volume.target) {
      out[volume.source] = volume.target;
    }
  }
  return out;
}

function dependsOn(service: Service): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

/** Every variable the app reads: config.ts, and the sources' settings and reads. */
function appVariables(): string[] {
  const names = new Set<string>();
  const collect = (text: string, re: RegExp) => {
    for (const match of text.matchAll(re)) names.add(match[1]!);
  };
  collect(readFileSync(join(ROOT, 'lib/config.ts'), 'utf8'), /read\.\w+\('([A-Z][A-Z0-9_]*)'/g);
  for (const file of readdirSync(join(ROOT, 'lib/sources')).filter((name) => name.endsWith('.ts'))) {
    const text = readFileSync(join(ROOT, 'lib/sources', file), 'utf8');
    collect(text, /name: '([A-Z][A-Z0-9_]*)'/g);
    collect(text, /\benv\.\w+\('([A-Z][A-Z0-9_]*)'/g);
  }
  return [...names].sort();
}

// Without docker-compose every check fails saying how to install it (.ci/run does): compose.yaml is never left unchecked.
const check = (name: string, fn: () => void) =>
  test(name, () => {
    if (missing) assert.fail(missing);
    fn();
  });

describe('compose.yaml, as docker-compose resolves it', () => {
  after(() => rmSync(work, { recursive: true, force: true }));
  const config = missing ? ({ services: {} } as ComposeConfig) : loadConfig();
  const { services } = config;

  check('runs every container with a memory limit, no capability it does not need, no way to gain privileges', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.mem_limit, `${name} has no mem_limit`);
      assert.deepEqual(service.cap_drop, ['ALL'], `${name} keeps its capabilities`);
      assert.ok(service.security_opt?.includes('no-new-privileges:true'), `${name} may gain privileges`);
      assert.equal(service.read_only, true, `${name} has a writable root file system`);
    }
    for (const name of ['api', 'worker', 'scheduler', 'migrate', 'tls-init']) assert.equal(services[name]!.cap_add, undefined, `${name} runs as node and needs no capability`);
    assert.deepEqual([...(services.nginx!.cap_add ?? [])].sort(), ['CHOWN', 'DAC_OVERRIDE', 'NET_BIND_SERVICE', 'SETGID', 'SETUID']);
  });

  check('runs Redis behind a password, which every app process and redis-cli in its container have', () => {
    const command = ([] as string[]).concat(services.redis!.command ?? []);
    assert.equal(command[command.indexOf('--requirepass') + 1], 'redis-pw');
    assert.equal(services.redis!.environment?.REDISCLI_AUTH, 'redis-pw');
    const result = runConfig({ POSTGRES_PASSWORD: 'test-pw' });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /set REDIS_PASSWORD in \.env/);
  });

  check('passes both API tokens to the app processes', () => {
    for (const name of ['api', 'worker', 'scheduler']) {
      const env = services[name]!.environment ?? {};
      assert.ok('API_TOKEN' in env && 'API_READ_TOKEN' in env, name);
    }
  });

  check('has every service of the stack', () => {
    for (const name of ['postgres', 'redis', 'migrate', 'api', 'worker', 'scheduler', 'nginx']) {
      assert.ok(services[name], `service ${name} is missing`);
    }
    assert.equal(services.postgres!.image, 'postgres:15-bookworm', "the app image's pg_dump is PostgreSQL 15's");
  });

  check('refuses to resolve without POSTGRES_PASSWORD, saying where to set it', () => {
    const result = runConfig({});
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /set POSTGRES_PASSWORD in \.env/);
  });

  check('gives the app processes a DATABASE_URL built from POSTGRES_PASSWORD, and the compose services as addresses', () => {
    for (const name of ['migrate', 'api', 'worker', 'scheduler']) {
      const env = services[name]!.environment ?? {};
      assert.equal(env.DATABASE_URL, 'postgres://vibe:test-pw@postgres:5432/ocft_tracker', name);
      assert.equal(env.REDIS_URL, 'redis://:redis-pw@redis:6379/0', name);
    }
    assert.equal(services.api!.environment?.WORKERS, '4');
  });

  check('publishes no port of PostgreSQL or Redis, and 80 and 443 of nginx', () => {
    assert.equal(services.postgres!.ports, undefined);
    assert.equal(services.redis!.ports, undefined);
    const published = JSON.stringify(services.nginx!.ports);
    assert.match(published, /\b80\b/);
    assert.match(published, /\b443\b/);
  });

  check('runs Redis with an append-only file synced every second and no eviction', () => {
    const command = [services.redis!.command ?? []].flat().join(' ');
    assert.match(command, /--appendonly yes/);
    assert.match(command, /--appendfsync everysec/);
    assert.match(command, /--maxmemory-policy noeviction/);
  });

  check('starts api, worker and scheduler only after migrate completed and the databases are healthy', () => {
    for (const name of ['api', 'worker', 'scheduler']) {
      assert.deepEqual(
        dependsOn(services[name]!),
        { migrate: 'service_completed_successfully', postgres: 'service_healthy', redis: 'service_healthy' },
        name,
      );
    }
    assert.equal(dependsOn(services.migrate!).postgres, 'service_healthy');
    assert.deepEqual([services.migrate!.command].flat(), ['node', 'dist/scripts/migrate.js']);
  });

  check('lets the worker scale: no fixed container name', () => {
    assert.equal(services.worker!.container_name, undefined);
  });

  check('restarts and health-checks every long-running service', () => {
    for (const name of ['postgres', 'redis', 'api', 'worker', 'scheduler', 'nginx']) {
      assert.equal(services[name]!.restart, 'unless-stopped', name);
      const check = services[name]!.healthcheck;
      assert.ok(check?.test && !check.disable, `${name} has no health check`);
    }
    assert.match([services.api!.healthcheck!.test].flat().join(' '), /\/ready/);
  });

  check('keeps PostgreSQL data, Redis data and backups in named volumes, backups shared by workers and the API', () => {
    for (const name of ['pgdata', 'redisdata', 'backups']) assert.ok(config.volumes && name in config.volumes, `volume ${name}`);
    assert.equal(mounts(services.postgres!).pgdata, '/var/lib/postgresql/data');
    assert.equal(mounts(services.redis!).redisdata, '/data');
    for (const name of ['worker', 'api']) {
      assert.equal(mounts(services[name]!).backups, BACKUP_DIR, name);
      assert.equal(services[name]!.environment?.BACKUP_DIR, BACKUP_DIR, name);
    }
  });

  check('passes every variable the app reads to its containers', () => {
    const passed = new Set(Object.keys(services.worker!.environment ?? {}));
    const absent = appVariables().filter((name) => !passed.has(name));
    assert.deepEqual(absent, [], `add these to x-app-env in compose.yaml (a bare \`NAME:\` passes it through): ${absent.join(', ')}`);
  });

  check("renders nginx's template, as the nginx image does with compose's values, into a configuration nginx accepts", () => {
    const nginx = ['/usr/sbin/nginx', ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'nginx'))].find((file) => spawnSync(file, ['-v']).status === 0);
    assert.ok(nginx, 'nginx is not installed: apt-get install nginx (only its binary is used, to check the configuration)');
    const dir = join(work, 'nginx');
    mkdirSync(join(dir, 'conf.d'), { recursive: true });
    execFileSync('sh', [join(ROOT, 'nginx/ensure-cert.sh'), join(dir, 'tls')], { stdio: 'ignore' });
    // Compose's values, but the certificate and the log where this machine has them.
    const env: Record<string, string> = {
      ...(services.nginx!.environment as Record<string, string>),
      VIBE_TLS_DIR: join(dir, 'tls'),
      VIBE_ACCESS_LOG: join(dir, 'access.log'),
    };
    assert.equal(env.NGINX_ENVSUBST_FILTER, 'VIBE_');
    assert.equal(env.VIBE_UPSTREAM, 'api:8000');
    const template = readFileSync(join(ROOT, 'nginx/templates/default.conf.template'), 'utf8');
    // What the image's 20-envsubst-on-templates.sh does: replace $NAME and ${NAME} of defined VIBE_* variables only.
    const rendered = template.replace(/\$\{(VIBE_\w*)\}|\$(VIBE_\w*)/g, (match, braced?: string, bare?: string) => env[(braced ?? bare)!] ?? match);
    assert.doesNotMatch(rendered, /\$\{?VIBE_/, 'a VIBE_ variable of the template has no value in compose.yaml');
    writeFileSync(join(dir, 'conf.d/default.conf'), rendered);
    // The image's own nginx.conf, reduced to what matters here: the http block that includes conf.d/*.conf.
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid ${dir}/nginx.pid;\nevents {}\nhttp {\n  default_type application/octet-stream;\n  sendfile on;\n  keepalive_timeout 65;\n` +
        ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${dir}/${name};\n`).join('') +
        `  include ${dir}/conf.d/*.conf;\n}\n`,
    );
    const result = spawnSync(nginx, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  check('with compose.dev.yaml, publishes PostgreSQL and Redis on 127.0.0.1 only', () => {
    const dev = loadConfig(['compose.yaml', 'compose.dev.yaml']).services;
    for (const [name, port] of [['postgres', 5432], ['redis', 6379]] as const) {
      const published = JSON.stringify(dev[name]!.ports);
      assert.match(published, new RegExp(`${port}`), name);
      assert.match(published, /127\.0\.0\.1/, name);
      assert.doesNotMatch(published, /0\.0\.0\.0/, name);
    }
  });
});
