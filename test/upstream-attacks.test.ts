// What an upstream (or whoever can make it redirect or answer) can try against a worker: take its credentials
// elsewhere, send it into the private network, or blow up its memory. Each attack is done for real, against
// fake upstreams on loopback.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { createGzip } from 'node:zlib';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

const noSignal = () => new AbortController().signal;

async function jobError(promise: Promise<unknown>): Promise<JobError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof JobError, `expected a JobError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the request to fail');
}

/** A server that answers every request with a gzip of `megabytes` MiB of zeros, streamed, without a length. */
async function startGzipBomb(megabytes: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const gzip = createGzip({ level: 9 });
    gzip.pipe(res);
    const chunk = Buffer.alloc(1024 * 1024);
    let left = megabytes;
    const write = () => {
      while (left > 0) {
        left -= 1;
        if (!gzip.write(chunk)) return void gzip.once('drain', write);
      }
      gzip.end();
    };
    req.on('close', () => gzip.destroy());
    write();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('credentials and redirects', () => {
  let origin: FakeUpstream;
  let elsewhere: FakeUpstream;
  before(async () => {
    origin = await startFakeUpstream();
    elsewhere = await startFakeUpstream();
  });
  after(async () => {
    await origin.close();
    await elsewhere.close();
  });
  const client = (t: TestContext) => {
    const http = createHttpClient({ userAgent: 'test', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    return http;
  };

  test('a redirect to another origin is followed without the source\'s Authorization or cookies', async (t) => {
    origin.on('GET', '/search', () => ({ status: 302, headers: { location: `${elsewhere.baseUrl}/landing` } }));
    elsewhere.on('GET', '/landing', () => ({ body: '{"ok":true}', headers: { 'content-type': 'application/json' } }));
    const response = await client(t).getJson(`${origin.baseUrl}/search`, { signal: noSignal(), headers: { authorization: 'Bearer ghp_secret', cookie: 'session=1', 'x-custom': 'kept' } });
    assert.deepEqual(response.json, { ok: true });
    assert.equal(origin.requests[0]?.headers.authorization, 'Bearer ghp_secret');
    const landed = elsewhere.requests.find((req) => req.path === '/landing')!;
    assert.equal(landed.headers.authorization, undefined);
    assert.equal(landed.headers.cookie, undefined);
    assert.equal(landed.headers['x-custom'], 'kept');
  });

  test('a redirect within the origin keeps the credentials', async (t) => {
    origin.on('GET', '/old', () => ({ status: 301, headers: { location: '/new' } }));
    origin.on('GET', '/new', () => ({ body: 'here' }));
    await client(t).getText(`${origin.baseUrl}/old`, { signal: noSignal(), headers: { authorization: 'Bearer t' } });
    assert.equal(origin.requests.find((req) => req.path === '/new')?.headers.authorization, 'Bearer t');
  });

  test('a public source is not redirected into a loopback or private network, nor to another scheme', async (t) => {
    origin.on('GET', '/to-loopback', () => ({ status: 302, headers: { location: `${elsewhere.baseUrl}/admin` } }));
    origin.on('GET', '/to-metadata', () => ({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } }));
    origin.on('GET', '/to-file', () => ({ status: 302, headers: { location: 'file:///etc/passwd' } }));
    // As a source whose configured origin is public would call it.
    const asPublic = { signal: noSignal(), privateNetworks: false };
    for (const path of ['/to-loopback', '/to-metadata']) {
      const error = await jobError(client(t).getText(`${origin.baseUrl}${path}`, asPublic));
      assert.equal(error.code, 'upstream_redirect_refused');
      assert.equal(error.permanent, true);
      assert.match(error.message, /loopback, private or link-local network/);
    }
    assert.equal(elsewhere.requests.filter((req) => req.path === '/admin').length, 0, 'the private address was never asked');
    const error = await jobError(client(t).getText(`${origin.baseUrl}/to-file`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_redirect_refused');
  });

  test('redirects are followed three times at most', async (t) => {
    origin.on('GET', /^\/loop\/\d+$/, (req) => ({ status: 302, headers: { location: `/loop/${Number(req.path.split('/')[2]) + 1}` } }));
    const error = await jobError(client(t).getText(`${origin.baseUrl}/loop/0`, { signal: noSignal() }));
    assert.match(error.message, /redirected more than 3 times/);
    assert.equal(origin.requests.filter((req) => req.path.startsWith('/loop/')).length, 4);
  });
});

describe('bodies too large to read', () => {
  test('a gzip that expands to 256 MiB fails the page with a readable, permanent error, and memory stays bounded', async (t) => {
    const bomb = await startGzipBomb(256);
    const http = createHttpClient({ userAgent: 'test', timeoutMs: 20_000, log: silentLogger });
    t.after(async () => {
      await http.close();
      await bomb.close();
    });
    global.gc?.();
    const before = process.memoryUsage().rss;
    const error = await jobError(http.getJson(`${bomb.url}/search`, { signal: noSignal() }));
    const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
    assert.equal(error.code, 'upstream_too_large');
    assert.equal(error.permanent, true);
    assert.match(error.message, /decodes to more than 33554432 bytes.*raise MAX_BODY_BYTES/);
    assert.ok(grown < 150, `the process grew by ${Math.round(grown)} MiB reading a 256 MiB bomb`);
  });

  test('a body longer than the limit as sent is refused by its Content-Length or while it streams', async (t) => {
    const upstream = await startFakeUpstream();
    t.after(() => upstream.close());
    upstream.on('GET', '/declared', () => ({ body: 'x'.repeat(5_000) }));
    const http = createHttpClient({ userAgent: 'test', timeoutMs: 5_000, log: silentLogger, maxBodyBytes: 4_096 });
    t.after(() => http.close());
    assert.equal((await jobError(http.getText(`${upstream.baseUrl}/declared`, { signal: noSignal() }))).code, 'upstream_too_large');
    // A per-request limit (a source's MAX_BODY_BYTES_<NAME>) takes the place of the client's.
    assert.equal((await http.getText(`${upstream.baseUrl}/declared`, { signal: noSignal(), maxBodyBytes: 8_192 })).body.length, 5_000);
  });
});

describe('links an upstream sends', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  before(async () => {
    upstream = await startFakeUpstream();
    pipeline = await startPipeline('upstream_attacks', { SOURCE_BASE_URL_GITHUB: upstream.baseUrl, SOURCE_BASE_URL_HACKERNEWS: upstream.baseUrl, RATE_LIMIT_GITHUB: '1000/1' });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  test('javascript:, data: and credential-carrying links are not stored as links; the text is kept as written', async () => {
    upstream.on('GET', '/search/issues', () => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ total_count: 2, incomplete_results: false, items: [
        { id: 2, number: 2, html_url: 'javascript:alert(document.cookie)', created_at: '2026-05-02T10:00:00Z', title: '<img src=x onerror=alert(1)>', body: '<script>alert(1)</script>', user: { login: 'mallory' } },
        { id: 1, number: 1, html_url: 'https://user:pass@github.com/acme/app/issues/1', created_at: '2026-05-01T10:00:00Z', title: 'fine', body: '', user: { login: 'alice' } },
      ] }),
    }));
    upstream.on('GET', '/api/v1/search_by_date', () => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nbHits: 1, hits: [{ objectID: '9', created_at_i: 1_777_000_000, title: 'Show HN', url: 'data:text/html,<script>alert(1)</script>', author: 'eve', points: 1, _tags: ['story'] }] }),
    }));
    assert.equal((await pipeline.scrape('github', 'links')).status, 'completed');
    assert.equal((await pipeline.scrape('hackernews', 'links')).status, 'completed');
    const rows = await pipeline.services.sql<{ source: string; url: string; title: string; body: string; extra: Record<string, unknown> }[]>`
      select source, url, title, body, extra from posts where query = 'links' order by source, external_id
    `;
    const [withCredentials, unsafe, story] = rows;
    assert.equal(unsafe?.url, '');
    assert.equal(unsafe?.title, '<img src=x onerror=alert(1)>', 'text is stored as the author wrote it');
    assert.equal(withCredentials?.url, 'https://github.com/acme/app/issues/1');
    assert.equal(story?.source, 'hackernews');
    assert.equal(story?.extra.link_url, null);
  });
});
