// The API's contract, GET /openapi.json: a valid OpenAPI 3.1 document of every route the app serves, whose limits,
// roles and answers are what the running API does, and against which the documentation's example requests hold.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { ERROR_CODES } from '../lib/api/contract/error-codes.ts';
import { isNonApiPath } from '../lib/api/contract/routes.ts';
import { dashboardPages } from '../lib/dashboard/pages.tsx';
import { upsertPosts } from '../lib/db/posts.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { docExamples, examplesIn } from './helpers/doc-examples.ts';
import { OpenApi, type Operation } from './helpers/openapi.ts';
import { type TestServices, startServices } from './helpers/services.ts';

type Json = Record<string, unknown>;

const ADMIN = 'contract-admin-token';
const READER = 'contract-read-token';
const SAMPLE_ID: Record<string, string> = { uuid: '00000000-0000-4000-8000-000000000000' };
/** Ids of things the test makes first, by the resource their path names: a change is checked against what it changes. */
const SAMPLE_OF: Record<string, string> = {};
/** The methods whose requests are JSON, with a body or without one. */
const JSON_METHODS = new Set(['POST', 'PUT', 'PATCH']);

const json = (body: unknown): RequestInit => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the API contract, GET /openapi.json', () => {
  let services: TestServices;
  let app: Hono;
  let guarded: Hono;
  let withPages: Hono;
  let document: Json;
  let api: OpenApi;

  before(async () => {
    services = await startServices('api_contract');
    const queue = new JobQueue(services.redis, queueSettings(services.config));
    const sources = await loadSourceRegistry(services.config);
    const deps = { redis: services.redis, sql: services.sql, queue, sources, log: silentLogger };
    app = createApp({ ...deps, config: services.config });
    guarded = createApp({ ...deps, config: { ...services.config, apiToken: ADMIN, apiReadToken: READER, apiPublicReads: false } });
    withPages = createApp({ ...deps, config: services.config }, dashboardPages);
    const response = await guarded.request('/openapi.json');
    assert.equal(response.status, 200, 'GET /openapi.json must answer without a token');
    document = (await response.json()) as Json;
    api = new OpenApi(document);
    const rule = await app.request('/alerts', { method: 'POST', ...json(requestExample('POST', '/alerts')) });
    assert.equal(rule.status, 201, await rule.clone().text());
    SAMPLE_OF.alerts = ((await rule.json()) as { id: string }).id;
  });
  after(() => services?.close());

  /** The problems of an answer against what the document says `method path` answers. */
  async function answerProblems(method: string, path: string, response: Response): Promise<string[]> {
    const found = api.find(method, new URL(path, 'http://api').pathname);
    if (!found) return [`${method} ${path} is not in the document`];
    const documented = found.operation.spec.responses[String(response.status)];
    const text = await response.text();
    if (!documented) return [`${method} ${path} answered ${response.status}, which the document does not list: ${text.slice(0, 200)}`];
    const headers = Object.keys((documented as { headers?: Json }).headers ?? {}).map((name) => name.toLowerCase());
    const undocumented = ['location', 'retry-after', 'www-authenticate', 'idempotent-replayed'].filter((name) => response.headers.has(name) && !headers.includes(name));
    if (undocumented.length > 0) return [`${method} ${path} ${response.status} sends ${undocumented.join(', ')}, which the document does not list`];
    const type = response.headers.get('content-type')?.split(';')[0] ?? '';
    if (response.status === 204) return text === '' ? [] : ['a 204 with a body'];
    const schema = documented.content?.[type]?.schema;
    if (!schema) return [`${method} ${path} answered ${response.status} as ${type}, which the document does not list for it`];
    if (type !== 'application/json') return [];
    return api.problems(schema, JSON.parse(text)).map((problem) => `${method} ${path} ${response.status}: ${problem}; ${text.slice(0, 300)}`);
  }

  async function expectDocumented(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const response = await app.request(path, { method, ...init });
    assert.deepEqual(await answerProblems(method, path, response.clone()), []);
    return response;
  }

  /** The first example of the request body the document gives `method path`. */
  const requestExample = (method: string, path: string) => {
    const spec = api.find(method, path)!.operation.spec;
    return (spec.requestBody!.content['application/json']!.schema as { examples: Json[] }).examples[0]!;
  };

  describe('the document', () => {
    test('is a valid OpenAPI 3.1 document by a validator of the specification', async () => {
      const result = await new Validator().validate(structuredClone(document));
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      assert.match(String(document.openapi), /^3\.1\.\d+$/);
    });

    test('the same validator refuses a document with a broken operation, so the check above can fail', async () => {
      const broken = structuredClone(document) as { paths: Record<string, Record<string, Json>> };
      delete broken.paths['/jobs/scrape']!.post!.responses;
      broken.paths['/jobs']!.get!.parameters = [{ name: 'status', schema: { type: 'string' } }];
      assert.equal((await new Validator().validate(broken)).valid, false);
    });

    test('every schema in it compiles under JSON Schema 2020-12 in strict mode, so no keyword is misspelt', () => {
      let schemas = 0;
      for (const { spec } of api.operations()) {
        const all = [
          ...spec.parameters.map((parameter) => parameter.schema),
          ...Object.values(spec.requestBody?.content ?? {}).map((media) => media.schema),
          ...Object.values(spec.responses).flatMap((answer) => Object.values(answer.content ?? {}).map((media) => media.schema)),
        ];
        for (const schema of all) {
          api.validator(schema);
          schemas++;
        }
      }
      assert.ok(schemas > 50, `only ${schemas} schemas`);
    });

    test('every route the app serves is in it but the pages beside the API, and it has no route the app does not serve', () => {
      const routes = new Set(withPages.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`));
      const pathOf = (route: string) => route.slice(route.indexOf(' ') + 1);
      const pages = [...routes].filter((route) => isNonApiPath(pathOf(route)));
      for (const page of ['GET /', 'GET /ui/feed', 'GET /assets/']) assert.ok(pages.some((route) => route.startsWith(page)), `${page} is served beside the API: ${pages.join(', ')}`);
      const served = new Set([...routes].filter((route) => !isNonApiPath(pathOf(route))));
      const documented = new Set(api.operations().map((op) => `${op.method} ${op.path}`));
      assert.deepEqual([...documented].filter((route) => isNonApiPath(pathOf(route))), [], 'documented under a path of the pages');
      assert.deepEqual([...served].filter((route) => !documented.has(route)), [], 'served but not documented');
      assert.deepEqual([...documented].filter((route) => !served.has(route)), [], 'documented but not served');
      const ids = api.operations().map((op) => (op.spec as { operationId?: string }).operationId);
      assert.equal(new Set(ids).size, ids.length, `operation ids repeat: ${ids.join(', ')}`);
    });

    test('every error a route can answer is listed with the error schema, and each code under the status it comes with', () => {
      for (const { path, method, spec } of api.operations()) {
        for (const [status, answer] of Object.entries(spec.responses)) {
          if (Number(status) < 400) continue;
          const schema = answer.content?.['application/json']?.schema as { allOf?: Json[] } | undefined;
          assert.ok(schema, `${method} ${path} ${status} has no JSON body`);
          const codes = JSON.stringify(schema).match(/"enum":\[([^\]]*)\]/)?.[1]?.split(',').map((code) => JSON.parse(code) as string) ?? [];
          assert.ok(codes.length > 0, `${method} ${path} ${status} names no code`);
          for (const code of codes) assert.equal(ERROR_CODES[code]?.status, Number(status), `${code} under ${status} of ${method} ${path}`);
        }
        assert.ok(spec.responses['500'], `${method} ${path} does not say it can fail with internal_error`);
      }
    });

    test('every code an ApiError of lib/api is thrown with is in the catalogue under its status', () => {
      const thrown: string[] = [];
      const dir = new URL('../lib/api/', import.meta.url);
      const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
      for (const file of files) {
        const text = readFileSync(new URL(file, dir), 'utf8');
        for (const [, status, code] of text.matchAll(/new ApiError\(\s*(\d{3}),\s*'([a-z_]+)'/g)) {
          thrown.push(code!);
          assert.equal(ERROR_CODES[code!]?.status, Number(status), `lib/api/${file} throws ${code} with ${status}`);
        }
        for (const [, code] of text.matchAll(/errorBody\('([a-z_]+)'/g)) assert.ok(ERROR_CODES[code!], `lib/api/${file} answers ${code}`);
      }
      assert.ok(thrown.length > 20, 'the scan found the throws');
    });

    test('the operations say who may call them: the open routes need no token, reads take the read token, changes the admin token', () => {
      const roles = Object.fromEntries(api.operations().map((op) => [`${op.method} ${op.path}`, role(op)]));
      assert.equal(roles['GET /health'], 'open');
      assert.equal(roles['GET /openapi.json'], 'open');
      assert.equal(roles['GET /posts'], 'read');
      assert.equal(roles['POST /jobs/scrape'], 'admin');
      const schemes = (document.components as { securitySchemes: Record<string, Json> }).securitySchemes;
      assert.deepEqual(Object.values(schemes).map((scheme) => [scheme.type, scheme.scheme]), [['http', 'bearer'], ['http', 'bearer']]);
    });
  });

  describe('the running API does what the document says', () => {
    test('each operation is refused without a token, and each change with the read token, unless it is open', async () => {
      for (const op of api.operations()) {
        const path = samplePath(op);
        const init: RequestInit = JSON_METHODS.has(op.method) ? json({}) : {};
        const anonymous = await guarded.request(path, { method: op.method, ...init });
        if (role(op) === 'open') {
          assert.notEqual(anonymous.status, 401, `${op.method} ${op.path} is documented as open`);
          await anonymous.arrayBuffer();
          continue;
        }
        assert.deepEqual(await answerProblems(op.method, path, anonymous.clone()), []);
        assert.equal(anonymous.status, 401, `${op.method} ${op.path} without a token`);
        const reader = await guarded.request(path, { method: op.method, ...init, headers: { ...(init.headers as Json), authorization: `Bearer ${READER}` } });
        if (role(op) === 'admin') {
          assert.deepEqual(await answerProblems(op.method, path, reader.clone()), []);
          assert.equal(reader.status, 403, `${op.method} ${op.path} with the read token`);
        } else {
          assert.ok(reader.status !== 401 && reader.status !== 403, `${op.method} ${op.path} refused the read token with ${reader.status}`);
        }
        await reader.arrayBuffer();
      }
    });

    test('a value past a documented limit, outside a documented enum or of another type is a 400 the document lists', async () => {
      let probes = 0;
      for (const op of api.operations()) {
        for (const parameter of op.spec.parameters.filter((p) => p.in === 'query')) {
          for (const bad of badQueryValues(parameter.schema)) {
            const response = await app.request(`${samplePath(op)}?${new URLSearchParams({ [parameter.name]: bad })}`, { method: op.method, ...(JSON_METHODS.has(op.method) ? json({}) : {}) });
            assert.equal(response.status, 400, `${op.method} ${op.path}?${parameter.name}=${bad}`);
            assert.deepEqual(await answerProblems(op.method, op.path, response), []);
            probes++;
          }
        }
        const schema = op.spec.requestBody?.content['application/json']?.schema as { properties: Record<string, Json>; examples: Json[] } | undefined;
        if (!schema) continue;
        const example = schema.examples[0]!;
        for (const [name, property] of Object.entries(schema.properties)) {
          for (const bad of badBodyValues(property)) {
            const response = await app.request(samplePath(op), { method: op.method, ...json({ ...example, [name]: bad }) });
            assert.equal(response.status, 400, `${op.method} ${op.path} with ${name}: ${JSON.stringify(bad)}`);
            assert.deepEqual(await answerProblems(op.method, op.path, response), []);
            probes++;
          }
        }
        const unknown = await app.request(samplePath(op), { method: op.method, ...json({ ...example, colour: 'blue' }) });
        assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'unknown_field');
      }
      assert.ok(probes > 40, `only ${probes} probes`);
    });

    test('the values at the documented limits are taken', async () => {
      for (const op of api.operations().filter((o) => o.method === 'GET')) {
        for (const parameter of op.spec.parameters.filter((p) => p.in === 'query' && p.schema.type === 'integer')) {
          for (const edge of [parameter.schema.minimum, parameter.schema.maximum]) {
            const response = await app.request(`${op.path}?${parameter.name}=${edge}`);
            assert.equal(response.status, 200, `${op.path}?${parameter.name}=${edge}`);
            await response.arrayBuffer();
          }
        }
      }
    });

    test("each body's documented example is accepted, and the answers are shaped as documented", async () => {
      const bodyOf = (path: string, method = 'POST') => requestExample(method, path);
      const created = await expectDocumented('POST', '/jobs/scrape', json(bodyOf('/jobs/scrape')));
      assert.equal(created.status, 202);
      const { job_id: jobId } = (await created.json()) as { job_id: string };
      const keyed = { headers: { 'content-type': 'application/json', 'idempotency-key': 'contract-1' }, body: JSON.stringify(bodyOf('/jobs/scrape')) };
      await expectDocumented('POST', '/jobs/scrape', keyed);
      const replayed = await expectDocumented('POST', '/jobs/scrape', keyed);
      assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
      const family = await expectDocumented('POST', '/jobs/scrape-all', json(bodyOf('/jobs/scrape-all')));
      assert.equal(family.status, 202);
      const { job_id: parentId } = (await family.json()) as { job_id: string };
      assert.equal((await expectDocumented('POST', '/jobs/backup', json(bodyOf('/jobs/backup')))).status, 202);
      assert.equal((await expectDocumented('POST', '/jobs/backup', json({}))).status, 409);
      assert.equal((await expectDocumented('POST', '/jobs/sentiment-backfill', json(bodyOf('/jobs/sentiment-backfill')))).status, 202);
      await expectDocumented('GET', `/jobs/${jobId}`);
      await expectDocumented('GET', `/jobs/${parentId}`);
      await expectDocumented('GET', '/jobs?status=pending&limit=5');
      await expectDocumented('GET', '/jobs/status');
      assert.equal((await expectDocumented('POST', `/jobs/${jobId}/retry`, json({}))).status, 409);
      assert.equal((await expectDocumented('DELETE', `/jobs/${jobId}`)).status, 200);
      assert.equal((await expectDocumented('DELETE', `/jobs/${jobId}`)).status, 409);
      assert.equal((await expectDocumented('DELETE', `/jobs/${parentId}`)).status, 200);
      await expectDocumented('GET', `/jobs/${SAMPLE_ID.uuid}`);

      const tracked = await expectDocumented('POST', '/queries', json(bodyOf('/queries')));
      assert.equal(tracked.status, 201);
      const { id } = (await tracked.json()) as { id: string };
      assert.equal((await expectDocumented('POST', '/queries', json(bodyOf('/queries')))).status, 200);
      await expectDocumented('GET', '/queries');
      assert.equal((await expectDocumented('DELETE', `/queries/${id}`)).status, 204);
      assert.equal((await expectDocumented('DELETE', `/queries/${id}`)).status, 404);

      const rule = await expectDocumented('POST', '/alerts', json(bodyOf('/alerts')));
      assert.equal(rule.status, 201);
      const { id: ruleId, destinations } = (await rule.json()) as { id: string; destinations: { id: string }[] };
      await expectDocumented('GET', '/alerts');
      await expectDocumented('GET', `/alerts/${ruleId}`);
      assert.equal((await expectDocumented('PATCH', `/alerts/${ruleId}`, json(bodyOf(`/alerts/${ruleId}`, 'PATCH')))).status, 200);
      assert.equal((await expectDocumented('POST', `/alerts/${ruleId}/test`, json({ destination_id: destinations[0]!.id }))).status, 202);
      assert.equal((await expectDocumented('POST', `/alerts/${ruleId}/test`, json({ destination_id: 'none-of-them' }))).status, 400);
      const events = await expectDocumented('GET', `/alerts/events?rule_id=${ruleId}&limit=1`);
      assert.equal(((await events.json()) as { events: unknown[] }).events.length, 1);
      assert.equal((await expectDocumented('DELETE', `/alerts/${ruleId}`)).status, 204);
      assert.equal((await expectDocumented('GET', `/alerts/${ruleId}`)).status, 404);
      assert.equal((await expectDocumented('PATCH', `/alerts/${ruleId}`, json({ enabled: true }))).status, 404);

      for (const path of ['/sources', '/schedule', '/backups', '/metrics', '/health', '/ready', '/openapi.json']) {
        assert.equal((await expectDocumented('GET', path)).status, 200, path);
      }
    });

    test('the posts, their statistics and their export are shaped as documented', async () => {
      const at = new Date('2026-05-01T10:00:00Z');
      await upsertPosts(services.sql, 'trustpilot', 'acme', [
        { externalId: 'c1', url: 'https://example.com/c1', author: 'ann', title: 'Down again', text: 'the outage lasted all day', rating: 1, language: 'en', publishedAt: at, reply: { text: 'sorry', publishedAt: at }, extra: { country: 'GB' }, sentiment: { score: -0.8, label: 'negative', method: 'rating+lexicon-v1', language: 'en' } },
        { externalId: 'c2', url: 'https://example.com/c2', author: null, title: null, text: 'fine', rating: null, language: null, publishedAt: new Date('2026-05-02T10:00:00Z'), reply: null, extra: {} },
      ]);
      const page = await expectDocumented('GET', '/posts?source=trustpilot&limit=1');
      const { next } = (await page.json()) as { next: string };
      assert.ok(next);
      await expectDocumented('GET', `/posts?limit=1&before=${next}`);
      await expectDocumented('GET', '/posts?q=outage&sentiment=negative,unscored&rating=1,2&from=2026-04-01&to=2026-06-01');
      await expectDocumented('GET', '/posts/stats?interval=day&group_by=sentiment&tz=Europe/Paris&from=2026-04-28&to=2026-05-05');
      await expectDocumented('GET', '/posts/stats?interval=month');
      const ndjson = await expectDocumented('GET', '/posts/export?format=ndjson&source=trustpilot');
      const lines = (await ndjson.text()).trim().split('\n').map((line) => JSON.parse(line) as unknown);
      const post = (document.components as { schemas: Record<string, Json> }).schemas.Post!;
      assert.equal(lines.length, 2);
      for (const line of lines) assert.deepEqual(api.problems(post, line), []);
      const csv = await expectDocumented('GET', '/posts/export');
      assert.match(await csv.text(), /^id,source,external_id/);
      for (const bad of ['tz=Mars/Olympus', 'group_by=author', 'interval=hour&from=2020-01-01&to=2026-01-01', 'from=2026-05-02&to=2026-05-01']) {
        const response = await expectDocumented('GET', `/posts/stats?${bad}`);
        assert.equal(response.status, 400, bad);
      }
      assert.equal((await expectDocumented('GET', '/posts?before=bm90LWEtY3Vyc29y')).status, 400);
    });
  });

  describe('the documentation', () => {
    test('every code its error tables list is a code of the API, under the status the table gives it', () => {
      const listed = errorTables();
      assert.ok(listed.length >= 20, `found ${listed.length} codes in the error tables`);
      const wrong = listed.filter(({ code, status }) => ERROR_CODES[code]?.status !== status).map(({ file, code, status }) => `${file}: ${code} (${status}) is ${ERROR_CODES[code] ? `a ${ERROR_CODES[code]!.status}` : 'not a code of the API'}`);
      assert.deepEqual(wrong, []);
    });

    test('there are examples to check: the reader finds the curl lines of README.md and docs/', () => {
      const examples = docExamples();
      assert.ok(examples.length >= 10, `found ${examples.length}`);
      assert.ok(examples.some((example) => example.method === 'POST' && example.body !== null));
    });

    test('each names a documented path and method, documented query parameters and headers, and a body the request schema takes', () => {
      const problems = docExamples().flatMap((example) => exampleProblems(api, example).map((problem) => `${example.file}:${example.line} ${example.method} ${example.path}: ${problem}`));
      assert.deepEqual(problems, []);
    });

    test('a wrong example is caught: an unknown path, a wrong method, a bad parameter, a body the schema refuses or that is not JSON, a missing content type, the read token sent to change something', () => {
      const markdown = [
        '```sh',
        'curl "$API/job/status" -H "authorization: Bearer $TOKEN"',
        'curl -XPUT "$API/jobs/status"',
        'curl "$API/jobs?status=sleeping&colour=blue"',
        'curl -XPOST "$API/jobs/scrape" -H "content-type: application/json" -H "authorization: Bearer $TOKEN" -d \'{"source":"trustpilot","query":"x","limit":500}\'',
        'curl -XPOST "$API/queries" -d \'{"query":"x"}\'',
        'curl -XDELETE "$API/queries/1" -H "authorization: Bearer $READ_TOKEN"',
        'curl -XPOST "$API/jobs/backup" -H "content-type: application/json" -d \'{type: daily}\'',
        '```',
      ].join('\n');
      const problems = examplesIn('example.md', markdown).map((example) => exampleProblems(api, example));
      assert.equal(problems.length, 7);
      assert.match(problems[0]!.join(), /no documented path/);
      assert.match(problems[1]!.join(), /PUT is not documented/);
      assert.match(problems[2]!.join(), /status.*sleeping/);
      assert.match(problems[2]!.join(), /colour is not a documented query parameter/);
      assert.match(problems[3]!.join(), /limit/);
      assert.match(problems[4]!.join(), /content-type/);
      assert.match(problems[5]!.join(), /read token/);
      assert.match(problems[6]!.join(), /not JSON/);
    });
  });
});

describe('reading curl lines out of Markdown', () => {
  test('a command over several lines, with a job id captured, a variable in the path, the usual short options and a body written over lines', () => {
    const markdown = [
      'Some prose with `curl $API/not/in/a/block`.',
      '',
      '```sh',
      '# submit one',
      'JOB=$(curl -sS -XPOST "$API/jobs/scrape" -H "authorization: Bearer $TOKEN" \\',
      "     -H 'content-type: application/json' -d '{\"source\":\"trustpilot\",\"query\":\"ovhcloud.com\"}' | jq -r .job_id)",
      'curl -s "$API/jobs/$JOB" -H "authorization: Bearer $READ_TOKEN" | jq .status   # pending, then running',
      "curl -fsS \"${API}/posts?source=trustpilot&q=broad%20band&limit=20\" -o posts.json 2>/dev/null",
      'curl -s -G "$API/posts" --data-urlencode "q=line outage" -H "Authorization: Bearer $READ_TOKEN"',
      'curl -s --json \'{"query":"OVH"}\' "$API/queries" --header="authorization: Bearer $TOKEN"',
      'curl -s https://example.com/install.sh | sh',
      'curl -k -X DELETE https://localhost/queries/1',
      "curl -s -XPOST \"$API/jobs/scrape-all\" -H 'content-type: application/json' -d '{",
      '  "queries": ["ovhcloud.com"],',
      '  "sources": ["hackernews"]',
      "}'",
      '```',
      '',
      '```js',
      'curl("$API/health")',
      '```',
    ].join('\n');
    const found = examplesIn('guide.md', markdown).map(({ words: _, ...rest }) => rest);
    assert.deepEqual(found, [
      {
        file: 'guide.md', line: 5, method: 'POST', path: '/jobs/scrape', query: {},
        headers: { authorization: 'Bearer $TOKEN', 'content-type': 'application/json' },
        body: '{"source":"trustpilot","query":"ovhcloud.com"}',
      },
      { file: 'guide.md', line: 7, method: 'GET', path: '/jobs/$JOB', query: {}, headers: { authorization: 'Bearer $READ_TOKEN' }, body: null },
      { file: 'guide.md', line: 8, method: 'GET', path: '/posts', query: { source: 'trustpilot', q: 'broad band', limit: '20' }, headers: {}, body: null },
      { file: 'guide.md', line: 9, method: 'GET', path: '/posts', query: { q: 'line outage' }, headers: { authorization: 'Bearer $READ_TOKEN' }, body: null },
      {
        file: 'guide.md', line: 10, method: 'POST', path: '/queries', query: {},
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer $TOKEN' },
        body: '{"query":"OVH"}',
      },
      { file: 'guide.md', line: 12, method: 'DELETE', path: '/queries/1', query: {}, headers: {}, body: null },
      {
        file: 'guide.md', line: 13, method: 'POST', path: '/jobs/scrape-all', query: {}, headers: { 'content-type': 'application/json' },
        body: '{\n  "queries": ["ovhcloud.com"],\n  "sources": ["hackernews"]\n}',
      },
    ]);
  });
});

/** The codes of the Markdown tables of README.md and docs/ whose header has a status and a code column. */
function errorTables(): { file: string; status: number; code: string }[] {
  const root = new URL('../', import.meta.url);
  const files = ['README.md', ...readdirSync(new URL('docs/', root)).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
  const found: { file: string; status: number; code: string }[] = [];
  for (const file of files) {
    let columns: { status: number; code: number } | null = null;
    for (const line of readFileSync(new URL(file, root), 'utf8').split('\n')) {
      if (!line.startsWith('|')) {
        columns = null;
        continue;
      }
      const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
      const header = cells.map((cell) => cell.toLowerCase());
      if (header.includes('status') && header.includes('code')) {
        columns = { status: header.indexOf('status'), code: header.indexOf('code') };
        continue;
      }
      if (!columns || !/^\d{3}$/.test(cells[columns.status] ?? '')) continue;
      for (const [, code] of (cells[columns.code] ?? '').matchAll(/`([a-z_]+)`/g)) found.push({ file, status: Number(cells[columns.status]), code: code! });
    }
  }
  return found;
}

function role(op: Operation): 'open' | 'read' | 'admin' {
  if (op.spec.security.length === 0) return 'open';
  return op.spec.security.some((requirement) => 'readToken' in requirement) ? 'read' : 'admin';
}

/** The operation's path with each parameter filled in with a value of the form it documents. */
function samplePath(op: Operation): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const schema = op.spec.parameters.find((p) => p.in === 'path' && p.name === name)!.schema;
    return SAMPLE_ID[String(schema.format)] ?? SAMPLE_OF[op.path.split('/')[1]!] ?? '1';
  });
}

function badQueryValues(schema: Json): string[] {
  if (schema.type === 'integer') return [String(Number(schema.maximum) + 1), ...(Number(schema.minimum) > 0 ? [String(Number(schema.minimum) - 1)] : []), '2.5', 'ten'];
  if (schema.enum) return ['not-a-choice'];
  if (schema.type === 'array') {
    const items = schema.items as Json;
    return [items.type === 'integer' ? '1,x' : 'not-a-choice'];
  }
  if (schema.pattern && String(schema.pattern).includes('\\d{4}')) return ['yesterday'];
  if (schema.maxLength) return ['a'.repeat(Number(schema.maxLength) + 1)];
  return [];
}

function badBodyValues(schema: Json): unknown[] {
  if (schema.type === 'integer') return [Number(schema.maximum) + 1, Number(schema.minimum) - 1, 2.5, '5'];
  if (schema.type === 'boolean') return ['yes', 1];
  if (schema.enum) return ['not-a-choice', 7];
  if (schema.type === 'string') return [42, ...(schema.maxLength ? ['a'.repeat(Number(schema.maxLength) + 1)] : [])];
  const array = (schema.oneOf as Json[] | undefined)?.find((s) => s.type === 'array') ?? (schema.type === 'array' ? schema : null);
  if (array) return [[], 'trustpilot', [42]];
  return [];
}

const PLACEHOLDER = /\$|…/;

/** What is wrong with an example request by the document; nothing when it holds. */
function exampleProblems(api: OpenApi, example: { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: string | null }): string[] {
  const found = api.find(example.method, example.path);
  if (!found) return [api.hasPath(example.path) ? `${example.method} is not documented for this path` : 'no documented path matches'];
  const { operation, params } = found;
  const problems: string[] = [];
  const parameter = (where: string, name: string) => operation.spec.parameters.find((p) => p.in === where && p.name.toLowerCase() === name.toLowerCase());
  const check = (what: string, schema: Json, value: string) => {
    if (PLACEHOLDER.test(value)) return;
    problems.push(...api.problems(schema, typed(schema, value)).map((problem) => `${what}=${value}: ${problem}`));
  };
  for (const [name, value] of Object.entries(params)) check(name, parameter('path', name)!.schema, value);
  for (const [name, value] of Object.entries(example.query)) {
    const documented = parameter('query', name);
    if (!documented) problems.push(`${name} is not a documented query parameter`);
    else check(name, documented.schema, value);
  }
  for (const [name, value] of Object.entries(example.headers)) {
    const documented = parameter('header', name);
    if (documented) check(name, documented.schema, value);
  }
  const token = example.headers.authorization ?? '';
  if (role(operation) === 'admin' && /READ_TOKEN/.test(token)) problems.push('sends the read token to a route that changes something');
  const content = operation.spec.requestBody?.content['application/json'];
  if (JSON_METHODS.has(example.method) && !/^application\/json\b/.test(example.headers['content-type'] ?? '')) problems.push(`a ${example.method} without content-type: application/json is refused with 415`);
  if (example.body === null) {
    if (operation.spec.requestBody?.required) problems.push('sends no body, which this route needs');
  } else if (!content) {
    problems.push('sends a body to a route that takes none');
  } else {
    let body: unknown;
    try {
      body = JSON.parse(example.body);
    } catch {
      // A body read from a file (@body.json) or built from a variable cannot be read here.
      if (!/^@|\$/.test(example.body)) problems.push(`the body is not JSON: ${example.body}`);
      return problems;
    }
    problems.push(...api.problems(content.schema, body).map((problem) => `body ${problem}`));
  }
  return problems;
}

/** A query or path value as the schema's type reads it: integers and comma-separated lists. */
function typed(schema: Json, value: string): unknown {
  if (schema.type === 'integer') return /^-?\d+$/.test(value) ? Number(value) : value;
  if (schema.type === 'array') return value.split(',').map((item) => typed(schema.items as Json, item.trim()));
  return value;
}
