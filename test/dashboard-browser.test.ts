// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the real API process and
// worker, with posts ingested from a fake GitHub on loopback. Signing in, the feed's filters and pages, a post's
// link, a job followed live, cancel and retry, a tracked query added with the keyboard alone, the overview's bars,
// a post made of HTML and JavaScript that stays text, an alert rule created through its form whose test delivery
// reaches a webhook on loopback; axe-core and keyboard reachability on every page, and the screenshots
// docs/screenshots/ holds. The only test file that starts Chromium.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { type ApiProcess, startApiProcess } from '../lib/api/boot.ts';
import { loadConfig } from '../lib/config.ts';
import { dashboardPages } from '../lib/dashboard/pages.tsx';
import { silentLogger } from '../lib/log.ts';
import { startWorkerProcess } from '../lib/worker/boot.ts';
import { type FakeUpstream, type Reply, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';
import { type WebhookReceiver, startWebhookReceiver } from './helpers/webhook-receiver.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'admin-token-browser-0123456789';
const READER = 'read-token-browser-0123456789';
const DAY_MS = 86_400_000;
const SCREENSHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const XSS_TITLE = '<script>alert("title")</script>';
const XSS_AUTHOR = '<img src=x onerror=alert("author")>';
const XSS_BODY = '"><svg onload=alert("body")><iframe src="https://evil.example/"></iframe>';
const WEBHOOK_SECRET = 'browser-webhook-secret-0123456789';

/** Days before today the "acme" posts were written on: four days with posts in the last week, three without. */
const ACME_DAYS = [0, 1, 3, 6];

interface Item {
  id: number;
  title: string;
  body: string;
  login: string;
  createdAt: Date;
  url?: string;
}

function searchAnswer(upstream: FakeUpstream, items: Item[], total: number, next: string | null, delayMs = 0): Reply {
  return {
    delayMs,
    headers: { 'content-type': 'application/json', ...(next ? { link: `<${next}>; rel="next"` } : {}) },
    body: JSON.stringify({
      total_count: total,
      incomplete_results: false,
      items: items.map((item) => ({
        id: item.id,
        number: item.id,
        html_url: item.url ?? `${upstream.baseUrl}/acme/widgets/issues/${item.id}`,
        repository_url: `${upstream.baseUrl}/repos/acme/widgets`,
        title: item.title,
        body: item.body,
        user: { login: item.login },
        state: 'open',
        comments: 0,
        created_at: item.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        reactions: { total_count: item.id % 5 },
        labels: [],
      })),
    }),
  };
}

describe('the dashboard in Chromium', () => {
  let upstream: FakeUpstream;
  let receiver: WebhookReceiver;
  let pipeline: Pipeline;
  let api: ApiProcess;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let userDataDir: string;
  let deadJobId: string;
  const offLoopback: string[] = [];
  const dialogs: string[] = [];
  const failures: string[] = [];

  before(async () => {
    // Not a skip: npm run test:all installs Debian's chromium.
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
    upstream = await startFakeUpstream();
    receiver = await startWebhookReceiver();
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const acme: Item[] = [];
    for (let i = 0; i < 30; i++) {
      acme.push({
        id: 1000 + i,
        title: `Widget report ${i}`,
        body: i % 2 ? 'Awful, the widget is broken and slow, I hate it' : 'Great widget, I love it, works perfectly',
        login: `user${i}`,
        createdAt: new Date(today - ACME_DAYS[i % ACME_DAYS.length]! * DAY_MS + 3_600_000 + i * 60_000),
      });
    }
    acme.push({ id: 999, title: XSS_TITLE, body: XSS_BODY, login: XSS_AUTHOR, createdAt: new Date(today + 7_200_000), url: 'javascript:alert("link")' });
    acme.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const slow = (page: number): Item[] => Array.from({ length: 10 }, (_, i) => ({ id: 5000 + page * 10 + i, title: `Slow ${page}-${i}`, body: 'fine', login: 'slow', createdAt: new Date(today - page * 3_600_000 - i * 1000) }));
    upstream.on('GET', '/search/issues', (req) => {
      const q = req.query.get('q') ?? '';
      const pageNo = Number(req.query.get('page') ?? 1);
      const nextPage = (n: number) => `${upstream.baseUrl}/search/issues?q=${encodeURIComponent(q)}&page=${n}`;
      if (q.startsWith('acme')) return searchAnswer(upstream, acme, acme.length, null);
      // Three pages, each a while coming, so the job's page has something to follow.
      if (q.startsWith('slowquery')) return searchAnswer(upstream, slow(pageNo), 30, pageNo < 3 ? nextPage(pageNo + 1) : null, 1_500);
      // A page that takes longer than the test: the job runs until it is cancelled.
      if (q.startsWith('stuck')) return searchAnswer(upstream, [], 0, null, 120_000);
      return searchAnswer(upstream, [], 0, null);
    });
    upstream.on('GET', /^\/acme\/widgets\/issues\/\d+$/, (req) => ({
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><title>Issue</title><h1 id="issue">Issue ${req.path.split('/').pop()}</h1>`,
    }));

    // The alert webhook is the receiver on loopback, which a destination may point at only when allowed.
    const env = { SOURCE_BASE_URL_GITHUB: upstream.baseUrl, API_TOKEN: ADMIN, API_READ_TOKEN: READER, JOB_MAX_ATTEMPTS: '1', HOST: '127.0.0.1', PORT: '0', WEBHOOK_ALLOW_NETWORKS: 'loopback' };
    pipeline = await startPipeline('dashboard_browser', env);
    const config = loadConfig({ ...pipeline.services.env, ...env });
    // A dead job: taken by a worker that dies (its lease runs out) on its only attempt. The real worker is stopped
    // meanwhile, so that it does not take the job first.
    await pipeline.worker.stop(1_000);
    const doomed = await pipeline.queue.enqueue({ kind: 'scrape', source: 'github', query: 'revived', limit: 10, priority: 10, maxAttempts: 1 });
    const leases = pipeline.queue.leases();
    await leases.claimMany('worker-that-died', 1);
    await leases.sweep(Date.now() + 60_000);
    assert.equal((await pipeline.queue.get(doomed.id))?.status, 'dead');
    deadJobId = doomed.id;
    pipeline.worker = await startWorkerProcess(config, silentLogger);
    const scraped = await pipeline.scrape('github', 'acme', { limit: 100 });
    assert.equal(scraped.status, 'completed', JSON.stringify(scraped.error));

    api = await startApiProcess(config, silentLogger, dashboardPages);
    base = `http://127.0.0.1:${api.port}`;
    userDataDir = mkdtempSync(join(tmpdir(), 'vibe-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        // No name resolves but loopback's: whatever the page tried, it could not reach another machine.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      ],
      viewport: { width: 1280, height: 800 },
    });
    // Every request the pages make is seen here; one that would leave loopback is recorded and never sent.
    await context.route('**/*', (route) => {
      const { hostname, protocol } = new URL(route.request().url());
      if (protocol === 'data:' || hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
      offLoopback.push(route.request().url());
      return route.abort();
    });
    await context.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => failures.push(error.message));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await api?.stop();
    await pipeline?.close();
    await upstream?.close();
    await receiver?.close();
  });

  const cspViolations = () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

  /** Waits until `selector`'s text is `text`, through reloads of the page (a locator is looked up afresh each time). */
  async function waitForText(selector: string, text: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string | null = null;
    while (Date.now() < deadline) {
      last = await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => null);
      if (last === text) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`${selector} still reads ${JSON.stringify(last)}, not ${JSON.stringify(text)}, after ${timeoutMs} ms`);
  }

  async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`${what} within ${timeoutMs} ms`);
  }

  async function signIn(token: string, next = '/ui/') {
    await page.goto(`${base}${next}`);
    assert.match(new URL(page.url()).pathname, /^\/ui\/sign-in$/);
    await page.getByLabel('Token').fill(token);
    await page.getByLabel('Token').press('Enter');
    await page.waitForURL((url) => url.pathname === new URL(next, base).pathname);
  }

  async function signOut() {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/ui/sign-in');
  }

  test('a visitor is sent to sign in, and the admin token gives a session cookie that scripts cannot read', async () => {
    await signIn(ADMIN);
    const cookie = (await context.cookies(base)).find((c) => c.name === 'vibe_session');
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(cookie.expires > Date.now() / 1000);
    assert.equal(await page.evaluate(() => document.cookie), '');
    assert.match(await page.locator('.role').innerText(), /admin/);
  });

  test('the overview of the last 7 days for the query has a bar for each of the 4 days with posts', async () => {
    await page.goto(`${base}/ui/`);
    await page.locator('select[name="period"]').selectOption('7');
    await page.locator('select[name="query"]').selectOption({ label: 'all queries' });
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/period=7/);
    assert.equal(await page.locator('#volume-chart g.bar').count(), ACME_DAYS.length);
    assert.equal(await page.locator('#volume-chart tbody tr').count(), 7);
    const tooltip = await page.locator('#volume-chart g.bar title').first().textContent();
    assert.match(tooltip ?? '', /posts \(github \d+\)/);
    assert.ok((await page.locator('section[aria-labelledby="negative-h"] article').count()) > 0);
  });

  test('the feed filters and pages by keyset, and keeps the filter from page to page', async () => {
    await page.goto(`${base}/ui/feed`);
    await page.locator('select[name="source"]').selectOption('github');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/source=github/);
    assert.equal(await page.locator('article.post').count(), 25);
    const firstPage = await page.locator('article.post').evaluateAll((els) => els.map((el) => el.getAttribute('data-post-id')));
    await page.getByRole('link', { name: 'Older posts' }).click();
    await page.waitForURL(/before=/);
    assert.match(page.url(), /source=github/);
    assert.equal(await page.locator('article.post').count(), 31 - 25);
    const secondPage = await page.locator('article.post').evaluateAll((els) => els.map((el) => el.getAttribute('data-post-id')));
    assert.equal(new Set([...firstPage, ...secondPage]).size, 31);
    await page.getByRole('link', { name: 'Newest' }).click();
    await page.locator('select[name="sentiment"]').selectOption('negative');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/sentiment=negative/);
    const negatives = await page.locator('article.post').count();
    assert.equal(negatives, 15);
    assert.equal(await page.locator('article.post .badge.negative').count(), negatives);
    const csv = page.getByRole('link', { name: 'CSV' });
    assert.match((await csv.getAttribute('href')) ?? '', /^\/ui\/feed\/export\?.*sentiment=negative.*format=csv/);
  });

  test('a post\'s link opens the original, and tells it nothing of where it came from', async () => {
    await page.goto(`${base}/ui/feed?q=${encodeURIComponent('report 7')}`);
    const link = page.locator('article.post a.post-link', { hasText: 'Widget report 7' });
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    await link.click();
    await page.waitForURL((url) => url.origin === upstream.baseUrl);
    assert.match(await page.locator('#issue').innerText(), /^Issue 10\d\d$/);
    const visit = upstream.requests.filter((r) => r.path.startsWith('/acme/widgets/issues/')).at(-1);
    assert.equal(visit?.headers.referer, undefined);
  });

  test('a post whose title, author and text are HTML and script shows them as text, runs nothing and loads nothing', async () => {
    await page.goto(`${base}/ui/feed?source=github&q=alert`);
    const post = page.locator('article.post').filter({ hasText: 'alert("title")' });
    assert.equal(await post.count(), 1);
    assert.equal(await post.locator('.post-title').innerText(), XSS_TITLE);
    assert.equal(await post.locator('.author').innerText(), XSS_AUTHOR);
    assert.match(await post.locator('.post-text').innerText(), /<svg onload=alert\("body"\)><iframe/);
    assert.equal(await post.locator('a').count(), 0, 'the javascript: URL is no link');
    assert.equal(await page.locator('main img, main iframe, main svg[onload], main script').count(), 0);
    await page.waitForTimeout(500);
    assert.deepEqual(await cspViolations(), [], 'nothing on the page even tried to run');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(offLoopback, []);
  });

  test('the CSP holds: a script the page did not come with is refused', async () => {
    await page.goto(`${base}/ui/feed`);
    // What an injection would do if escaping ever failed: add inline script and style. The policy refuses both.
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
      const style = document.createElement('style');
      style.textContent = 'body { display: none }';
      document.head.append(style);
    });
    assert.equal(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected), undefined);
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).display), 'block');
    const refused = await cspViolations();
    assert.ok(refused.some((v) => v.startsWith('script-src')) && refused.some((v) => v.startsWith('style-src')), refused.join('; '));
  });

  test('a tracked query is added with the keyboard alone, and "Scrape now" opens its job, whose progress updates live', async () => {
    await page.goto(`${base}/ui/queries`);
    await page.getByRole('textbox', { name: 'Query' }).focus();
    await page.keyboard.type('slowquery');
    // Tab goes on through the source boxes, in the registry's order, to github's.
    const focused = () => page.evaluate(() => { const el = document.activeElement as HTMLInputElement | null; return `${el?.type} ${el?.value}`; });
    for (let i = 0; i < 12 && (await focused()) !== 'checkbox github'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'checkbox github');
    await page.keyboard.press('Space');
    await page.keyboard.press('Enter');
    await page.waitForURL(/notice=query_added/);
    const row = page.locator('tr[data-query="slowquery"]');
    assert.match(await row.innerText(), /github/);
    assert.match(await row.innerText(), /not run yet/);

    await row.getByRole('button', { name: 'Scrape now' }).click();
    await page.waitForURL(/\/ui\/queue\/jobs\/[0-9a-f-]+\?notice=scrape_queued/);
    // A mark the page keeps only as long as it is not loaded again: updates must come without a reload.
    await page.evaluate(() => ((window as unknown as { sameLoad: boolean }).sameLoad = true));
    await waitForText('[data-field="found"]', '10');
    await waitForText('[data-field="found"]', '20');
    assert.equal(await page.evaluate(() => (window as unknown as { sameLoad?: boolean }).sameLoad), true, 'the figures changed without a reload');
    assert.match(await page.locator('[data-field="status"]').innerText(), /running|pending/);
    assert.match(await page.locator('[data-field="live"]').innerText(), /Following live/);
    // Once it has finished, the page loads itself again to show what fits a finished job.
    await waitForText('[data-field="status"]', 'completed', 20_000);
    await waitUntil(async () => !(await page.evaluate(() => (window as unknown as { sameLoad?: boolean }).sameLoad)), 'the page loads again once the job has finished');
    await waitForText('[data-field="found"]', '30');
  });

  test('a running job is cancelled from its page', async () => {
    const job = await pipeline.queue.enqueue({ kind: 'scrape', source: 'github', query: 'stuck', limit: 10, priority: 5 });
    await waitForJob(pipeline.queue, job.id, (j) => j.status === 'running', 15_000);
    await page.goto(`${base}/ui/queue/jobs/${job.id}`);
    assert.equal(await page.locator('[data-field="status"]').innerText(), 'running');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/notice=job_cancell/);
    await waitForText('[data-field="status"]', 'cancelled');
    assert.equal((await pipeline.queue.get(job.id))?.status, 'cancelled');
    await waitUntil(async () => (await page.getByRole('button', { name: 'Cancel' }).count()) === 0, 'the Cancel button goes once the job is cancelled');
  });

  test('a dead job is found in the dead list and retried, and then runs', async () => {
    await page.goto(`${base}/ui/queue`);
    await page.getByRole('link', { name: /1\s+dead/ }).click();
    await page.waitForURL(/status=dead/);
    const row = page.locator(`tr[data-job-id="${deadJobId}"]`);
    assert.equal(await row.count(), 1);
    await row.getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL(new RegExp(`/ui/queue/jobs/${deadJobId}\\?notice=job_retried`));
    assert.match(await page.locator('.notice').innerText(), /queued again/);
    const done = await waitForJob(pipeline.queue, deadJobId, isFinished, 20_000);
    assert.equal(done.status, 'completed');
  });

  test('an alert rule is created through its form, shown without its secret, and its Test delivery reaches the webhook', async () => {
    await page.goto(`${base}/ui/alerts`);
    const form = page.locator('form[action="/ui/alerts"]');
    await form.locator('input[name="name"]').fill('Broken widgets');
    await form.locator('select[name="kind"]').selectOption('new_post');
    await form.locator('select[name="query"]').selectOption({ label: 'every query' });
    await form.getByRole('checkbox', { name: 'github', exact: true }).check();
    await form.locator('input[name="keywords"]').fill('broken, slow');
    await form.getByRole('checkbox', { name: 'negative', exact: true }).check();
    await form.locator('input[name="destination_url"]').fill(receiver.url('/hooks/vibe'));
    await form.locator('input[name="destination_secret"]').fill(WEBHOOK_SECRET);
    await form.getByRole('button', { name: 'Create rule' }).click();
    await page.waitForURL(/\/ui\/alerts\?notice=alert_created/);
    assert.match(await page.locator('.notice').innerText(), /created/);
    const row = page.locator('tr[data-rule-id]', { hasText: 'Broken widgets' });
    assert.equal(await row.count(), 1);
    const text = await row.innerText();
    assert.match(text, /new_post/);
    assert.match(text, /keywords: broken, slow/);
    assert.match(text, /sentiments: negative/);
    assert.match(text, /webhook http:\/\/127\.0\.0\.1:\d+\/…vibe \(signed\)/);
    assert.ok(!(await page.content()).includes(WEBHOOK_SECRET), 'the secret is not on the page');

    await row.getByRole('button', { name: 'Test' }).click();
    await page.waitForURL(/\/ui\/queue\/jobs\/[^?]+\?notice=alert_test_queued/);
    const [delivery] = await receiver.waitFor('/hooks/vibe', 1, 20_000);
    assert.match(delivery!.body, /"name":"Broken widgets"/);
    await waitForText('[data-field="status"]', 'completed', 20_000);
    await page.goto(`${base}/ui/alerts`);
    assert.match(await page.locator('ul.events li').first().innerText(), /Broken widgets[\s\S]*test/);
  });

  test('a read session has no button that changes anything', async () => {
    await signOut();
    await signIn(READER, '/ui/queue');
    assert.match(await page.locator('.role').innerText(), /read-only/);
    for (const path of ['/ui/queue', '/ui/queue?status=cancelled', '/ui/queries', '/ui/alerts', '/ui/backups']) {
      await page.goto(`${base}${path}`);
      const posting = await page.locator('form[method="post"]').evaluateAll((forms) => forms.map((f) => f.getAttribute('action')));
      assert.deepEqual(posting, ['/ui/sign-out'], path);
    }
    await signOut();
    await signIn(ADMIN);
  });

  const PAGES: [string, string][] = [
    ['overview', '/ui/?period=30'],
    ['feed', '/ui/feed?source=github'],
    ['queries', '/ui/queries'],
    ['queue', '/ui/queue'],
    ['job', ''],
    ['sources', '/ui/sources'],
    ['alerts', '/ui/alerts'],
    ['backups', '/ui/backups'],
    ['sign-in', '/ui/sign-in'],
  ];

  test('every page has no serious or critical axe-core violation, every control is reached with Tab, and is photographed', async () => {
    // A scrape's page, the one with figures to show: the newest completed job may be an alert delivery.
    const scrape = (await pipeline.queue.list({ status: 'completed', limit: 50 })).find((job) => job.kind === 'scrape');
    assert.ok(scrape, 'a completed scrape');
    for (const [name, pathGiven] of PAGES) {
      const path: string = pathGiven || `/ui/queue/jobs/${scrape.id}`;
      if (name === 'sign-in') await signOut();
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`${base}${path}`);
      assert.equal(new URL(page.url()).pathname, new URL(path, base).pathname, name);
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-desktop.png`) });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`) });
      await page.setViewportSize({ width: 1280, height: 800 });
      // Evaluated through the debugging protocol, which the page's CSP does not govern (a <script> tag would be refused).
      await page.evaluate(AXE);
      const violations = await page.evaluate(async () => {
        const result = await (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
      });
      const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(grave, [], `${name}: ${JSON.stringify(grave)}`);

      const controls = await page.evaluate(() => {
        const all = [...document.querySelectorAll<HTMLElement>('a[href], button, input:not([type="hidden"]), select, textarea, summary')];
        return all.filter((el) => el.getClientRects().length > 0).map((el, i) => {
          el.dataset.reach = String(i);
          return `${el.tagName.toLowerCase()} ${el.textContent?.trim().slice(0, 30) || el.getAttribute('name') || ''}`;
        });
      });
      const reached = new Set<number>();
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      for (let i = 0; i < controls.length * 2 + 10 && reached.size < controls.length; i++) {
        await page.keyboard.press('Tab');
        const at = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.reach);
        if (at !== undefined) reached.add(Number(at));
      }
      const missed = controls.filter((_, i) => !reached.has(i));
      assert.deepEqual(missed, [], `${name}: not reached with Tab`);

      if (name === 'sign-in') await signIn(ADMIN);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(failures, [], 'no script error on any page');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(offLoopback, []);
  });
});
