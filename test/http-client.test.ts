import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { JobError } from '../lib/errors.ts';
import { createHttpClient, parseRetryAfter, type HttpClientOptions } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import { startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.ts';

let upstream: FakeUpstream;
before(async () => {
  upstream = await startFakeUpstream();
});
after(() => upstream.close());
beforeEach(() => upstream.reset());

function client(t: TestContext, options: Partial<HttpClientOptions> = {}) {
  const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger, ...options });
  t.after(() => http.close());
  return http;
}

const noSignal = () => new AbortController().signal;

/** Answers each request with the next reply in the list, repeating the last one. */
function inTurn(...replies: { status?: number; headers?: Record<string, string>; body?: string }[]) {
  let next = 0;
  return () => replies[Math.min(next++, replies.length - 1)]!;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the promise to reject');
}

async function jobError(promise: Promise<unknown>): Promise<JobError> {
  const error = await rejection(promise);
  assert.ok(error instanceof JobError, `expected a JobError, got ${String(error)}`);
  return error;
}

describe('getText', () => {
  test('returns the status, final URL, lower-case headers and UTF-8 body', async (t) => {
    upstream.on('GET', '/page', () => ({ headers: { 'X-Thing': 'yes', 'content-type': 'text/html; charset=utf-8' }, body: 'Grüße ✓' }));
    const response = await client(t).getText(`${upstream.baseUrl}/page?x=1`, { signal: noSignal() });
    assert.equal(response.status, 200);
    assert.equal(response.url, `${upstream.baseUrl}/page?x=1`);
    assert.equal(response.headers['x-thing'], 'yes');
    assert.equal(response.body, 'Grüße ✓');
  });

  test('sends the configured user agent, the accept header and the encodings it can decode', async (t) => {
    upstream.on('GET', '/page', () => ({ body: 'ok' }));
    const http = client(t);
    await http.getText(`${upstream.baseUrl}/page`, { signal: noSignal() });
    await http.getText(`${upstream.baseUrl}/page`, { signal: noSignal(), accept: 'application/json' });
    const [first, second] = upstream.requests;
    assert.equal(first?.headers['user-agent'], 'vibe-tracker-test/1');
    assert.match(first?.headers['accept'] ?? '', /text\/html/);
    assert.equal(first?.headers['accept-encoding'], 'gzip, deflate, br');
    assert.equal(second?.headers['accept'], 'application/json');
  });

  for (const [encoding, compress] of [['gzip', gzipSync], ['br', brotliCompressSync], ['deflate', deflateSync]] as const) {
    test(`decodes a ${encoding} body`, async (t) => {
      upstream.on('GET', '/packed', () => ({ headers: { 'content-encoding': encoding }, body: compress(Buffer.from('<p>Größe</p>'.repeat(50))) }));
      const response = await client(t).getText(`${upstream.baseUrl}/packed`, { signal: noSignal() });
      assert.equal(response.body, '<p>Größe</p>'.repeat(50));
    });
  }

  test('fails with upstream_bad_response when the body does not match its content-encoding', async (t) => {
    upstream.on('GET', '/packed', () => ({ headers: { 'content-encoding': 'gzip' }, body: 'not gzip at all' }));
    const error = await jobError(client(t).getText(`${upstream.baseUrl}/packed`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_bad_response');
    assert.equal(error.permanent, true);
  });

  test('decodes malformed UTF-8 and a byte-order mark as Buffer.toString does: U+FFFD for bad bytes, the mark kept', async (t) => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('ok '), Buffer.from([0xc3, 0x28, 0xe2, 0x82, 0xff]), Buffer.from(' ✓')]);
    upstream.on('GET', '/odd', () => ({ body: bytes }));
    const response = await client(t).getText(`${upstream.baseUrl}/odd`, { signal: noSignal() });
    assert.equal(response.body, bytes.toString('utf8'));
  });
});

describe('getBytes', () => {
  test("returns the body's bytes as sent, and the same status, final URL and headers as getText", async (t) => {
    const bytes = Buffer.concat([Buffer.from('Grüße '), Buffer.from([0xff, 0xfe]), Buffer.from(' ✓'.repeat(100_000))]);
    upstream.on('GET', '/page', () => ({ headers: { 'X-Thing': 'yes' }, body: bytes }));
    const http = client(t);
    const [raw, text] = await Promise.all([http.getBytes(`${upstream.baseUrl}/page`, { signal: noSignal() }), http.getText(`${upstream.baseUrl}/page`, { signal: noSignal() })]);
    assert.ok(Buffer.isBuffer(raw.body));
    assert.ok(raw.body.equals(bytes), 'the bytes are the ones sent');
    assert.equal(text.body, bytes.toString('utf8'));
    assert.deepEqual({ ...raw, body: null }, { ...text, body: null, headers: { ...text.headers, date: raw.headers.date } });
  });

  for (const [encoding, compress] of [['gzip', gzipSync], ['br', brotliCompressSync], ['deflate', deflateSync]] as const) {
    test(`undoes ${encoding}`, async (t) => {
      upstream.on('GET', '/packed', () => ({ headers: { 'content-encoding': encoding }, body: compress(Buffer.from('<p>Größe</p>'.repeat(50))) }));
      const response = await client(t).getBytes(`${upstream.baseUrl}/packed`, { signal: noSignal() });
      assert.ok(response.body.equals(Buffer.from('<p>Größe</p>'.repeat(50))));
    });
  }

  test('fails as getText does: upstream_bad_response for a body that does not match its content-encoding, the error body kept short', async (t) => {
    upstream.on('GET', '/packed', () => ({ headers: { 'content-encoding': 'gzip' }, body: 'not gzip at all' }));
    upstream.on('GET', '/explained', () => ({ status: 400, body: `{"error":"no"}${'x'.repeat(10_000)}` }));
    const http = client(t);
    const bad = await jobError(http.getBytes(`${upstream.baseUrl}/packed`, { signal: noSignal() }));
    assert.equal(bad.code, 'upstream_bad_response');
    const refused = await jobError(http.getBytes(`${upstream.baseUrl}/explained`, { signal: noSignal() }));
    assert.equal(refused.upstream?.status, 400);
    assert.match(refused.upstream?.body ?? '', /^\{"error":"no"\}x+$/);
    assert.equal(refused.upstream?.body.length, 4_096);
  });
});

describe('retries', () => {
  test('waits out a 429 with Retry-After: 1 and then returns the page', async (t) => {
    upstream.on('GET', '/limited', inTurn({ status: 429, headers: { 'retry-after': '1' } }, { body: 'finally' }));
    const response = await client(t).getText(`${upstream.baseUrl}/limited`, { signal: noSignal() });
    assert.equal(response.body, 'finally');
    assert.equal(upstream.requests.length, 2);
    const waited = upstream.requests[1]!.time - upstream.requests[0]!.time;
    assert.ok(waited >= 950, `expected the retry about 1 s after the 429, it came after ${waited} ms`);
  });

  test('treats a 403 that reports an exhausted quota as a wait, not a block, and holds the host until the reset', async (t) => {
    const reset = String(Math.ceil(Date.now() / 1000) + 1);
    upstream.on('GET', '/quota', inTurn({ status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } }, { body: 'after the reset' }));
    const response = await client(t).getText(`${upstream.baseUrl}/quota`, { signal: noSignal() });
    assert.equal(response.body, 'after the reset');
    const [first, second] = upstream.requests;
    assert.ok(second!.time >= Number(reset) * 1000 - 50, 'the retry waited for x-ratelimit-reset');
    assert.ok(second!.time - first!.time > 0);
  });

  test("keeps the first 4 KB of an error answer on the error, for APIs that explain themselves in the body", async (t) => {
    upstream.on('GET', '/explained', () => ({ status: 400, body: JSON.stringify({ error_id: 502, error_name: 'throttle_violation', pad: 'x'.repeat(10_000) }) }));
    const error = await jobError(client(t).getText(`${upstream.baseUrl}/explained`, { signal: noSignal() }));
    assert.equal(error.upstream?.status, 400);
    assert.match(error.upstream?.body ?? '', /^\{"error_id":502,"error_name":"throttle_violation"/);
    assert.equal(error.upstream?.body.length, 4_096);
  });

  test('hands a host pause longer than maxInlineWaitMs back to the queue instead of sleeping through it', async (t) => {
    upstream.on('GET', '/paused', () => ({ body: 'never' }));
    const http = client(t, { maxInlineWaitMs: 1_000 });
    await http.holdHost(new URL(upstream.baseUrl).host, 60_000);
    const error = await jobError(http.getText(`${upstream.baseUrl}/paused`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.permanent, false);
    assert.ok((error.retryAfterMs ?? 0) > 50_000);
    assert.equal(upstream.requests.length, 0);
  });

  test('reads JSON, and refuses an HTML page where JSON was expected as a permanent bad response', async (t) => {
    upstream.on('GET', '/api', () => ({ body: '{"ok":true}', headers: { 'content-type': 'application/json' } }));
    upstream.on('GET', '/walled', () => ({ body: '<!doctype html><title>Sign in</title>', headers: { 'content-type': 'text/html' } }));
    const http = client(t);
    assert.deepEqual((await http.getJson(`${upstream.baseUrl}/api`, { signal: noSignal() })).json, { ok: true });
    await assert.rejects(http.getJson(`${upstream.baseUrl}/walled`, { signal: noSignal() }), (error: JobError) => {
      assert.equal(error.code, 'upstream_bad_response');
      assert.equal(error.permanent, true);
      assert.match(error.message, /HTML page where JSON was expected/);
      return true;
    });
  });

  test('retries a 503 and returns the page once the upstream recovers', async (t) => {
    upstream.on('GET', '/flaky', inTurn({ status: 503 }, { status: 502 }, { body: 'recovered' }));
    const response = await client(t).getText(`${upstream.baseUrl}/flaky`, { signal: noSignal() });
    assert.equal(response.body, 'recovered');
    assert.equal(upstream.requests.length, 3);
  });

  test('hands a Retry-After longer than maxInlineWaitMs back to the queue as a transient error', async (t) => {
    upstream.on('GET', '/limited', () => ({ status: 429, headers: { 'retry-after': '120' } }));
    const error = await jobError(client(t, { maxInlineWaitMs: 5_000 }).getText(`${upstream.baseUrl}/limited`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.permanent, false);
    assert.equal(error.retryAfterMs, 120_000);
    assert.equal(upstream.requests.length, 1);
    assert.match(error.message, /127\.0\.0\.1:\d+.*HTTP 429/);
  });

  test('gives up after maxAttempts with a transient upstream_unavailable that names the host and status', async (t) => {
    upstream.on('GET', '/down', () => ({ status: 500 }));
    const error = await jobError(client(t, { maxAttempts: 3 }).getText(`${upstream.baseUrl}/down`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_unavailable');
    assert.equal(error.permanent, false);
    assert.equal(upstream.requests.length, 3);
    assert.match(error.message, /127\.0\.0\.1:\d+.*HTTP 500.*3 attempts/);
  });

  test('passes the last Retry-After on when 429s outlast the attempts', async (t) => {
    upstream.on('GET', '/limited', () => ({ status: 429, headers: { 'retry-after': '0' } }));
    const error = await jobError(client(t, { maxAttempts: 2 }).getText(`${upstream.baseUrl}/limited`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.retryAfterMs, 0);
  });

  test('retries a refused connection and then reports the host as unreachable', async (t) => {
    const gone = await startFakeUpstream();
    await gone.close();
    const error = await jobError(client(t, { maxAttempts: 2 }).getText(`${gone.baseUrl}/x`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_unavailable');
    assert.equal(error.permanent, false);
    assert.match(error.message, /could not be reached after 2 attempts \(ECONNREFUSED\)/);
  });

  test('treats an upstream that does not answer within timeoutMs as unavailable', async (t) => {
    upstream.on('GET', '/slow', () => ({ delayMs: 2_000, body: 'too late' }));
    const error = await jobError(client(t, { timeoutMs: 200, maxAttempts: 2 }).getText(`${upstream.baseUrl}/slow`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_unavailable');
    assert.match(error.message, /timed out/);
    assert.equal(upstream.requests.length, 2);
  });
});

describe('permanent failures', () => {
  const cases = [
    [401, 'upstream_login_required', /asked for a login \(HTTP 401\)/],
    [403, 'upstream_blocked', /refused the request \(HTTP 403\): this worker's IP address is probably blocked/],
    [404, 'upstream_not_found', /does not exist \(HTTP 404\)/],
    [410, 'upstream_not_found', /does not exist \(HTTP 410\)/],
    [418, 'upstream_bad_response', /answered HTTP 418/],
  ] as const;
  for (const [status, code, message] of cases) {
    test(`turns HTTP ${status} into a permanent ${code} at once, naming the host but not the query`, async (t) => {
      upstream.on('GET', '/secret-path', () => ({ status }));
      const error = await jobError(client(t).getText(`${upstream.baseUrl}/secret-path?token=hunter2`, { signal: noSignal() }));
      assert.equal(error.code, code);
      assert.equal(error.permanent, true);
      assert.match(error.message, message);
      assert.match(error.message, /127\.0\.0\.1:\d+/);
      assert.doesNotMatch(error.message, /hunter2/);
      assert.equal(upstream.requests.length, 1);
    });
  }

  test('treats a Cloudflare challenge as blocked even when it comes as a 503', async (t) => {
    upstream.on('GET', '/guarded', () => ({ status: 503, headers: { 'cf-mitigated': 'challenge' }, body: 'Just a moment...' }));
    const error = await jobError(client(t).getText(`${upstream.baseUrl}/guarded`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_blocked');
    assert.equal(upstream.requests.length, 1);
  });
});

describe('redirects', () => {
  test('follows up to three redirects and reports the final URL', async (t) => {
    upstream.on('GET', '/a', () => ({ status: 301, headers: { location: '/b' } }));
    upstream.on('GET', '/b', () => ({ status: 302, headers: { location: `${upstream.baseUrl}/c?q=1` } }));
    upstream.on('GET', '/c', () => ({ status: 307, headers: { location: '/d' } }));
    upstream.on('GET', '/d', () => ({ body: 'landed' }));
    const response = await client(t).getText(`${upstream.baseUrl}/a`, { signal: noSignal() });
    assert.equal(response.body, 'landed');
    assert.equal(response.url, `${upstream.baseUrl}/d`);
  });

  test('fails with upstream_bad_response on a fourth redirect', async (t) => {
    upstream.on('GET', /^\/loop\d+$/, (req) => ({ status: 302, headers: { location: `/loop${Number(req.path.slice(5)) + 1}` } }));
    const error = await jobError(client(t).getText(`${upstream.baseUrl}/loop1`, { signal: noSignal() }));
    assert.equal(error.code, 'upstream_bad_response');
    assert.match(error.message, /redirected more than 3 times/);
    assert.equal(upstream.requests.length, 4);
  });
});

describe('cancellation', () => {
  test('rejects promptly with the signal reason when aborted during a backoff sleep', async (t) => {
    upstream.on('GET', '/limited', () => ({ status: 503, headers: { 'retry-after': '20' } }));
    const controller = new AbortController();
    const reason = new Error('job cancelled by test');
    const started = Date.now();
    const pending = client(t).getText(`${upstream.baseUrl}/limited`, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 200);
    const error = await rejection(pending);
    assert.equal(error, reason);
    assert.equal(upstream.requests.length, 1);
    assert.ok(Date.now() - started < 5_000, 'the 20 s Retry-After sleep was not interrupted');
  });

  test('rejects with the signal reason when aborted during a request', async (t) => {
    upstream.on('GET', '/slow', () => ({ delayMs: 5_000, body: 'late' }));
    const controller = new AbortController();
    const pending = client(t).getText(`${upstream.baseUrl}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort('stop'), 100);
    assert.equal(await rejection(pending), 'stop');
  });

  test('rejects with the signal reason while waiting for its turn at the host, without ever sending', async (t) => {
    upstream.on('GET', '/slow', () => ({ delayMs: 300, body: 'slow' }));
    const http = client(t);
    const first = http.getText(`${upstream.baseUrl}/slow`, { signal: noSignal() });
    const controller = new AbortController();
    const second = http.getText(`${upstream.baseUrl}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort('not needed'), 50);
    assert.equal(await rejection(second), 'not needed');
    assert.equal((await first).body, 'slow');
    const third = await http.getText(`${upstream.baseUrl}/slow`, { signal: noSignal() });
    assert.equal(third.body, 'slow');
    assert.equal(upstream.requests.length, 2);
  });
});

describe('politeness', () => {
  test('sends at most one request at a time to a host, in the order they were asked for', async (t) => {
    upstream.on('GET', /^\/slow\/\d$/, (req) => ({ delayMs: 150, body: req.path }));
    const http = client(t);
    const bodies = await Promise.all([1, 2, 3].map((n) => http.getText(`${upstream.baseUrl}/slow/${n}`, { signal: noSignal() }).then((r) => r.body)));
    assert.deepEqual(bodies, ['/slow/1', '/slow/2', '/slow/3']);
    assert.deepEqual(upstream.requests.map((r) => r.path), ['/slow/1', '/slow/2', '/slow/3']);
    for (let i = 1; i < upstream.requests.length; i++) {
      const previous = upstream.requests[i - 1]!;
      const current = upstream.requests[i]!;
      assert.ok(previous.endTime !== null && current.time >= previous.endTime, `request ${i + 1} arrived while request ${i} was still being answered`);
    }
  });

  test('asks the fleet limiter for every request, retries included, and releases each', async (t) => {
    upstream.on('GET', '/flaky', inTurn({ status: 503 }, { body: 'ok' }));
    const hosts: string[] = [];
    let released = 0;
    const limiter = {
      acquire: async (host: string) => {
        hosts.push(host);
        return () => void (released += 1);
      },
      hold: async () => {},
    };
    const http = client(t, { limiter });
    await http.getText(`${upstream.baseUrl}/flaky`, { signal: noSignal(), rateLimit: { requests: 10, perMs: 1000, concurrency: 1 } });
    assert.deepEqual(hosts, [new URL(upstream.baseUrl).host, new URL(upstream.baseUrl).host]);
    assert.equal(released, 2);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-07-01T12:00:00Z');

  test('reads delta-seconds as milliseconds', () => {
    assert.equal(parseRetryAfter('1', now), 1_000);
    assert.equal(parseRetryAfter(' 120 ', now), 120_000);
    assert.equal(parseRetryAfter('0', now), 0);
  });

  test('reads an HTTP-date as the time left until it, never negative', () => {
    assert.equal(parseRetryAfter('Mon, 01 Jul 2024 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Mon, 01 Jul 2024 11:00:00 GMT', now), 0);
  });

  test('returns null for a missing or unreadable value', () => {
    for (const value of [undefined, '', 'soon', '-1', '1.5']) assert.equal(parseRetryAfter(value, now), null, String(value));
  });
});
