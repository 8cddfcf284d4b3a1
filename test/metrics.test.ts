// GET /metrics read back with a real parser of the Prometheus text format (parse-prometheus-text-format), checked
// against GET /jobs/status and against what the test itself did.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { createApp } from '../lib/api/app.ts';
import { startApiProcess } from '../lib/api/boot.ts';
import { loadConfig } from '../lib/config.ts';
import { silentLogger } from '../lib/log.ts';
import type { Job } from '../lib/model/job.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';
import { type WebhookReceiver, startWebhookReceiver } from './helpers/webhook-receiver.ts';
import { waitForJob } from './helpers/worker.ts';

const ADMIN = 'admin-token-for-metrics-tests-0123456789';
const READER = 'read-token-for-metrics-tests-0123456789';

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
}

const ended = (job: Job) => ['completed', 'failed', 'dead', 'cancelled'].includes(job.status);

describe('GET /metrics', () => {
  let upstream: FakeUpstream;
  let receiver: WebhookReceiver;
  let pipeline: Pipeline;
  let apps: Hono[];
  const now = Math.floor(Date.now() / 1000);
  const hits = Array.from({ length: 2 }, (_, i) => ({ objectID: String(100 + i), created_at_i: now - 60 * (i + 1), title: `Acme outage ${i}`, story_text: 'Acme is down, terrible', points: 1, author: 'someone', _tags: ['story'] }));

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.on('GET', '/api/v1/search_by_date', () => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hits, nbHits: hits.length }) }));
    receiver = await startWebhookReceiver();
    pipeline = await startPipeline('metrics', { SOURCE_BASE_URL_HACKERNEWS: upstream.baseUrl, WEBHOOK_ALLOW_NETWORKS: 'loopback', API_TOKEN: ADMIN, API_READ_TOKEN: READER });
    const { services, queue } = pipeline;
    const sources = await loadSourceRegistry(services.config);
    // Two apps stand for two API processes: what one counts, the other reports.
    apps = [0, 1].map(() => createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources, log: silentLogger }));
  });
  after(async () => {
    await pipeline?.close();
    await receiver?.close();
    await upstream?.close();
  });

  const call = (app: Hono, path: string, init: RequestInit = {}, token = ADMIN) =>
    app.request(path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

  async function scrape(): Promise<Family[]> {
    const res = await call(apps[1]!, '/metrics', {}, READER);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheusTextFormat(await res.text()) as Family[];
  }
  const family = (families: Family[], name: string) => {
    const found = families.find((f) => f.name === name);
    assert.ok(found, `no ${name} in the output`);
    return found;
  };
  const sample = (families: Family[], name: string, labels: Record<string, string> = {}) =>
    family(families, name).metrics.find((m) => Object.entries(labels).every(([key, value]) => m.labels?.[key] === value));

  test('every family the issue names is there, typed, and the job figures agree with GET /jobs/status', async () => {
    const rule = (await (await call(apps[0]!, '/alerts', {
      method: 'POST',
      body: JSON.stringify({ name: 'every outage', kind: 'new_post', query: 'acme', params: { keywords: ['outage'] }, destinations: [{ type: 'slack', url: receiver.url('/hook') }] }),
    })).json()) as { id: string };
    assert.equal((await pipeline.scrape('hackernews', 'acme')).status, 'completed');
    // The first run stores the past; the rule fires on the post the next run finds.
    hits.unshift({ ...hits[0]!, objectID: '99', created_at_i: now, title: 'Acme outage again' });
    const scraped = await pipeline.scrape('hackernews', 'acme');
    assert.equal(scraped.result?.inserted, 1);
    const failing = await pipeline.queue.enqueue({ kind: 'scrape', source: 'hackernews', query: '', limit: 5, priority: 0, maxAttempts: 1 });
    assert.equal((await waitForJob(pipeline.queue, failing.id, ended, 10_000)).status, 'failed');
    await receiver.waitFor('/hook', 1);
    // The receiver has answered; the worker records the job as completed a moment later.
    let delivery: Job | undefined;
    for (let tries = 0; tries < 100 && !delivery; tries++) {
      [delivery] = (await pipeline.queue.list({ status: 'completed', limit: 10 })).filter((job) => job.kind === 'alert-delivery');
      if (!delivery) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(delivery, 'the delivery job did not complete');
    // A retry waiting in the delayed set, so that state has something to count.
    await pipeline.worker.stop(1_000);
    await pipeline.queue.enqueue({ kind: 'scrape', source: 'hackernews', query: 'waiting', limit: 5, priority: 0 });
    await call(apps[0]!, `/jobs/${failing.id}`);
    await call(apps[0]!, '/no/such/route');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const families = await scrape();
    const status = (await (await call(apps[0]!, '/jobs/status')).json()) as Record<string, any>;
    for (const [name, type] of [
      ['vibe_jobs', 'GAUGE'], ['vibe_jobs_completed_total', 'COUNTER'], ['vibe_jobs_failed_total', 'COUNTER'], ['vibe_job_duration_seconds', 'HISTOGRAM'],
      ['vibe_queue_latency_seconds', 'GAUGE'], ['vibe_workers', 'GAUGE'], ['vibe_posts_ingested_total', 'COUNTER'],
      ['vibe_source_last_success_timestamp_seconds', 'GAUGE'], ['vibe_alert_events_total', 'COUNTER'], ['vibe_webhook_deliveries_total', 'COUNTER'],
      ['vibe_http_requests_total', 'COUNTER'], ['vibe_http_request_duration_seconds', 'HISTOGRAM'],
    ]) assert.equal(family(families, name!).type, type, name);

    const jobs = (state: string) => Number(sample(families, 'vibe_jobs', { state })?.value);
    assert.deepEqual([jobs('pending'), jobs('running'), jobs('delayed'), jobs('dead')], [status.pending, status.processing, status.delayed, status.dead]);
    assert.equal(jobs('pending'), 1);
    assert.equal(Number(sample(families, 'vibe_workers')?.value), status.workers.length);
    assert.equal(Number(sample(families, 'vibe_jobs_completed_total')?.value), status.completed_24h);
    assert.equal(status.completed_24h, 3, 'two scrapes and the delivery');
    const failed = family(families, 'vibe_jobs_failed_total').metrics;
    assert.equal(failed.reduce((sum, m) => sum + Number(m.value), 0), status.failed_24h);
    assert.equal(sample(families, 'vibe_jobs_failed_total', { code: 'invalid_query' })?.value, '1');
    assert.ok(Number(sample(families, 'vibe_queue_latency_seconds')?.value) >= 0);

    const duration = family(families, 'vibe_job_duration_seconds').metrics[0]!;
    // The parser keys buckets by `le` in an object, whose integer-like keys JavaScript orders first.
    const buckets = Object.entries(duration.buckets!).map(([le, count]) => [le === '+Inf' ? Infinity : Number(le), Number(count)] as const).sort((a, b) => a[0] - b[0]);
    assert.equal(buckets.length, 15);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]![1] >= buckets[i - 1]![1] && buckets[i]![0] > buckets[i - 1]![0], 'buckets must be cumulative');
    assert.equal(Number(duration.count), 4);
    assert.equal(buckets.at(-1)![1], 4);

    assert.equal(sample(families, 'vibe_posts_ingested_total', { source: 'hackernews' })?.value, '3');
    const lastSuccess = Number(sample(families, 'vibe_source_last_success_timestamp_seconds', { source: 'hackernews' })?.value);
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 120, `last success ${lastSuccess}`);
    assert.equal(sample(families, 'vibe_alert_events_total', { rule: 'every outage' })?.value, '1');
    assert.equal(sample(families, 'vibe_webhook_deliveries_total', { result: 'delivered' })?.value, '1');
    assert.ok(rule.id);

    // Requests to the first app, reported by the second, by route pattern.
    assert.equal(sample(families, 'vibe_http_requests_total', { route: '/jobs/:id', method: 'GET', status: '200' })?.value, '1');
    assert.equal(sample(families, 'vibe_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })?.value, '1');
    assert.equal(sample(families, 'vibe_http_requests_total', { route: '/alerts', method: 'POST', status: '201' })?.value, '1');
    const http = family(families, 'vibe_http_request_duration_seconds').metrics[0]!;
    const total = family(families, 'vibe_http_requests_total').metrics.reduce((sum, m) => sum + Number(m.value), 0);
    assert.equal(Number(http.count), total);
  });

  test('the read token is needed on the API port, and METRICS_LISTEN serves the same without one', async () => {
    assert.equal((await apps[0]!.request('/metrics')).status, 401);
    const config = loadConfig({ ...pipeline.services.env, API_TOKEN: ADMIN, API_READ_TOKEN: READER, HOST: '127.0.0.1', PORT: '0', METRICS_LISTEN: '127.0.0.1:0' });
    const api = await startApiProcess(config, silentLogger);
    try {
      assert.equal((await fetch(`http://127.0.0.1:${api.port}/metrics`)).status, 401);
      const open = await fetch(`http://127.0.0.1:${api.metricsPort}/metrics`);
      assert.equal(open.status, 200);
      const families = parsePrometheusTextFormat(await open.text()) as Family[];
      assert.ok(families.some((f) => f.name === 'vibe_jobs'));
      assert.equal((await fetch(`http://127.0.0.1:${api.metricsPort}/jobs`)).status, 404);
    } finally {
      await api.stop();
    }
  });
});
