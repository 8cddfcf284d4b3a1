// The dashboard's server side, through app.request() on the real app against real Redis and PostgreSQL: who may
// see and change what, the cookie and the CSRF token, escaping of what upstreams wrote, the charts, keyset paging,
// the live job stream and its bound, alert rules made, tested and deleted through forms, and that the JSON API
// answers as it did.
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
import { getRule, recordTestEvent } from '../lib/db/alerts.ts';
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

describe('alert rules on the dashboard', () => {
  let app: Hono;
  let queue: JobQueue;
  before(async () => ({ app, queue } = await appWith()));

  const SECRET = 'a-webhook-secret-of-32-characters';
  const ruleForm = (fields: Record<string, string | string[]> = {}) => ({
    name: 'bad reviews',
    kind: 'new_post',
    query: '',
    keywords: 'outage, refund',
    sentiments: 'negative',
    max_rating: '2',
    window_minutes: '60',
    destination_type: 'webhook',
    destination_url: 'https://hooks.example.com/vibe/token-abcd',
    destination_secret: SECRET,
    ...fields,
  });

  async function createRule(browser: Browser, fields: Record<string, string | string[]> = {}): Promise<string> {
    const csrf = csrfOf((await browser.page('/ui/alerts')).html);
    const response = await browser.post('/ui/alerts', { ...ruleForm(fields), csrf });
    assert.equal(response.status, 303, await response.clone().text());
    assert.equal(response.headers.get('location'), '/ui/alerts?notice=alert_created');
    const [row] = await services.sql`select id::text as id from alert_rules where name = ${fields.name ?? 'bad reviews'} order by id desc limit 1`;
    return row!.id as string;
  }

  test('an admin creates a rule through the form, stored as POST /alerts would store it, its URL masked and its secret never shown', async () => {
    const browser = new Browser(app);
    const id = await createRule(browser, { name: 'form rule', sources: ['github', 'reddit'], cool_down_minutes: '15' });
    const json = (await (await app.request(`/alerts/${id}`)).json()) as { kind: string; sources: string[]; params: unknown; cool_down_minutes: number; enabled: boolean; destinations: { url: string; has_secret: boolean }[] };
    assert.equal(json.kind, 'new_post');
    assert.deepEqual(json.sources, ['github', 'reddit']);
    assert.deepEqual(json.params, { keywords: ['outage', 'refund'], sentiments: ['negative'], max_rating: 2 });
    assert.equal(json.cool_down_minutes, 15);
    assert.equal(json.enabled, true);
    assert.equal(json.destinations[0]!.has_secret, true);
    const { html } = await browser.page('/ui/alerts?notice=alert_created');
    assert.match(html, /The alert rule is created/);
    const row = new RegExp(`<tr data-rule-id="${id}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? '';
    assert.match(row, /form rule/);
    assert.match(row, /github, reddit/);
    assert.match(row, /keywords: outage, refund/);
    assert.match(row, /15 min/);
    assert.ok(row.includes(`webhook ${json.destinations[0]!.url} (signed)`), 'the destination as the JSON API shows it');
    assert.doesNotMatch(html, /token-abcd|hooks\.example\.com\/vibe/, 'the URL is masked');
    assert.ok(!html.includes(SECRET), 'the secret is never on the page');
  });

  test('a spike rule takes its kind\'s parameters from the form, and those of the other kinds are left out', async () => {
    const browser = new Browser(app);
    const id = await createRule(browser, { name: 'volume', kind: 'volume_spike', window_minutes: '120', k: '2.5', min_count: '4', min_volume: '99', destination_type: 'slack', destination_url: 'https://hooks.example.com/services/T0/B0/xyz1', destination_secret: '' });
    const json = (await (await app.request(`/alerts/${id}`)).json()) as { params: Record<string, unknown>; cool_down_minutes: number; destinations: { type: string }[] };
    assert.deepEqual(json.params, { window_minutes: 120, baseline_days: 14, k: 2.5, min_baseline_days: 7, min_count: 4 });
    assert.equal(json.cool_down_minutes, 360);
    assert.equal(json.destinations[0]!.type, 'slack');
  });

  test('a bad field is shown on the page with the API\'s own message and a 400, and nothing is stored', async () => {
    const browser = new Browser(app);
    const csrf = csrfOf((await browser.page('/ui/alerts')).html);
    const before = (await services.sql`select count(*)::int as n from alert_rules`)[0]!.n as number;
    const cases: [Record<string, string>, RegExp][] = [
      [{ destination_secret: 'short' }, /`destinations\[0\]\.secret` must be 16 to 256 characters/],
      [{ kind: 'volume_spike', window_minutes: '90' }, /`params\.window_minutes` must be one of 60, 120/],
      [{ kind: 'volume_spike', k: 'lots' }, /`params\.k` must be a number from 1 to 10/],
      [{ kind: 'sometimes' }, /`kind` must be one of new_post, volume_spike, negative_share_spike/],
      [{ name: '   ' }, /`name` must be a string of 1 to 100 characters/],
      [{ destination_url: 'http://127.0.0.1:9/hook' }, /which webhooks may not reach/],
      [{ sources: 'no-such-source' }, /unknown source/],
      [{ max_rating: 'two' }, /`params\.max_rating` must be a number/],
    ];
    for (const [fields, message] of cases) {
      const response = await browser.post('/ui/alerts', { ...ruleForm(fields), csrf });
      assert.equal(response.status, 400, JSON.stringify(fields));
      const html = await response.text();
      assert.match(html, /<p class="error" role="alert">/);
      assert.match(html.replaceAll('&#39;', "'"), message);
    }
    assert.equal((await services.sql`select count(*)::int as n from alert_rules`)[0]!.n, before);
  });

  test('Test records a test event, queues a delivery for each destination and opens the delivery\'s job page', async () => {
    const browser = new Browser(app);
    const id = await createRule(browser, { name: 'tested rule' });
    const { html } = await browser.page('/ui/alerts');
    const response = await browser.post(`/ui/alerts/${id}/test`, { csrf: csrfOf(html) });
    assert.equal(response.status, 303);
    const jobId = /^\/ui\/queue\/jobs\/([^?]+)\?notice=alert_test_queued$/.exec(response.headers.get('location') ?? '')?.[1];
    assert.ok(jobId, response.headers.get('location') ?? 'no location');
    const job = await queue.get(jobId);
    assert.equal(job?.kind, 'alert-delivery');
    assert.equal(job?.status, 'pending');
    const [event] = await services.sql`select id::text as id, test from alert_events where rule_id = ${id}::bigint`;
    assert.equal(event?.test, true);
    assert.equal(job?.query.split(':')[0], event?.id);
    const jobPage = await browser.page(response.headers.get('location')!);
    assert.equal(jobPage.response.status, 200);
    assert.match(jobPage.html, /A test event is recorded/);
    const after = (await browser.page('/ui/alerts')).html;
    assert.match(after, new RegExp(`<li data-event-id="${event!.id}">[\\s\\S]*?tested rule[\\s\\S]*?test</span>`));
  });

  test('Disable keeps the rule but stops its judging, Enable turns it back on', async () => {
    const browser = new Browser(app);
    const id = await createRule(browser, { name: 'toggled rule' });
    const csrf = csrfOf((await browser.page('/ui/alerts')).html);
    const disabled = await browser.post(`/ui/alerts/${id}/disable`, { csrf });
    assert.equal(disabled.headers.get('location'), '/ui/alerts?notice=alert_disabled');
    assert.equal((await services.sql`select enabled from alert_rules where id = ${id}::bigint`)[0]!.enabled, false);
    const { html } = await browser.page('/ui/alerts');
    assert.match(html, new RegExp(`action="/ui/alerts/${id}/enable"`));
    assert.doesNotMatch(html, new RegExp(`action="/ui/alerts/${id}/disable"`));
    assert.equal((await browser.post(`/ui/alerts/${id}/enable`, { csrf })).status, 303);
    assert.equal((await services.sql`select enabled from alert_rules where id = ${id}::bigint`)[0]!.enabled, true);
  });

  test('Delete removes the rule and keeps its events; an unknown rule is a 404', async () => {
    const browser = new Browser(app);
    const id = await createRule(browser, { name: 'doomed rule' });
    const csrf = csrfOf((await browser.page('/ui/alerts')).html);
    assert.equal((await browser.post(`/ui/alerts/${id}/test`, { csrf })).status, 303);
    const deleted = await browser.post(`/ui/alerts/${id}/delete`, { csrf });
    assert.equal(deleted.status, 303);
    assert.equal(deleted.headers.get('location'), '/ui/alerts?notice=alert_deleted');
    assert.equal((await services.sql`select 1 from alert_rules where id = ${id}::bigint`).length, 0);
    const { html } = await browser.page('/ui/alerts');
    assert.doesNotMatch(html, new RegExp(`data-rule-id="${id}"`));
    assert.match(html, /doomed rule[\s\S]*?\(rule deleted\)/);
    for (const path of [`/ui/alerts/${id}/delete`, `/ui/alerts/${id}/test`, '/ui/alerts/not-an-id/disable']) {
      const missing = await browser.post(path, { csrf });
      assert.equal(missing.status, 404, path);
      assert.match(await missing.text(), /no alert rule with id/);
    }
  });

  test('a rule named with HTML is text on the page and in its events', async () => {
    const browser = new Browser(app);
    const name = '<script>alert("rule")</script><img src=x onerror=alert(1)>';
    const id = await createRule(browser, { name });
    const csrf = csrfOf((await browser.page('/ui/alerts')).html);
    assert.equal((await browser.post(`/ui/alerts/${id}/test`, { csrf })).status, 303);
    for (const path of ['/ui/alerts', '/ui/']) {
      const { html } = await browser.page(path);
      assert.match(html, /&lt;script&gt;alert\(&quot;rule&quot;\)&lt;\/script&gt;&lt;img src=x onerror=alert\(1\)&gt;/, path);
      assert.doesNotMatch(html, /<script>alert|<img src=x/, path);
    }
  });

  test('events page by keyset, 25 at a time, and a cursor that is not one is a 400', async () => {
    const browser = new Browser(app);
    const id = await createRule(browser, { name: 'paged rule' });
    const rule = (await getRule(services.sql, id))!;
    for (let i = 0; i < 30; i++) await recordTestEvent(services.sql, rule, { n: i }, []);
    const total = (await services.sql`select count(*)::int as n from alert_events`)[0]!.n as number;
    const seen: string[] = [];
    let path: string | undefined = '/ui/alerts';
    for (let pages = 0; path && pages < 10; pages++) {
      const { html } = await browser.page(path);
      const ids = [...html.matchAll(/data-event-id="(\d+)"/g)].map((m) => m[1]!);
      assert.ok(ids.length <= 25);
      seen.push(...ids);
      path = /href="(\/ui\/alerts\?before=[^"]+)" rel="next"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total, 'no event twice');
    const bad = await browser.request('/ui/alerts?before=not-a-cursor');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /`before` must be the `next` value/);
  });

  test('the overview shows the newest 5 events with a link to the Alerts page', async () => {
    const { html } = await new Browser(app).page('/ui/');
    const section = /<section aria-labelledby="alerts-h">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    const shown = [...section.matchAll(/data-event-id="(\d+)"/g)].map((m) => m[1]);
    const newest = await services.sql`select id::text as id from alert_events order by fired_at desc, id desc limit 5`;
    assert.deepEqual(shown, newest.map((row) => row.id));
    assert.match(section, /href="\/ui\/alerts"/);
  });
});

describe('alert rules seen by a read session', () => {
  test('shows the rules without a form or a button, and refuses create, test, disable and delete', async () => {
    const { app } = await appWith({ API_TOKEN: ADMIN, API_READ_TOKEN: READER });
    const admin = new Browser(app);
    await admin.signIn(ADMIN);
    const adminCsrf = csrfOf((await admin.page('/ui/alerts')).html);
    const created = await admin.post('/ui/alerts', { name: 'read-only view', kind: 'new_post', destination_type: 'slack', destination_url: 'https://hooks.example.com/services/T/B/read', csrf: adminCsrf });
    assert.equal(created.status, 303);
    const [{ id }] = (await services.sql`select id::text as id from alert_rules where name = 'read-only view'`) as unknown as [{ id: string }];

    const reader = new Browser(app);
    await reader.signIn(READER);
    const { html } = await reader.page('/ui/alerts');
    assert.match(html, /read-only view/);
    assert.doesNotMatch(html, /Create a rule|>Test<|>Disable<|>Delete<|name="destination_url"/);
    const csrf = csrfOf(html); // the sign-out form's
    const refused = [
      await reader.post('/ui/alerts', { name: 'by a reader', kind: 'new_post', destination_type: 'slack', destination_url: 'https://hooks.example.com/services/T/B/r', csrf }),
      await reader.post(`/ui/alerts/${id}/test`, { csrf }),
      await reader.post(`/ui/alerts/${id}/disable`, { csrf }),
      await reader.post(`/ui/alerts/${id}/delete`, { csrf }),
    ];
    for (const response of refused) {
      assert.equal(response.status, 403);
      assert.match(await response.text(), /read-only session cannot change anything/);
    }
    assert.equal((await services.sql`select 1 from alert_rules where name = 'by a reader'`).length, 0);
    assert.equal((await services.sql`select enabled from alert_rules where id = ${id}::bigint`)[0]!.enabled, true);
    assert.equal((await services.sql`select 1 from alert_events where rule_id = ${id}::bigint`).length, 0);
  });
});
