// Data-integrity edges: text PostgreSQL cannot store, an outbox row it refuses, a parent whose flusher died at the
// worst moment, what a dead job answers to DELETE, and what a final failure says.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { copyJobHistory, flushJobHistory } from '../lib/history/copy.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { createBlockingRedis } from '../lib/redis/client.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type FakeUpstream, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';
import { spawnEntry } from './helpers/processes.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

describe('data integrity', () => {
  let upstream: FakeUpstream;
  let pipeline: Pipeline;
  let queue: JobQueue;
  let app: Hono;

  before(async () => {
    upstream = await startFakeUpstream();
    pipeline = await startPipeline('integrity', { SOURCE_BASE_URL_GITHUB: upstream.baseUrl, RATE_LIMIT_GITHUB: '1000/1', JOB_MAX_ATTEMPTS: '2' });
    queue = pipeline.queue;
    const { services } = pipeline;
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
  });
  after(async () => {
    await pipeline?.close();
    await upstream?.close();
  });

  const issue = (id: number, fields: Record<string, unknown>) => ({
    id,
    number: id,
    html_url: `https://github.com/acme/app/issues/${id}`,
    created_at: `2026-05-0${id}T10:00:00Z`,
    title: `Issue ${id}`,
    body: 'plain',
    user: { login: 'someone' },
    ...fields,
  });

  test('a post whose text holds NUL or a lone surrogate is stored cleaned, with the rest of its page', async () => {
    // JSON can carry both as escapes; PostgreSQL's text and jsonb take neither.
    const body = `{"total_count":3,"incomplete_results":false,"items":[
      ${JSON.stringify(issue(3, { title: 'NUL\u0000 in the title', labels: [{ name: 'bad\u0000label' }] }))},
      ${JSON.stringify(issue(2, { body: 'a lone \ud800 surrogate' }))},
      ${JSON.stringify(issue(1, {}))}]}`;
    upstream.on('GET', '/search/issues', () => ({ headers: { 'content-type': 'application/json' }, body }));
    const job = await pipeline.scrape('github', 'nulbytes');
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.result?.inserted, 3);
    const rows = await pipeline.services.sql<{ external_id: string; title: string; body: string; extra: { labels: string[] } }[]>`
      select external_id, title, body, extra from posts where query = 'nulbytes' order by external_id
    `;
    assert.deepEqual(rows.map((row) => [row.external_id, row.title, row.body]), [
      ['1', 'Issue 1', 'plain'],
      ['2', 'Issue 2', 'a lone \ufffd surrogate'],
      ['3', 'NUL in the title', 'plain'],
    ]);
    assert.deepEqual(rows[2]!.extra.labels, ['badlabel']);
  });

  test('an outbox row PostgreSQL refuses is set aside and counted, and the rest of its batch is copied', async () => {
    const { redis, config, sql } = pipeline.services;
    const [good, poisoned] = await queue.enqueueMany([
      { kind: 'scrape', source: 'github', query: 'fine', limit: 1, priority: 0 },
      { kind: 'scrape', source: 'github', query: 'poisoned', limit: 1, priority: 0 },
    ]);
    for (const job of [good!, poisoned!]) {
      await queue.cancel(job.id);
    }
    // A priority beyond smallint, as a record written by hand or by a buggy release could hold.
    await redis.hset(`${config.redisPrefix}:job:${poisoned!.id}`, 'priority', '99999');
    while ((await flushJobHistory(queue, sql)) > 0);
    assert.equal((await redis.llen(`${config.redisPrefix}:jobs:history`)), 0, 'the outbox drained');
    const copied = await sql<{ id: string }[]>`select id from jobs where id in (${good!.id}, ${poisoned!.id})`;
    assert.deepEqual(copied.map((row) => row.id), [good!.id]);
    const status = (await (await app.request('/jobs/status')).json()) as { history_rejected: number; history_backlog: number };
    assert.equal(status.history_rejected, 1);
    const [entry] = await redis.lrange(`${config.redisPrefix}:jobs:history:rejected`, 0, -1);
    const kept = JSON.parse(entry!) as { id: string; record: Record<string, string>; error: string };
    assert.equal(kept.id, poisoned!.id);
    assert.equal(kept.record.query, 'poisoned');
    assert.match(kept.error, /smallint|out of range/);
  });

  test('a scrape-all parent whose flusher died between copying its children and settling it is settled by the next flush', async () => {
    // No worker of the pipeline may copy the outbox meanwhile: the test plays the flusher itself.
    await pipeline.worker.stop(1_000);
    try {
      const { parent, children } = await queue.enqueueFamily({ source: '', query: '', limit: 1, priority: 0 }, [
        { source: 'github', query: 'one', limit: 1, priority: 0 },
        { source: 'github', query: 'two', limit: 1, priority: 0 },
      ]);
      for (const child of children) await queue.cancel(child.id);
      const flusher = spawnEntry('test/helpers/copy-history-then-die.ts', pipeline.services.env);
      await flusher.waitForEvent('copied');
      assert.equal((await flusher.exited).signal, 'SIGKILL');
      assert.equal((await queue.get(parent.id))?.status, 'pending', 'the parent was not settled before the process died');
      assert.equal(await pipeline.services.redis.llen(`${pipeline.services.config.redisPrefix}:jobs:history`), 0, 'its children left the outbox');

      await flushJobHistory(queue, pipeline.services.sql);
      const settled = await queue.get(parent.id);
      assert.equal(settled?.status, 'cancelled');
      assert.equal(await pipeline.services.redis.scard(`${pipeline.services.config.redisPrefix}:jobs:parents:unsettled`), 0);
    } finally {
      pipeline.worker = await (await import('../lib/worker/boot.ts')).startWorkerProcess(pipeline.services.config, silentLogger);
    }
  });

  test('a parent with a child still running leaves the unsettled set and comes back when that child finishes', async () => {
    const { parent, children } = await queue.enqueueFamily({ source: '', query: '', limit: 1, priority: 0 }, [
      { source: 'github', query: 'early', limit: 1, priority: 0 },
      { source: 'github', query: 'late', limit: 1, priority: 10 },
    ]);
    await queue.cancel(children[0]!.id);
    const { redis, config, sql } = pipeline.services;
    while ((await copyJobHistory(queue.outbox(), sql)) > 0);
    await flushJobHistory(queue, sql);
    assert.equal((await queue.get(parent.id))?.status, 'pending');
    assert.equal(await redis.sismember(`${config.redisPrefix}:jobs:parents:unsettled`, parent.id), 0);
    await queue.cancel(children[1]!.id);
    await waitForJob(queue, parent.id, isFinished);
  });

  test('DELETE on a dead job is a 409 and tells no worker to cancel anything', async () => {
    const { services } = pipeline;
    const leases = queue.leases();
    // The pipeline's worker would take it; this test leases it by hand and lets the lease lapse.
    await pipeline.worker.stop(1_000);
    try {
      const job = await queue.enqueue({ kind: 'scrape', source: 'github', query: 'doomed', limit: 1, priority: 0, maxAttempts: 1 });
      const claims = await leases.claimMany('a-worker-that-dies', 10);
      assert.ok(claims.some((claim) => claim.job.id === job.id));
      const later = Date.now() + services.config.jobLeaseMs + 1_000;
      assert.ok((await leases.sweep(later)).quarantined >= 1);
      assert.equal((await queue.get(job.id))?.status, 'dead');

      const listener = createBlockingRedis(services.config.redisUrl, silentLogger, 'test-cancel-listener');
      const heard: string[] = [];
      listener.on('message', (_channel: string, id: string) => heard.push(id));
      await listener.subscribe(`${services.config.redisPrefix}:jobs:cancel`);
      const response = await app.request(`/jobs/${job.id}`, { method: 'DELETE' });
      assert.equal(response.status, 409);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'job_finished');
      await new Promise((resolve) => setTimeout(resolve, 200));
      listener.disconnect();
      assert.deepEqual(heard, []);
      assert.equal((await queue.get(job.id))?.status, 'dead');
    } finally {
      pipeline.worker = await (await import('../lib/worker/boot.ts')).startWorkerProcess(services.config, silentLogger);
    }
  });

  test('a job that failed for good says so, and promises no retry; one that will be retried says when', async () => {
    upstream.on('GET', '/search/issues', () => ({ status: 429, headers: { 'retry-after': '120' }, body: '{"message":"slow down"}' }));
    const retried = await queue.enqueue({ kind: 'scrape', source: 'github', query: 'limited', limit: 1, priority: 0, maxAttempts: 2 });
    const waiting = await waitForJob(queue, retried.id, (job) => job.status === 'pending' && job.attempts === 1 && job.error !== null);
    assert.match(waiting.error!.message, /attempt 1 of 2, retrying in 1\d\d s/);
    await queue.cancel(retried.id);

    const once = await queue.enqueue({ kind: 'scrape', source: 'github', query: 'limited-once', limit: 1, priority: 0, maxAttempts: 1 });
    const failed = await waitForJob(queue, once.id, isFinished);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'upstream_rate_limited');
    assert.match(failed.error!.message, /gave up after 1 attempt$/);
    assert.doesNotMatch(failed.error!.message, /retr(y|ied)|will continue/);
  });
});
