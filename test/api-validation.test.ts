import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

describe('the API refuses bad input with a 4xx and a coded error', () => {
  let services: TestServices;
  let app: Hono;
  let queue: JobQueue;

  before(async () => {
    services = await startServices('api_validation');
    queue = new JobQueue(services.redis, queueSettings(services.config));
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
  });
  after(() => services.close());

  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.request('/jobs/scrape', { method: 'POST', body, headers });

  async function expectError(response: Response | Promise<Response>, status: number, code: string): Promise<string> {
    const res = await response;
    assert.equal(res.status, status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 10, 'the message should explain the problem');
    return body.error.message;
  }

  test('malformed JSON is a 400 invalid_json', async () => {
    await expectError(post('{"source": "trustpilot",'), 400, 'invalid_json');
  });
  test('a JSON array body is a 400 invalid_body', async () => {
    await expectError(post('[1,2]'), 400, 'invalid_body');
  });
  test('a body that is not JSON is a 415', async () => {
    await expectError(post('source=trustpilot', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  });
  test('an unknown source is a 400 that lists the valid ones', async () => {
    const message = await expectError(post('{"source":"myspace","query":"x"}'), 400, 'unknown_source');
    assert.match(message, /trustpilot/);
  });
  test('a missing source is a 400', async () => {
    await expectError(post('{"query":"x"}'), 400, 'invalid_source');
  });
  test('a query of the wrong type is a 400', async () => {
    await expectError(post('{"source":"trustpilot","query":42}'), 400, 'invalid_query');
  });
  test('an empty query is a 400', async () => {
    await expectError(post('{"source":"trustpilot","query":"   "}'), 400, 'invalid_query');
  });
  test('a query over 200 characters is a 400', async () => {
    await expectError(post(JSON.stringify({ source: 'trustpilot', query: 'a'.repeat(201) })), 400, 'invalid_query');
  });
  test('a limit of 0, 201, 2.5 or "50" is a 400', async () => {
    for (const limit of [0, 201, 2.5, '50']) {
      await expectError(post(JSON.stringify({ source: 'trustpilot', query: 'bt.com', limit })), 400, 'invalid_limit');
    }
  });
  test('a priority outside 0-10 is a 400', async () => {
    for (const priority of [-1, 11, null]) {
      await expectError(post(JSON.stringify({ source: 'trustpilot', query: 'bt.com', priority })), 400, 'invalid_priority');
    }
  });
  test('an unknown field is a 400 naming it', async () => {
    const message = await expectError(post('{"source":"trustpilot","query":"bt.com","limt":5}'), 400, 'unknown_field');
    assert.match(message, /limt/);
  });
  test('a body over 16 KB is a 413', async () => {
    await expectError(post(JSON.stringify({ source: 'trustpilot', query: 'bt.com', pad: 'x'.repeat(17 * 1024) })), 413, 'payload_too_large');
  });
  test('a query holding NUL, another control character or a lone surrogate is a 400, for every text the API takes', async () => {
    for (const query of ['bt\u0000.com', 'bt\t.com', 'bt\u0085com', 'bt\ud800.com']) {
      const body = (value: unknown) => JSON.stringify(value);
      await expectError(post(body({ source: 'trustpilot', query })), 400, 'invalid_query');
      await expectError(app.request('/jobs/scrape-all', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body({ queries: ['ok', query], sources: ['hackernews'] }) }), 400, 'invalid_query');
      await expectError(app.request('/queries', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body({ query }) }), 400, 'invalid_query');
    }
    await expectError(app.request('/posts?q=%00'), 400, 'invalid_q');
    await expectError(app.request('/posts?q=bt%0Acom'), 400, 'invalid_q');
    await expectError(post(JSON.stringify({ source: 'trustpilot', query: 'bt.com' }), { 'content-type': 'application/json', 'idempotency-key': 'cl\u00e9 one' }), 400, 'invalid_idempotency_key');
  });
  test('none of the refused requests enqueued a job', async () => {
    assert.equal((await queue.counts()).pending, 0);
  });
  test('an unknown job id is a 404 for GET and DELETE', async () => {
    await expectError(app.request('/jobs/00000000-0000-4000-8000-000000000000'), 404, 'job_not_found');
    await expectError(app.request('/jobs/not-a-uuid'), 404, 'job_not_found');
    await expectError(app.request('/jobs/00000000-0000-4000-8000-000000000000', { method: 'DELETE' }), 404, 'job_not_found');
  });
  test('listing jobs with an unknown status or a limit over 100 is a 400', async () => {
    await expectError(app.request('/jobs/?status=sleeping'), 400, 'invalid_status');
    await expectError(app.request('/jobs/?limit=101'), 400, 'invalid_limit');
  });
  test('listing posts with a forged cursor, an unknown source or a bad limit is a 400', async () => {
    await expectError(app.request('/posts?before=not-a-cursor'), 400, 'invalid_cursor');
    await expectError(app.request('/posts?source=myspace'), 400, 'unknown_source');
    await expectError(app.request('/posts?limit=-3'), 400, 'invalid_limit');
  });
  test('an unknown route is a JSON 404', async () => {
    await expectError(app.request('/nope'), 404, 'not_found');
  });

  test('with API_TOKEN set, POST and DELETE need the bearer token but GET does not', async () => {
    const guarded = createApp({
      config: { ...services.config, apiToken: 's3cret-token' },
      redis: services.redis,
      sql: services.sql,
      queue,
      sources: await loadSourceRegistry(services.config),
      log: silentLogger,
    });
    const body = JSON.stringify({ source: 'trustpilot', query: 'bt.com' });
    const headers = { 'content-type': 'application/json' };
    await expectError(guarded.request('/jobs/scrape', { method: 'POST', body, headers }), 401, 'unauthorized');
    await expectError(guarded.request('/jobs/scrape', { method: 'POST', body, headers: { ...headers, authorization: 'Bearer wrong' } }), 401, 'unauthorized');
    const accepted = await guarded.request('/jobs/scrape', { method: 'POST', body, headers: { ...headers, authorization: 'Bearer s3cret-token' } });
    assert.equal(accepted.status, 202);
    const { job_id } = (await accepted.json()) as { job_id: string };
    assert.equal((await guarded.request(`/jobs/${job_id}`)).status, 200);
    await expectError(guarded.request(`/jobs/${job_id}`, { method: 'DELETE' }), 401, 'unauthorized');
  });
});
