// The dashboard's server side, through app.request() on the real app against real Redis and PostgreSQL: who may
// see and change what, the cookie and the CSRF token, escaping of what upstreams wrote, the charts, keyset paging,
// the live job stream and its bound, and that the JSON API answers as it did.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { type Config, loadConfig } from '../lib/config.ts';
import { ticks } from '../lib/dashboard/chart.tsx';
import { safeHref } from '../lib/dashboard/format.ts';
import { CONTENT_SECURITY_POLICY, dashboardPages } from '../lib/dashboard/pages.tsx';
import { upsertPosts } from '../lib/db/posts.ts';
import { silentLogger } from '../lib/log.ts';
import type { ScrapedPost } from '../lib/model/post.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

const ADMIN = 'admin-token-0123456789abcdef';
const READER = 'read-token-0123456789abcdefg';
const DAY_MS = 86_400_000;

let services: TestServices;

before(async () => {
  services = await startServices('dashboard');
});
after(() => services?.close());

async function appWith(overrides: Record<string, string> = {}): Promise<{ app: Hono; config: Config; queue: JobQueue }> {
  const config = loadConfig({ ...services.env, ...overrides });
  const queue = new JobQueue(services.redis, queueSettings(config));
  const app = createApp({ config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(config), log: silentLogger }, dashboardPages);
  return { app, config, queue };
}

/** A browser's cookie jar, enough for one site. */
class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly app: Hono) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await this.app.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async page(path: string): Promise<{ response: Response; html: string }> {
    const response = await this.request(path);
    return { response, html: await response.text() };
  }

  post(path: string, fields: Record<string, string | string[]>): Promise<Response> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
    return this.request(path, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  async signIn(token: string): Promise<Response> {
    const { html } = await this.page('/ui/sign-in?next=/ui/queries');
    return this.post('/ui/sign-in', { token, csrf: csrfOf(html), next: '/ui/queries' });
  }
}

function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  assert.ok(match, 'the page has a form with a CSRF token');
  return match[1]!;
}

function post(overrides: Partial<ScrapedPost> & { externalId: string; publishedAt: Date }): ScrapedPost {
  return { url: `https://example.com/${overrides.externalId}`, author: 'someone', title: 'A title', text: 'Some text', rating: null, language: 'en', reply: null, extra: {}, ...overrides };
}

describe('the dashboard of an open API (no tokens, as in development and tests)', () => {
  let app: Hono;
  before(async () => ({ app } = await appWith()));

  test('every page answers with HTML, the strict CSP and no caching', async () => {
    const browser = new Browser(app);
    for (const path of ['/ui/', '/ui/feed', '/ui/queries', '/ui/queue', '/ui/sources', '/ui/alerts', '/ui/backups']) {
      const { response, html } = await browser.page(path);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(response.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      assert.doesNotMatch(html, /<script>|<style|style="|\son[a-z]+=/i, `${path} has inline script or style`);
    }
  });

  test('/ redirects to the overview, and an unknown page is an HTML 404 under the same CSP', async () => {
    const root = await app.request('/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    const missing = await app.request('/ui/nothing-here');
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /there is no such page/);
    assert.equal(missing.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  });

  test('hands out a session cookie that is HttpOnly, SameSite=Strict and expiring, and not Secure over plain HTTP', async () => {
    const response = await app.request('/ui/');
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('vibe_session='));
    assert.ok(cookie, 'a session cookie');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Max-Age=43200/);
    assert.doesNotMatch(cookie, /Secure/);
  });

  test('a form with the session\'s CSRF token changes something; without it, or with another session\'s, it is refused', async () => {
    const browser = new Browser(app);
    const other = new Browser(app);
    const { html } = await browser.page('/ui/queries');
    const otherToken = csrfOf((await other.page('/ui/queries')).html);
    assert.equal((await browser.post('/ui/queries', { query: 'no-token' })).status, 403);
    assert.equal((await browser.post('/ui/queries', { query: 'stolen-token', csrf: otherToken })).status, 403);
    const added = await browser.post('/ui/queries', { query: 'acme widgets', csrf: csrfOf(html) });
    assert.equal(added.status, 303);
    assert.equal(added.headers.get('location'), '/ui/queries?notice=query_added');
    const { html: after } = await browser.page('/ui/queries?notice=query_added');
    assert.match(after, /acme widgets/);
    assert.match(after, /The query is tracked/);
    const tracked = await services.sql`select query from tracked_queries`;
    assert.deepEqual(tracked.map((row) => row.query), ['acme widgets']);
  });

  test('a form posted as JSON or multipart is refused with a 415, as only url-encoded forms are read', async () => {
    const browser = new Browser(app);
    const csrf = csrfOf((await browser.page('/ui/queries')).html);
    const response = await browser.request('/ui/queries', { method: 'POST', body: JSON.stringify({ query: 'x', csrf }), headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 415);
  });

  test('a bad field in a form is shown on the page with a 400, never a 500', async () => {
    const browser = new Browser(app);
    const csrf = csrfOf((await browser.page('/ui/queries')).html);
    const response = await browser.post('/ui/queries', { query: 'x', sources: 'no-such-source', csrf });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /unknown source/);
  });

  test('the JSON API keeps its paths and its rule that a form body never reaches a route that changes something', async () => {
    const response = await app.request('/jobs/scrape', { method: 'POST', body: 'source=hackernews&query=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(response.status, 415);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'unsupported_media_type');
    const sources = await app.request('/sources');
    assert.equal(sources.status, 200);
    assert.match(sources.headers.get('content-type') ?? '', /application\/json/);
  });

  test('/assets/ files carry a content hash in their link, a year of caching and an ETag that answers 304', async () => {
    const html = await (await app.request('/ui/alerts')).text();
    const href = /href="(\/assets\/app\.css\?v=[\w-]+)"/.exec(html)?.[1];
    assert.ok(href);
    const css = await app.request(href);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
    const etag = css.headers.get('etag')!;
    assert.equal(etag.slice(1, -1), href.split('v=')[1]);
    assert.equal((await app.request(href, { headers: { 'if-none-match': etag } })).status, 304);
    const js = await app.request('/assets/app.js');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
  });
});

describe('the dashboard of an API with tokens', () => {
  let app: Hono;
  let config: Config;
  before(async () => ({ app, config } = await appWith({ API_TOKEN: ADMIN, API_READ_TOKEN: READER })));

  test('sends a visitor without a session to the sign-in page, keeping where they were going', async () => {
    const response = await app.request('/ui/feed?source=github');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `/ui/sign-in?next=${encodeURIComponent('/ui/feed?source=github')}`);
  });

  test('a wrong token does not sign in; a sign-in without its form\'s token is refused', async () => {
    const browser = new Browser(app);
    const wrong = await browser.signIn('not-a-token');
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /neither API_READ_TOKEN nor API_TOKEN/);
    assert.equal(browser.cookies.has('vibe_session'), false);
    const forged = await new Browser(app).post('/ui/sign-in', { token: ADMIN, csrf: 'x'.repeat(43) });
    assert.equal(forged.status, 403);
  });

  test('a read session sees no button that changes anything, and the server refuses its forms anyway', async () => {
    const reader = new Browser(app);
    const signedIn = await reader.signIn(READER);
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get('location'), '/ui/queries');
    const { html } = await reader.page('/ui/queries');
    assert.doesNotMatch(html, /Track a query|Scrape now|Remove/);
    assert.match(html, /read-only/);
    const csrf = csrfOf(html); // the sign-out form's
    const refused = await reader.post('/ui/queries', { query: 'by a reader', csrf });
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /read-only session cannot change anything/);
    assert.equal((await reader.post('/ui/backups', { csrf })).status, 403);
    assert.equal((await services.sql`select 1 from tracked_queries where query = 'by a reader'`).length, 0);
  });

  test('an admin session changes things; signing out ends the session in Redis at once', async () => {
    const admin = new Browser(app);
    assert.equal((await admin.signIn(ADMIN)).status, 303);
    const id = admin.cookies.get('vibe_session')!;
    const keys = await services.redis.keys(`${config.redisPrefix}:dashboard:session:*`);
    assert.ok(keys.length >= 1);
    assert.ok(!keys.some((key) => key.includes(id)), 'Redis holds a digest of the cookie, not the cookie');
    const ttl = await services.redis.pttl(keys[0]!);
    assert.ok(ttl > 0 && ttl <= config.dashboardSessionMs, `ttl ${ttl}`);
    const { html } = await admin.page('/ui/queries');
    assert.match(html, /Track a query/);
    assert.equal((await admin.post('/ui/queries', { query: 'by an admin', csrf: csrfOf(html) })).status, 303);
    assert.equal((await admin.post('/ui/sign-out', { csrf: csrfOf(html) })).status, 303);
    const replayed = await app.request('/ui/queries', { headers: { cookie: `vibe_session=${id}` } });
    assert.equal(replayed.status, 303, 'the old cookie no longer signs in');
  });

  test('a dashboard session is not a key to the JSON API', async () => {
    const admin = new Browser(app);
    await admin.signIn(ADMIN);
    assert.equal((await admin.request('/posts')).status, 401);
  });

  test('the cookie is Secure when a trusted proxy says the request came over TLS, and not when a client says so itself', async () => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const signIn = async (headers: Record<string, string>) => {
        const page = await fetch(`${base}/ui/sign-in`, { headers });
        const csrf = csrfOf(await page.text());
        const formCookie = page.headers.getSetCookie()[0]!.split(';')[0]!;
        const response = await fetch(`${base}/ui/sign-in`, {
          method: 'POST', redirect: 'manual',
          headers: { ...headers, cookie: formCookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: READER, csrf }).toString(),
        });
        return response.headers.getSetCookie().find((line) => line.startsWith('vibe_session='))!;
      };
      // Loopback is a trusted proxy by default (TRUSTED_PROXIES=loopback,private).
      assert.match(await signIn({ 'x-forwarded-proto': 'https' }), /; Secure/);
      assert.doesNotMatch(await signIn({}), /Secure/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const untrusted = await appWith({ API_TOKEN: ADMIN, API_READ_TOKEN: READER, TRUSTED_PROXIES: '10.9.9.9' });
    const server2 = serve({ fetch: untrusted.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server2.once('listening', () => resolve()));
    try {
      const page = await fetch(`http://127.0.0.1:${(server2.address() as AddressInfo).port}/ui/sign-in`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.doesNotMatch(page.headers.getSetCookie()[0]!, /Secure/);
    } finally {
      await new Promise<void>((resolve) => server2.close(() => resolve()));
    }
  });

  test('after signing in, it goes on only to a dashboard page, never to another site', async () => {
    for (const next of ['//evil.example/', 'https://evil.example/', '/jobs', '/ui\\@evil']) {
      const browser = new Browser(app);
      const { html } = await browser.page('/ui/sign-in');
      const response = await browser.post('/ui/sign-in', { token: READER, csrf: csrfOf(html), next });
      assert.equal(response.headers.get('location'), '/ui/', next);
    }
  });

  test('with public reads, a visitor reads without signing in and has nothing to post', async () => {
    const { app: publicApp } = await appWith({ API_TOKEN: ADMIN, API_READ_TOKEN: READER, API_PUBLIC_READS: 'true' });
    const response = await publicApp.request('/ui/queries');
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.doesNotMatch(html, /name="csrf"/);
    assert.match(html, /Sign in/);
    const refused = await publicApp.request('/ui/queries', { method: 'POST', body: 'query=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(refused.status, 403);
  });
});

describe('what the pages show', () => {
  let app: Hono;
  let queue: JobQueue;
  before(async () => {
    ({ app, queue } = await appWith({ DASHBOARD_MAX_STREAMS: '1' }));
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const posts: ScrapedPost[] = [];
    // 30 posts on three days of the last week (today, 2 and 5 days ago), none on the days between.
    for (let i = 0; i < 30; i++) {
      posts.push(post({ externalId: `p${i}`, publishedAt: new Date(today - [0, 2, 5][i % 3]! * DAY_MS + 3_600_000 + i * 1000), title: `Post number ${i}`, rating: (i % 5) + 1, sentiment: { score: -0.5, label: i % 2 ? 'negative' : 'positive', method: 'test', language: 'en' } }));
    }
    posts.push(post({
      externalId: 'xss',
      publishedAt: new Date(today + 7_200_000),
      title: '<script>alert("title")</script>',
      author: '<img src=x onerror=alert("author")>',
      text: '"><svg onload=alert(1)> body',
      url: 'javascript:alert("link")',
      reply: { text: '<b>bold reply</b>', publishedAt: null },
    }));
    await upsertPosts(services.sql, 'github', 'dashboard-test', posts);
  });

  test('what an upstream wrote is text: tags escaped, no javascript: link', async () => {
    const html = await (await app.request('/ui/feed?query=dashboard-test')).text();
    assert.match(html, /&lt;script&gt;alert\(&quot;title&quot;\)&lt;\/script&gt;/);
    assert.match(html, /&lt;img src=x onerror=alert\(&quot;author&quot;\)&gt;/);
    assert.match(html, /&lt;b&gt;bold reply&lt;\/b&gt;/);
    assert.doesNotMatch(html, /<script>alert|<img src=x|<svg onload|javascript:/);
    assert.match(html, /href="https:\/\/example.com\/p0" rel="noopener noreferrer"/);
  });

  test('links are kept only when they are http(s)', () => {
    assert.equal(safeHref('https://example.com/a?b=1'), 'https://example.com/a?b=1');
    assert.equal(safeHref('http://example.com'), 'http://example.com/');
    for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'data:text/html,x', '/relative', 'vbscript:x', '', null]) {
      assert.equal(safeHref(bad), null, String(bad));
    }
  });

  test('the feed pages by keyset: 25 posts, then the rest behind "Older posts", with the filter kept', async () => {
    const first = await (await app.request('/ui/feed?query=dashboard-test')).text();
    assert.equal(first.match(/<article /g)?.length, 25);
    const older = /href="(\/ui\/feed\?[^"]*before=[^"]+)" rel="next"/.exec(first)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(older, 'an "Older posts" link');
    assert.match(older, /query=dashboard-test/);
    const second = await (await app.request(older)).text();
    assert.equal(second.match(/<article /g)?.length, 6);
    assert.doesNotMatch(second, /rel="next"/);
    const ids = (html: string) => [...html.matchAll(/data-post-id="(\d+)"/g)].map((m) => m[1]);
    assert.equal(new Set([...ids(first), ...ids(second)]).size, 31);
  });

  test('the feed filters as GET /posts does, and says what is wrong with a bad filter', async () => {
    const negative = await (await app.request('/ui/feed?query=dashboard-test&sentiment=negative')).text();
    assert.equal(negative.match(/<article /g)?.length, 15);
    const rated = await (await app.request('/ui/feed?query=dashboard-test&rating=5')).text();
    assert.equal(rated.match(/<article /g)?.length, 6);
    const bad = await app.request('/ui/feed?rating=high');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /`rating` must be one or more whole numbers/);
  });

  test('the feed\'s export is the filter\'s posts as CSV', async () => {
    const response = await app.request('/ui/feed/export?query=dashboard-test&sentiment=negative&format=csv');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="posts-.*\.csv"/);
    const lines = (await response.text()).trim().split('\n');
    assert.equal(lines.length, 1 + 15);
  });

  test('the overview draws a bar for each day with posts and a gap for each day without, over 7 days', async () => {
    const html = await (await app.request('/ui/?period=7&query=dashboard-test')).text();
    const volume = /<figure class="chart" id="volume-chart">([\s\S]*?)<\/figure>/.exec(html)?.[1] ?? '';
    assert.equal(volume.match(/<g class="bar"/g)?.length, 3);
    assert.equal(volume.match(/<tr><th scope="row">/g)?.length, 7, 'the table lists every day, the empty ones too');
    assert.match(html, /Newest negative posts/);
    assert.equal(html.match(/<article /g)?.length, 5);
    assert.equal((await app.request('/ui/?period=12')).status, 400);
  });

  test('axis ticks are round numbers that cover the largest value', () => {
    assert.deepEqual(ticks(7), [0, 2, 4, 6, 8]);
    assert.deepEqual(ticks(100), [0, 25, 50, 75, 100]);
    assert.deepEqual(ticks(9), [0, 5, 10]);
    assert.deepEqual(ticks(930), [0, 250, 500, 750, 1000]);
    assert.deepEqual(ticks(0.37), [0, 0.1, 0.2, 0.3, 0.4]);
    assert.deepEqual(ticks(0), [0, 1]);
  });

  test('a job\'s stream sends its state, then its end; a second stream past DASHBOARD_MAX_STREAMS gets a 503', async () => {
    const job = await queue.enqueue({ kind: 'scrape', source: 'github', query: 'streamed', limit: 5, priority: 0 });
    const controller = new AbortController();
    const response = await app.request(`/ui/queue/jobs/${job.id}/events`, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value);
    assert.match(text, /event: job\ndata: \{"id":"[^"]+","status":"pending"/);
    const second = await app.request(`/ui/queue/jobs/${job.id}/events`);
    assert.equal(second.status, 503);
    assert.equal(second.headers.get('retry-after'), '10');
    await queue.cancel(job.id);
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    assert.match(text, /"status":"cancelled","final":true/);
    // The ended stream gave its place back.
    const third = await app.request(`/ui/queue/jobs/${job.id}/events`);
    assert.equal(third.status, 200);
    await third.body?.cancel();
  });

  test('a stream whose browser went away gives its place back', async () => {
    const job = await queue.enqueue({ kind: 'scrape', source: 'github', query: 'abandoned', limit: 5, priority: 0 });
    const first = await app.request(`/ui/queue/jobs/${job.id}/events`);
    const reader = first.body!.getReader();
    await reader.read();
    await reader.cancel();
    let status = 0;
    for (let i = 0; i < 30 && status !== 200; i++) {
      const next = await app.request(`/ui/queue/jobs/${job.id}/events`);
      status = next.status;
      await next.body?.cancel();
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200);
  });

  test('the queue finds a job by its id and lists dead jobs with a retry-all button that queues them again', async () => {
    const job = await queue.enqueue({ kind: 'scrape', source: 'github', query: 'find-me', limit: 5, priority: 0 });
    const found = await app.request(`/ui/queue?search=${job.id}`);
    assert.equal(found.status, 303);
    assert.equal(found.headers.get('location'), `/ui/queue/jobs/${job.id}`);
    const byQuery = await (await app.request('/ui/queue?search=find-me')).text();
    assert.match(byQuery, new RegExp(`data-job-id="${job.id}"`));
    assert.equal((await app.request('/ui/queue?status=sleeping')).status, 400);
    const doomed = await queue.enqueue({ kind: 'scrape', source: 'github', query: 'doomed', limit: 5, priority: 10, maxAttempts: 1 });
    const leases = queue.leases();
    const [claim] = await leases.claimMany('dashboard-test', 1);
    assert.equal(claim?.job.id, doomed.id);
    await leases.sweep(Date.now() + 60_000);
    assert.equal((await queue.get(doomed.id))?.status, 'dead');
    const browser = new Browser(app);
    const { html } = await browser.page('/ui/queue?status=dead');
    assert.match(html, /Retry all 1 dead jobs/);
    const retried = await browser.post('/ui/queue/dead/retry-all', { csrf: csrfOf(html) });
    assert.equal(retried.status, 303);
    assert.equal((await queue.get(doomed.id))?.status, 'pending');
    assert.equal((await queue.counts()).dead, 0);
  });
});
