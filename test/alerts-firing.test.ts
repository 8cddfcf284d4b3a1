// Each kind of rule fires on real posts: a fake Hacker News serves them, the real worker scrapes and stores them,
// the rules are judged right after the ingest (or by the scheduled check) and the events go out as webhooks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { recordEvent } from '../lib/db/alerts.ts';
import { silentLogger } from '../lib/log.ts';
import { tickHandlers } from '../lib/scheduler/schedules.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';
import { type WebhookReceiver, startWebhookReceiver, verifySignature } from './helpers/webhook-receiver.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

const HOUR = 3_600_000;
const SECRET = 'a-webhook-secret-for-the-firing-tests';
const CALM = ['I love Acme, great product, works really well', 'Acme support was helpful and friendly, thanks'];
const GRUMPY = 'Acme is slow today, terrible support';
const OUTAGE = 'Acme outage: the worst service, horrible and useless';

interface Hit {
  objectID: string;
  created_at_i: number;
  title: string;
  story_text: string;
  points: number;
  author: string;
  _tags: string[];
}

/** Algolia's search_by_date as the source reads it: newest first, numericFilters on created_at_i, hitsPerPage. */
function serveHackerNews(upstream: FakeUpstream, hits: Map<string, Hit[]>): void {
  upstream.on('GET', '/api/v1/search_by_date', (req) => {
    let found = [...(hits.get(req.query.get('query') ?? '') ?? [])];
    for (const filter of (req.query.get('numericFilters') ?? '').split(',').filter(Boolean)) {
      const [, op, value] = /^created_at_i([<>]=)(\d+)$/.exec(filter) ?? [];
      found = found.filter((hit) => (op === '>=' ? hit.created_at_i >= Number(value) : hit.created_at_i <= Number(value)));
    }
    found.sort((a, b) => b.created_at_i - a.created_at_i);
    const page = found.slice(0, Number(req.query.get('hitsPerPage') ?? 20));
    return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hits: page, nbHits: found.length }) };
  });
}

let serial = 0;
const hit = (at: number, text: string, points = 5): Hit => ({
  objectID: String(++serial),
  created_at_i: Math.floor(at / 1000),
  title: `Post ${serial}`,
  story_text: text,
  points,
  author: `user${serial % 7}`,
  _tags: ['story'],
});

/** Eight days of two posts an hour before the current hour, one in five of them grumpy. */
function baseline(hourStart: number, hours = 192, skipHours = 1): Hit[] {
  const out: Hit[] = [];
  for (let h = skipHours; h < hours + skipHours; h++) {
    out.push(hit(hourStart - h * HOUR + 600_000, h % 5 === 0 ? GRUMPY : CALM[h % 2]!));
    out.push(hit(hourStart - h * HOUR + 2_400_000, h % 5 === 2 ? GRUMPY : CALM[(h + 1) % 2]!));
  }
  return out;
}

describe('alert rules fire on posts ingested through the real worker', () => {
  let upstream: FakeUpstream;
  let receiver: WebhookReceiver;
  let pipeline: Pipeline;
  let app: Hono;
  const hits = new Map<string, Hit[]>();
  let hourStart = 0;

  before(async () => {
    // The test's posts fall in the current hour, before now: too near its end the next hour would begin mid-test,
    // and too near its start there is no room for them.
    const intoHour = Date.now() % HOUR;
    if (intoHour > HOUR - 90_000) await new Promise((resolve) => setTimeout(resolve, HOUR - intoHour + 60_000));
    else if (intoHour < 60_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoHour));
    hourStart = Math.floor(Date.now() / HOUR) * HOUR;
    upstream = await startFakeUpstream();
    serveHackerNews(upstream, hits);
    receiver = await startWebhookReceiver();
    pipeline = await startPipeline('alerts_firing', { SOURCE_BASE_URL_HACKERNEWS: upstream.baseUrl, WEBHOOK_ALLOW_NETWORKS: 'loopback', SCRAPE_MAX_NEW_POSTS: '5000' });
    const { services, queue } = pipeline;
    app = createApp({ config: pipeline.services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
  });
  after(async () => {
    await pipeline?.close();
    await receiver?.close();
    await upstream?.close();
  });

  /** `n` times spread over the current hour so far (a post from the future is not what a source sends). */
  const soFar = (n: number, after = hourStart) => {
    const from = after + 1_000;
    const span = Date.now() - 2_000 - from;
    return Array.from({ length: n }, (_, i) => from + Math.floor((span * i) / n));
  };
  const createRule = async (rule: Record<string, unknown>) => {
    const res = await app.request('/alerts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; destinations: { id: string }[] };
  };
  const eventsOf = async (ruleId: string) =>
    ((await (await app.request(`/alerts/events?rule_id=${ruleId}`)).json()) as { events: { id: string; kind: string; window_start: string | null; evidence: Record<string, any>; post_ids: string[] }[] }).events;
  const webhook = (path: string) => [{ type: 'webhook', url: receiver.url(path), secret: SECRET }];

  test('a burst of angry posts fires new_post, volume_spike and negative_share_spike once each, with what fired them', async () => {
    const newPost = await createRule({ name: 'outages', kind: 'new_post', query: 'acme', sources: ['hackernews'], params: { keywords: ['OUTAGE'], sentiments: ['negative'], max_rating: 10 }, cool_down_minutes: 60, destinations: webhook('/new-post') });
    const volume = await createRule({ name: 'acme volume', kind: 'volume_spike', query: 'acme', destinations: [...webhook('/volume'), { type: 'slack', url: receiver.url('/slack') }] });
    const share = await createRule({ name: 'acme negative share', kind: 'negative_share_spike', sources: ['hackernews'], query: 'acme', destinations: webhook('/share') });
    const elsewhere = await createRule({ name: 'other query', kind: 'new_post', query: 'globex', destinations: webhook('/elsewhere') });

    // The first run stores the past: an outage post in it is history, not news.
    hits.set('acme', [...baseline(hourStart), hit(hourStart - 30 * HOUR, OUTAGE)]);
    const first = await pipeline.scrape('hackernews', 'acme', { limit: 1000 });
    assert.equal(first.status, 'completed', JSON.stringify(first.error));
    assert.equal(first.result?.inserted, 385);
    for (const rule of [newPost, volume, share]) assert.deepEqual(await eventsOf(rule.id), [], 'the baseline alone fired a rule');

    // 30 posts in the current hour, 20 of them about an outage (one of those rated above the rule's maximum).
    const at = soFar(30);
    const burst = [
      ...Array.from({ length: 19 }, (_, i) => hit(at[i]!, OUTAGE, 3)),
      hit(at[19]!, OUTAGE, 50),
      ...Array.from({ length: 10 }, (_, i) => hit(at[20 + i]!, CALM[i % 2]!)),
    ];
    hits.get('acme')!.push(...burst);
    const second = await pipeline.scrape('hackernews', 'acme');
    assert.equal(second.result?.inserted, 30);

    const [np] = await eventsOf(newPost.id);
    assert.ok(np, 'new_post did not fire');
    assert.equal(np.post_ids.length, 19, 'the post rated above max_rating was told of');
    assert.equal(np.evidence.matched, 19);

    const volumeEvents = await eventsOf(volume.id);
    assert.equal(volumeEvents.length, 1);
    const v = volumeEvents[0]!;
    assert.equal(v.window_start, new Date(hourStart).toISOString());
    assert.equal(v.evidence.count, 30);
    assert.equal(v.evidence.complete, false);
    assert.ok(v.evidence.expected > 0.5 && v.evidence.expected < 6, `expected ${v.evidence.expected}`);
    assert.ok(v.evidence.sigma > 0 && v.evidence.threshold <= 30 && v.evidence.threshold >= 3, JSON.stringify(v.evidence));
    assert.equal(v.post_ids.length, 30);

    const shareEvents = await eventsOf(share.id);
    assert.equal(shareEvents.length, 1);
    const s = shareEvents[0]!.evidence;
    assert.deepEqual([s.count, s.negative], [30, 20]);
    assert.ok(s.baselineShare > 0.1 && s.baselineShare < 0.35, `baseline share ${s.baselineShare}`);
    assert.equal(shareEvents[0]!.post_ids.length, 20);
    assert.deepEqual(await eventsOf(elsewhere.id), []);

    // The deliveries: signed JSON to each webhook, text and blocks to the Slack-compatible one.
    const [delivered] = await receiver.waitFor('/volume', 1);
    assert.ok(verifySignature(SECRET, delivered!.headers['x-vibe-signature'], delivered!.body), 'the signature does not verify');
    const body = JSON.parse(delivered!.body);
    assert.equal(body.rule.name, 'acme volume');
    assert.equal(body.event.evidence.count, 30);
    assert.equal(body.posts.length, 20);
    assert.match(body.posts[0].url, /^https:\/\/news\.ycombinator\.com\/item\?id=\d+$/);
    assert.equal(delivered!.headers['x-vibe-delivery'], body.delivery_id);
    const [slack] = await receiver.waitFor('/slack', 1);
    const slackBody = JSON.parse(slack!.body);
    assert.match(slackBody.text, /acme volume: 30 posts/);
    assert.ok(slackBody.blocks.length >= 2);
    assert.equal(slack!.headers['x-vibe-signature'], undefined);
    await receiver.waitFor('/new-post', 1);
    await receiver.waitFor('/share', 1);
  });

  test('more posts within the cool-down add no event', async () => {
    const rules = (await (await app.request('/alerts')).json()) as { alerts: { id: string; name: string }[] };
    const before = await Promise.all(rules.alerts.map(async (rule) => (await eventsOf(rule.id)).length));
    // Newer than what the last run reached, as a source's new posts are.
    const newest = Math.max(...hits.get('acme')!.map((h) => h.created_at_i * 1000));
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const at = soFar(15, newest);
    hits.get('acme')!.push(...Array.from({ length: 15 }, (_, i) => hit(at[i]!, OUTAGE, 1)));
    const third = await pipeline.scrape('hackernews', 'acme');
    assert.equal(third.result?.inserted, 15);
    const afterwards = await Promise.all(rules.alerts.map(async (rule) => (await eventsOf(rule.id)).length));
    assert.deepEqual(afterwards, before);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.deliveries('/new-post').length, 1);
  });

  test('workers racing to record the same firing record one event', async () => {
    const rule = await createRule({ name: 'race', kind: 'volume_spike', query: 'nobody', destinations: webhook('/race') });
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () => recordEvent(pipeline.services.sql, { ruleId: rule.id, windowStart: new Date(hourStart), evidence: {}, postIds: [] })),
    );
    assert.equal(outcomes.filter(Boolean).length, 1);
  });

  test('the scheduled check ends a window of a source that went quiet', async () => {
    const share = await createRule({ name: 'globex share', kind: 'negative_share_spike', query: 'globex', cool_down_minutes: 0, destinations: webhook('/globex') });
    // Eight days of baseline before the last hour; in the last hour, 12 posts, 10 of them angry; nothing since.
    const previous = hourStart - HOUR;
    hits.set('globex', [
      ...baseline(hourStart, 192, 2),
      ...Array.from({ length: 10 }, (_, i) => hit(previous + 60_000 + i * 60_000, OUTAGE.replace('Acme', 'Globex'))),
      hit(previous + 1_000_000, CALM[0]!.replace('Acme', 'Globex')),
      hit(previous + 1_100_000, CALM[1]!.replace('Acme', 'Globex')),
    ]);
    const scraped = await pipeline.scrape('hackernews', 'globex', { limit: 1000 });
    assert.equal(scraped.result?.inserted, 396);
    assert.deepEqual(await eventsOf(share.id), [], 'the open window (empty) should not fire');

    // What the scheduler's alert-check tick enqueues.
    const tick = await tickHandlers({ config: pipeline.services.config, sql: pipeline.services.sql, queue: pipeline.queue, sources: await loadSourceRegistry(pipeline.services.config) })['alert-check']();
    const done = await waitForJob(pipeline.queue, tick.job_id!, isFinished, 20_000);
    assert.equal(done.kind, 'alert-check');
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    const [event] = await eventsOf(share.id);
    assert.ok(event, 'the ended window did not fire');
    assert.equal(event.window_start, new Date(previous).toISOString());
    assert.deepEqual([event.evidence.count, event.evidence.negative, event.evidence.complete], [12, 10, true]);

    // A second check judges that window no more.
    const again = await pipeline.queue.enqueue({ kind: 'alert-check', source: '', query: '', limit: 1, priority: 6, maxAttempts: 1 });
    await waitForJob(pipeline.queue, again.id, isFinished, 20_000);
    assert.equal((await eventsOf(share.id)).length, 1);
    await receiver.waitFor('/globex', 1);
  });
});
