// Deliveries are jobs on our queue: a real receiver on loopback answers 500, then 429 and 503 with Retry-After, and
// the retries wait as asked; a receiver that keeps failing ends in the dead-letter list; one failing destination
// does not hold up another; and the SSRF rules hold when the job runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import type { Job } from '../lib/model/job.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';
import { type WebhookReceiver, startWebhookReceiver, verifySignature } from './helpers/webhook-receiver.ts';
import { waitForJob } from './helpers/worker.ts';

const SECRET = 'a-webhook-secret-for-the-delivery-tests';
const ended = (job: Job) => ['completed', 'failed', 'dead', 'cancelled'].includes(job.status);

async function appFor(pipeline: Pipeline): Promise<Hono> {
  const { services, queue } = pipeline;
  return createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
}

async function createRule(app: Hono, destinations: unknown[]): Promise<{ id: string; destinations: { id: string }[] }> {
  const res = await app.request('/alerts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'deliveries', kind: 'new_post', destinations }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string; destinations: { id: string }[] };
}

async function sendTest(app: Hono, ruleId: string): Promise<string[]> {
  const res = await app.request(`/alerts/${ruleId}/test`, { method: 'POST', headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 202, await res.clone().text());
  const body = (await res.json()) as { job_id: string; job_ids: string[]; event: { test: boolean } };
  assert.equal(body.event.test, true);
  assert.equal(body.job_id, body.job_ids[0]);
  return body.job_ids;
}

describe('alert deliveries to a receiver the operator allowed', () => {
  let receiver: WebhookReceiver;
  let pipeline: Pipeline;
  let app: Hono;

  before(async () => {
    receiver = await startWebhookReceiver();
    // A short lease makes the worker promote due retries every second, so a retry's delay is what it was asked to be.
    pipeline = await startPipeline('alerts_delivery', { WEBHOOK_ALLOW_NETWORKS: 'loopback', ALERT_DELIVERY_MAX_ATTEMPTS: '4', JOB_RETRY_BASE_MS: '100', JOB_LEASE_MS: '2000' });
    app = await appFor(pipeline);
  });
  after(async () => {
    await pipeline?.close();
    await receiver?.close();
  });

  test('a delivery retried after a 500, then after a 429 and a 503 waits as long as Retry-After asks, signed every time', async () => {
    receiver.answer('/flaky', { status: 500 }, { status: 429, headers: { 'retry-after': '2' } }, { status: 503, headers: { 'retry-after': '1' } }, { status: 200 });
    const rule = await createRule(app, [{ type: 'webhook', url: receiver.url('/flaky'), secret: SECRET }]);
    const [jobId] = await sendTest(app, rule.id);
    const job = await waitForJob(pipeline.queue, jobId!, ended, 30_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.attempts, 4);
    const tries = receiver.deliveries('/flaky');
    assert.equal(tries.length, 4);
    assert.ok(tries[2]!.time - tries[1]!.time >= 1_950, `the retry after "Retry-After: 2" came after ${tries[2]!.time - tries[1]!.time} ms`);
    assert.ok(tries[3]!.time - tries[2]!.time >= 950, `the retry after "Retry-After: 1" came after ${tries[3]!.time - tries[2]!.time} ms`);
    assert.ok(tries[1]!.time - tries[0]!.time < 1_900, `the retry after a plain 500 came after ${tries[1]!.time - tries[0]!.time} ms, not after the short backoff`);
    for (const delivery of tries) {
      assert.ok(verifySignature(SECRET, delivery.headers['x-vibe-signature'], delivery.body), 'an attempt was not signed');
      assert.equal(delivery.headers['x-vibe-delivery'], jobId, 'every attempt carries the same delivery id');
    }
    assert.ok(!verifySignature('another-secret-of-enough-length', tries[0]!.headers['x-vibe-signature'], tries[0]!.body));
    assert.ok(!verifySignature(SECRET, tries[0]!.headers['x-vibe-signature'], `${tries[0]!.body} `));
    const body = JSON.parse(tries[3]!.body);
    assert.equal(body.event.test, true);
    assert.equal(body.rule.id, rule.id);
  });

  test('a receiver that keeps failing leaves the delivery in the dead-letter list, listed by GET /jobs, and holds up no other destination', async () => {
    receiver.answer('/down', { status: 500 });
    const rule = await createRule(app, [
      { type: 'webhook', url: receiver.url('/down'), secret: SECRET },
      { type: 'slack', url: receiver.url('/fine') },
    ]);
    const [downId, fineId] = await sendTest(app, rule.id);
    const fine = await waitForJob(pipeline.queue, fineId!, ended, 10_000);
    assert.equal(fine.status, 'completed');
    assert.equal(receiver.deliveries('/fine').length, 1);
    const down = await waitForJob(pipeline.queue, downId!, ended, 30_000);
    assert.equal(down.status, 'dead');
    assert.equal(down.attempts, 4);
    assert.equal(down.error?.code, 'delivery_unavailable');
    assert.match(down.error?.message ?? '', /dead-letter list/);
    assert.equal(receiver.deliveries('/down').length, 4);
    const listed = (await (await app.request('/jobs?status=dead')).json()) as { jobs: { id: string; kind: string }[] };
    assert.ok(listed.jobs.some((job) => job.id === downId && job.kind === 'alert-delivery'));
    // Once the receiver is fixed, the dead delivery is sent again.
    receiver.answer('/down', { status: 204 });
    assert.equal((await app.request(`/jobs/${downId}/retry`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status, 202);
    assert.equal((await waitForJob(pipeline.queue, downId!, ended, 10_000)).status, 'completed');
  });

  test('a receiver that refuses the delivery (410) ends it at once, dead-lettered with delivery_rejected', async () => {
    receiver.answer('/gone', { status: 410 });
    const rule = await createRule(app, [{ type: 'webhook', url: receiver.url('/gone'), secret: SECRET }]);
    const [jobId] = await sendTest(app, rule.id);
    const job = await waitForJob(pipeline.queue, jobId!, ended, 10_000);
    assert.deepEqual([job.status, job.attempts, job.error?.code], ['dead', 1, 'delivery_rejected']);
  });

  test('an event whose deliveries never reached the queue is delivered by the next scheduled check, once', async () => {
    const { sql } = pipeline.services;
    const rule = await createRule(app, [{ type: 'webhook', url: receiver.url('/late'), secret: SECRET }]);
    // As the worker that fired it leaves it when Redis refused the enqueue: recorded, no delivery queued.
    const [event] = await sql<{ id: string }[]>`
      insert into alert_events (rule_id, rule_name, kind, fired_at, evidence)
      values (${rule.id}, 'deliveries', 'new_post', now() - interval '5 minutes', '{"matched": 1}') returning id::text as id
    `;
    // One that fired a moment ago may still be being enqueued by its own run, and a test event is the caller's.
    await sql`insert into alert_events (rule_id, rule_name, kind, evidence) values (${rule.id}, 'deliveries', 'new_post', '{}')`;
    await sql`insert into alert_events (rule_id, rule_name, kind, fired_at, evidence, test) values (${rule.id}, 'deliveries', 'new_post', now() - interval '5 minutes', '{}', true)`;
    for (let check = 0; check < 2; check++) {
      const job = await pipeline.queue.enqueue({ kind: 'alert-check', source: '', query: '', limit: 1, priority: 6, maxAttempts: 2 });
      const done = await waitForJob(pipeline.queue, job.id, ended, 15_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.deepEqual(done.result?.redelivered, check === 0 ? [event!.id] : []);
    }
    const deadline = Date.now() + 10_000;
    while (receiver.deliveries('/late').length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const deliveries = receiver.deliveries('/late');
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0]!.headers['x-vibe-event'], event!.id);
    assert.ok(verifySignature(SECRET, deliveries[0]!.headers['x-vibe-signature'], deliveries[0]!.body));
  });
});

describe('alert deliveries when the operator allowed no private network', () => {
  let receiver: WebhookReceiver;
  let pipeline: Pipeline;

  before(async () => {
    receiver = await startWebhookReceiver();
    pipeline = await startPipeline('alerts_ssrf', { ALERT_DELIVERY_MAX_ATTEMPTS: '3' });
  });
  after(async () => {
    await pipeline?.close();
    await receiver?.close();
  });

  test('a destination stored with a loopback address or name is refused when the job runs, and nothing is sent', async () => {
    const { sql } = pipeline.services;
    const port = new URL(receiver.url('/')).port;
    for (const host of ['127.0.0.1', 'localhost']) {
      // Written past the API's own check, as a rule saved under another WEBHOOK_ALLOW_NETWORKS would be.
      const destinations = [{ id: 'd1', type: 'webhook', url: `http://${host}:${port}/ssrf`, secret: SECRET }];
      const [rule] = await sql<{ id: string }[]>`
        insert into alert_rules (name, kind, params, cool_down_minutes, destinations)
        values ('ssrf', 'new_post', ${sql.json({ keywords: [], sentiments: [], maxRating: null })}, 0, ${sql.json(destinations)}) returning id::text as id
      `;
      const [event] = await sql<{ id: string }[]>`insert into alert_events (rule_id, rule_name, kind, evidence, test) values (${rule!.id}, 'ssrf', 'new_post', '{}', true) returning id::text as id`;
      const job = await pipeline.queue.enqueue({ kind: 'alert-delivery', source: 'webhook', query: `${event!.id}:d1`, limit: 1, priority: 5, maxAttempts: 3 });
      const done = await waitForJob(pipeline.queue, job.id, ended, 10_000);
      assert.deepEqual([done.status, done.attempts, done.error?.code], ['dead', 1, 'delivery_refused'], `${host}: ${JSON.stringify(done.error)}`);
      assert.match(done.error!.message, /WEBHOOK_ALLOW_NETWORKS/);
    }
    assert.equal(receiver.deliveries().length, 0);
  });
});
