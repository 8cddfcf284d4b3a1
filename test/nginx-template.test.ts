// nginx/templates/default.conf.template served by a real nginx on loopback, rendered as the image renders it, for
// what depends on the values rather than the syntax: the redirect's port, and who /nginx-health answers.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { freePort, waitForPort } from './helpers/private-redis.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NGINX = ['/usr/sbin/nginx', ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'nginx'))].find((file) => spawnSync(file, ['-v']).status === 0);

interface Served {
  http: number;
  https: number;
  stop(): Promise<void>;
}

const work = mkdtempSync(join(tmpdir(), 'vibe-nginx-template-'));

/** The template with `publicHttpsPort` as VIBE_PUBLIC_HTTPS_PORT, served on free loopback ports, in front of `upstream` (none by default). */
async function serve(publicHttpsPort: string, tlsDir = join(work, 'tls'), upstream?: string): Promise<Served> {
  const dir = mkdtempSync(join(work, 'nginx-'));
  mkdirSync(join(dir, 'conf.d'));
  execFileSync('sh', [join(ROOT, 'nginx/ensure-cert.sh'), join(work, 'tls')], { stdio: 'ignore' });
  const http = await freePort();
  const https = await freePort();
  const env: Record<string, string> = {
    VIBE_UPSTREAM: upstream ?? `127.0.0.1:${await freePort()}`,
    VIBE_RESOLVER: '127.0.0.1',
    VIBE_HTTP_LISTEN: `127.0.0.1:${http}`,
    VIBE_HTTPS_LISTEN: `127.0.0.1:${https}`,
    VIBE_PUBLIC_HTTPS_PORT: publicHttpsPort,
    VIBE_TLS_DIR: tlsDir,
    VIBE_ACCESS_LOG: join(dir, 'access.log'),
  };
  const template = readFileSync(join(ROOT, 'nginx/templates/default.conf.template'), 'utf8');
  writeFileSync(join(dir, 'conf.d/default.conf'), template.replace(/\$\{(VIBE_\w*)\}/g, (match, name: string) => env[name] ?? match));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}daemon off;\npid ${dir}/nginx.pid;\nevents {}\nhttp {\n` +
      ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${dir}/${name};\n`).join('') +
      `  include ${dir}/conf.d/*.conf;\n}\n`,
  );
  const child: ChildProcess = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  await waitForPort(https);
  return {
    http,
    https,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const location = async (port: number) => {
  const res = await request(`http://127.0.0.1:${port}/jobs?limit=1`);
  await res.body.dump();
  assert.equal(res.statusCode, 301);
  return res.headers.location;
};

describe('the nginx template, served', () => {
  const servers: Served[] = [];
  let agent: Agent;
  before(async () => {
    // Not a skip: npm run test:all installs nginx.
    assert.ok(NGINX, 'nginx is not installed: apt-get install nginx (only its binary is used)');
    // The first server makes the certificate the agent trusts.
    await started('443');
    agent = new Agent({ connect: { ca: readFileSync(join(work, 'tls/tls.crt'), 'utf8') } });
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await agent?.close();
    rmSync(work, { recursive: true, force: true });
  });
  const started = async (port: string, tlsDir?: string, upstream?: string) => {
    const server = await serve(port, tlsDir, upstream);
    servers.push(server);
    return server;
  };

  test('redirects HTTP to https://host/… without a port when HTTPS is published on 443', async () => {
    assert.equal(await location(servers[0]!.http), 'https://127.0.0.1/jobs?limit=1');
  });

  test('keeps any other published port in the redirect, given alone or with its address', async () => {
    assert.equal(await location((await started('8443')).http), 'https://127.0.0.1:8443/jobs?limit=1');
    assert.equal(await location((await started('127.0.0.1:18443')).http), 'https://127.0.0.1:18443/jobs?limit=1');
    assert.equal(await location((await started('127.0.0.1:443')).http), 'https://127.0.0.1/jobs?limit=1');
  });

  test('answers /nginx-health to 127.0.0.1 only, and 404 in the API error shape to any other address', async () => {
    const url = `https://127.0.0.1:${servers[0]!.https}/nginx-health`;
    const local = await request(url, { dispatcher: agent });
    assert.equal(local.statusCode, 200);
    assert.deepEqual(await local.body.json(), { status: 'ok' });
    // From 127.0.0.2, another loopback address: a client nginx does not see as itself.
    const other = new Agent({ localAddress: '127.0.0.2', connect: { ca: readFileSync(join(work, 'tls/tls.crt'), 'utf8') } });
    try {
      const res = await request(url, { dispatcher: other });
      assert.equal(res.statusCode, 404);
      assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'not_found');
    } finally {
      await other.close();
    }
  });

  /** Whether a TLS handshake with these openssl s_client options succeeds against `port`. */
  const handshake = (port: number, ...options: string[]) => {
    const result = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...options], { input: '', encoding: 'utf8', timeout: 10_000 });
    return { ok: result.status === 0 && /New, TLSv1\.[23], Cipher is (?!\(NONE\))/.test(result.stdout), out: `${result.stdout}${result.stderr}` };
  };

  /** A server with an RSA certificate, as an operator's own may be: the one where weak suites would be possible. */
  const withRsaKey = async () => {
    const dir = join(work, 'tls-rsa');
    mkdirSync(dir, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
    return started('443', dir);
  };

  test('speaks TLS 1.3, and TLS 1.2 with forward-secret AEAD suites (Mozilla intermediate)', async () => {
    const rsa = await withRsaKey();
    const cases: [number, string[]][] = [
      [servers[0]!.https, ['-tls1_3']],
      [servers[0]!.https, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']],
      [servers[0]!.https, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305']],
      [rsa.https, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384']],
    ];
    for (const [port, options] of cases) {
      const { ok, out } = handshake(port, ...options);
      assert.ok(ok, `${options.join(' ')} was refused: ${out.slice(-300)}`);
    }
  });

  test('refuses CBC and SHA-1 suites, RSA key exchange without forward secrecy, and TLS 1.1 and older', async () => {
    const rsa = servers.at(-1)!;
    const weak: [number, string[]][] = [
      [rsa.https, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA']],
      [rsa.https, ['-tls1_2', '-cipher', 'AES128-SHA']],
      [rsa.https, ['-tls1_2', '-cipher', 'AES128-GCM-SHA256']],
      [rsa.https, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-SHA384']],
      [servers[0]!.https, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA']],
      [rsa.https, ['-tls1_1', '-cipher', 'ALL:@SECLEVEL=0']],
    ];
    for (const [port, options] of weak) assert.equal(handshake(port, ...options).ok, false, `${options.join(' ')} was accepted`);
  });

  test('a burst of changes from one address is cut to 429 in the API error shape, with Retry-After; reads are not counted', async () => {
    const https = servers[0]!.https;
    const sent = await Promise.all(
      Array.from({ length: 60 }, () =>
        request(`https://127.0.0.1:${https}/jobs/scrape`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: '{}' }).then(async (res) => ({
          status: res.statusCode,
          retryAfter: res.headers['retry-after'],
          body: await res.body.text(),
        })),
      ),
    );
    const limited = sent.filter((res) => res.status === 429);
    assert.ok(limited.length >= 30, `only ${limited.length} of 60 changes at once were limited`);
    assert.equal(limited[0]!.retryAfter, '1');
    assert.equal((JSON.parse(limited[0]!.body) as { error: { code: string } }).error.code, 'rate_limited');
    const reads = await Promise.all(Array.from({ length: 60 }, () => request(`https://127.0.0.1:${https}/jobs`, { dispatcher: agent }).then(async (res) => (await res.body.dump(), res.statusCode))));
    assert.ok(reads.every((status) => status !== 429), 'a read was rate-limited');
  });

  test('sends its strict CSP with the API\'s answers and its own, and leaves a page that has a policy of its own with that one alone', async () => {
    const page = "default-src 'self'; script-src 'self'";
    const app = createServer((req, res) => {
      if (req.url === '/ui/') res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': page }).end('<!doctype html><title>x</title>');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()));
    try {
      const server = await started('443', undefined, `127.0.0.1:${(app.address() as AddressInfo).port}`);
      const policies = async (path: string) => {
        const res = await request(`https://127.0.0.1:${server.https}${path}`, { dispatcher: agent });
        await res.body.dump();
        return [res.headers['content-security-policy']].flat();
      };
      assert.deepEqual(await policies('/ui/'), [page]);
      assert.deepEqual(await policies('/jobs'), ["default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"]);
      assert.deepEqual(await policies('/nginx-health'), ["default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"]);
    } finally {
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });
});
