import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

const ADMIN = 'admin-token-for-alert-tests-0123456789';
const READER = 'read-token-for-alert-tests-0123456789';
const SECRET = 'whsec-0123456789abcdef0123456789';

describe('alert rules over the API', () => {
  let services: TestServices;
  let app: Hono;

  before(async () => {
    services = await startServices('alerts_api', { API_TOKEN: ADMIN, API_READ_TOKEN: READER });
    const queue = new JobQueue(services.redis, queueSettings(services.config));
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
  });
  after(() => services.close());

  const call = (method: string, path: string, body?: unknown, token = ADMIN) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const webhookRule = (overrides: Record<string, unknown> = {}) => ({
    name: '1-star reviews',
    kind: 'new_post',
    query: 'acme.com',
    params: { max_rating: 1 },
    destinations: [{ type: 'webhook', url: 'https://hooks.example.com/vibe', secret: SECRET }],
    ...overrides,
  });

  async function expectError(response: Response | Promise<Response>, status: number, code: string): Promise<string> {
    const res = await response;
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 10, 'the message should explain the problem');
    return body.error.message;
  }

  test('an admin creates a rule, its defaults are filled in and its secret is never shown', async () => {
    const res = await call('POST', '/alerts', webhookRule());
    assert.equal(res.status, 201);
    const rule = (await res.json()) as Record<string, any>;
    assert.equal(res.headers.get('location'), `/alerts/${rule.id}`);
    assert.deepEqual(rule.params, { keywords: [], sentiments: [], max_rating: 1 });
    assert.equal(rule.cool_down_minutes, 0);
    assert.equal(rule.enabled, true);
    assert.equal(rule.destinations[0].has_secret, true);
    assert.ok(!JSON.stringify(rule).includes(SECRET), 'the secret came back');
    const listed = await (await call('GET', '/alerts', undefined, READER)).text();
    assert.ok(listed.includes('1-star reviews') && !listed.includes(SECRET));
  });

  test('spike rules get the default window, baseline, k and minimum, and a six-hour cool-down', async () => {
    const volume = (await (await call('POST', '/alerts', webhookRule({ name: 'volume', kind: 'volume_spike', params: undefined }))).json()) as Record<string, any>;
    assert.deepEqual(volume.params, { window_minutes: 60, baseline_days: 14, k: 3, min_baseline_days: 7, min_count: 3 });
    assert.equal(volume.cool_down_minutes, 360);
    const share = (await (await call('POST', '/alerts', webhookRule({ name: 'share', kind: 'negative_share_spike', params: { k: 4 } }))).json()) as Record<string, any>;
    assert.deepEqual(share.params, { window_minutes: 60, baseline_days: 14, k: 4, min_baseline_days: 7, min_volume: 10 });
  });

  test('a Slack-compatible destination shows only the origin and the last characters of its URL', async () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXsecretZ9';
    const rule = (await (await call('POST', '/alerts', webhookRule({ name: 'slack', destinations: [{ type: 'slack', url }] }))).json()) as Record<string, any>;
    assert.equal(rule.destinations[0].url, 'https://hooks.slack.com/…etZ9');
    assert.ok(!JSON.stringify(rule).includes('XXXXXXXX'));
  });

  test('PATCH changes one field and keeps the others, the destination secret included when named by its id', async () => {
    const created = (await (await call('POST', '/alerts', webhookRule({ name: 'to patch', params: { keywords: ['outage'], max_rating: 2 } }))).json()) as Record<string, any>;
    const destination = created.destinations[0];
    const res = await call('PATCH', `/alerts/${created.id}`, { params: { max_rating: 1 }, destinations: [{ id: destination.id, url: 'https://hooks.example.com/other' }] });
    assert.equal(res.status, 200);
    const patched = (await res.json()) as Record<string, any>;
    assert.deepEqual(patched.params, { keywords: ['outage'], sentiments: [], max_rating: 1 });
    assert.equal(patched.destinations[0].id, destination.id);
    assert.equal(patched.destinations[0].url, 'https://hooks.example.com/…ther');
    const [stored] = await services.sql<{ destinations: { url: string }[] }[]>`select destinations from alert_rules where id = ${created.id}`;
    assert.equal(stored!.destinations[0]!.url, 'https://hooks.example.com/other');
    const [row] = await services.sql<{ destinations: { secret: string }[] }[]>`select destinations from alert_rules where id = ${created.id}`;
    assert.equal(row!.destinations[0]!.secret, SECRET);
    const disabled = (await (await call('PATCH', `/alerts/${created.id}`, { enabled: false })).json()) as Record<string, any>;
    assert.equal(disabled.enabled, false);
    assert.equal(disabled.name, 'to patch');
  });

  test('DELETE removes the rule: 204, then 404', async () => {
    const created = (await (await call('POST', '/alerts', webhookRule({ name: 'to delete' }))).json()) as Record<string, any>;
    assert.equal((await call('DELETE', `/alerts/${created.id}`)).status, 204);
    await expectError(call('GET', `/alerts/${created.id}`), 404, 'alert_not_found');
    await expectError(call('DELETE', `/alerts/${created.id}`), 404, 'alert_not_found');
    await expectError(call('GET', '/alerts/not-a-number'), 404, 'alert_not_found');
  });

  test('the read token lists rules and events but cannot change anything', async () => {
    assert.equal((await call('GET', '/alerts', undefined, READER)).status, 200);
    assert.equal((await call('GET', '/alerts/events', undefined, READER)).status, 200);
    await expectError(call('POST', '/alerts', webhookRule(), READER), 403, 'forbidden');
    await expectError(app.request('/alerts'), 401, 'unauthorized');
  });

  test('a destination on a loopback, private or link-local address is refused when the rule is saved', async () => {
    for (const url of ['http://127.0.0.1:9000/hook', 'http://localhost/hook', 'http://10.1.2.3/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest/meta-data', 'http://192.168.1.1/']) {
      await expectError(call('POST', '/alerts', webhookRule({ destinations: [{ type: 'webhook', url, secret: SECRET }] })), 400, 'destination_not_allowed');
    }
  });

  test('every bad field is a 400 with its own code', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '' }, 'invalid_name'],
      [{ name: 'x'.repeat(101) }, 'invalid_name'],
      [{ kind: 'sometimes' }, 'invalid_kind'],
      [{ kind: undefined }, 'missing_kind'],
      [{ destinations: undefined }, 'missing_destinations'],
      [{ query: 42 }, 'invalid_query'],
      [{ sources: [] }, 'invalid_sources'],
      [{ sources: ['myspace'] }, 'unknown_source'],
      [{ params: { max_rating: 'one' } }, 'invalid_max_rating'],
      [{ params: { keywords: 'outage' } }, 'invalid_keywords'],
      [{ params: { sentiments: ['angry'] } }, 'invalid_sentiments'],
      [{ params: { window_minutes: 60 } }, 'unknown_param'],
      [{ params: [1] }, 'invalid_params'],
      [{ kind: 'volume_spike', params: { window_minutes: 45 } }, 'invalid_window_minutes'],
      [{ kind: 'volume_spike', params: { k: 0 } }, 'invalid_k'],
      [{ kind: 'volume_spike', params: { baseline_days: 0 } }, 'invalid_baseline_days'],
      [{ kind: 'volume_spike', params: { baseline_days: 7, min_baseline_days: 8 } }, 'invalid_min_baseline_days'],
      [{ kind: 'volume_spike', params: { min_count: 0 } }, 'invalid_min_count'],
      [{ kind: 'volume_spike', params: { min_volume: 5 } }, 'unknown_param'],
      [{ kind: 'negative_share_spike', params: { min_volume: 1.5 } }, 'invalid_min_volume'],
      [{ cool_down_minutes: -1 }, 'invalid_cool_down_minutes'],
      [{ enabled: 'yes' }, 'invalid_enabled'],
      [{ destinations: [] }, 'invalid_destinations'],
      [{ destinations: [{ type: 'pigeon', url: 'https://example.com/' }] }, 'invalid_destination_type'],
      [{ destinations: [{ type: 'webhook', url: 'ftp://example.com/', secret: SECRET }] }, 'invalid_destination_url'],
      [{ destinations: [{ type: 'webhook', url: 'https://user:pass@example.com/', secret: SECRET }] }, 'invalid_destination_url'],
      [{ destinations: [{ type: 'webhook', url: 'not a url', secret: SECRET }] }, 'invalid_destination_url'],
      [{ destinations: [{ type: 'webhook', url: 'https://example.com/' }] }, 'invalid_destination_secret'],
      [{ destinations: [{ type: 'webhook', url: 'https://example.com/', secret: 'short' }] }, 'invalid_destination_secret'],
      [{ destinations: [{ type: 'slack', url: 'https://example.com/', secret: SECRET }] }, 'invalid_destination_secret'],
      [{ destinations: [{ type: 'webhook', url: 'https://example.com/', secret: SECRET, headers: {} }] }, 'unknown_field'],
      [{ destinations: [{ id: 'abc', type: 'webhook' }] }, 'unknown_destination'],
      [{ colour: 'red' }, 'unknown_field'],
    ];
    for (const [overrides, code] of cases) {
      const body = Object.fromEntries(Object.entries(webhookRule(overrides)).filter(([, value]) => value !== undefined));
      await expectError(call('POST', '/alerts', body), 400, code);
    }
    await expectError(call('PATCH', '/alerts/1', {}), 400, 'empty_patch');
  });

  test('bad paging of GET /alerts/events is a 400', async () => {
    await expectError(call('GET', '/alerts/events?limit=0'), 400, 'invalid_limit');
    await expectError(call('GET', '/alerts/events?before=bm9wZQ'), 400, 'invalid_cursor');
    await expectError(call('GET', '/alerts/events?rule_id=abc'), 400, 'invalid_rule_id');
  });

  test('GET /alerts/events pages newest first and the pages meet without a gap or a repeat', async () => {
    const rule = (await (await call('POST', '/alerts', webhookRule({ name: 'paged' }))).json()) as Record<string, any>;
    for (let i = 0; i < 5; i++) {
      await services.sql`insert into alert_events (rule_id, rule_name, kind, evidence) values (${rule.id}, 'paged', 'new_post', ${services.sql.json({ i })})`;
    }
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page = (await (await call('GET', `/alerts/events?rule_id=${rule.id}&limit=2${next ? `&before=${next}` : ''}`, undefined, READER)).json()) as { events: { id: string; evidence: { i: number } }[]; next: string | null };
      seen.push(...page.events.map((event) => String(event.evidence.i)));
      next = page.next;
    } while (next);
    assert.deepEqual(seen, ['4', '3', '2', '1', '0']);
  });
});
