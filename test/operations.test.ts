import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { runPgTool } from '../lib/backup/pg-dump.ts';
import { type Config, loadConfig } from '../lib/config.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { redisKeys } from '../lib/redis/keys.ts';
import { ScheduleStore } from '../lib/scheduler/schedule-store.ts';
import { startScheduler } from '../lib/scheduler/scheduler.ts';
import { scheduleDefinitions, tickHandlers } from '../lib/scheduler/schedules.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type WorkerProcess, startWorkerProcess } from '../lib/worker/boot.ts';
import { type TestServices, startServices } from './helpers/services.ts';
import { isFinished, waitForJob } from './helpers/worker.ts';

const run = promisify(execFile);

describe('operations: backups, restore, schedules and tracked queries', () => {
  let services: TestServices;
  let config: Config;
  let worker: WorkerProcess;
  let queue: JobQueue;
  let app: Hono;
  let backupDir: string;

  before(async () => {
    backupDir = mkdtempSync(join(tmpdir(), 'vibe-backups-'));
    // Scrapes the scheduler enqueues here may only ever reach a closed port on loopback.
    services = await startServices('operations', {
      BACKUP_DIR: backupDir,
      BACKUP_KEEP_HOURLY: '2',
      JOB_RETRY_BASE_MS: '50',
      JOB_LEASE_MS: '2000',
      AUTO_SCRAPE_SOURCES: 'trustpilot',
      SOURCE_BASE_URL_TRUSTPILOT: 'http://127.0.0.1:9',
    });
    config = loadConfig(services.env);
    worker = await startWorkerProcess(config, silentLogger);
    queue = new JobQueue(services.redis, queueSettings(config));
    app = createApp({ config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(config), log: silentLogger });
  });
  after(async () => {
    await worker.stop(1_000);
    await services.close();
    rmSync(backupDir, { recursive: true, force: true });
  });

  const postJson = (path: string, body?: unknown) =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  let backupFile = '';

  test('POST /jobs/backup runs pg_dump on a worker, and GET /backups lists the verified file', async () => {
    await services.sql`
      insert into posts (source, external_id, query, url, body, published_at)
      values ('trustpilot', 'kept-1', 'bt.com', 'https://example.invalid/1', 'first', now()),
             ('trustpilot', 'kept-2', 'bt.com', 'https://example.invalid/2', 'second', now())
    `;
    const response = await postJson('/jobs/backup');
    assert.equal(response.status, 202);
    const { job_id } = (await response.json()) as { job_id: string };
    const done = await waitForJob(queue, job_id, isFinished);
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.equal(done.kind, 'backup');
    const listing = (await (await app.request('/backups')).json()) as { backups: { name: string; type: string; size_bytes: number; created_at: string }[] };
    assert.equal(listing.backups.length, 1);
    const [backup] = listing.backups;
    assert.equal(backup?.type, 'manual');
    assert.match(backup?.name ?? '', /^vibe-manual-\d{8}T\d{9}Z\.dump$/);
    assert.ok((backup?.size_bytes ?? 0) > 1_000);
    assert.equal(backup?.name, done.result?.file);
    backupFile = join(backupDir, backup!.name);
    assert.equal(statSync(backupFile).mode & 0o777, 0o600, 'a dump is readable by its owner only');
    assert.equal(statSync(backupDir).mode & 0o777, 0o700);
    assert.match(await runPgTool('pg_restore', ['--list', backupFile], null, new AbortController().signal), /TABLE DATA public posts/);
  });

  test('a backup restores the rows it was taken with (scripts/restore.sh --yes)', async () => {
    await services.sql`delete from posts`;
    await services.sql`insert into posts (source, external_id, query, url, body, published_at) values ('trustpilot', 'after-backup', 'x', 'https://example.invalid/3', 'later', now())`;
    const { stdout } = await run('bash', ['scripts/restore.sh', backupFile, '--yes'], { env: { ...process.env, DATABASE_URL: config.databaseUrl } });
    assert.match(stdout, /restored into vibe_test_operations_/);
    const rows = await services.sql<{ external_id: string }[]>`select external_id from posts order by external_id`;
    assert.deepEqual(rows.map((r) => r.external_id), ['kept-1', 'kept-2']);
  });

  test('restore.sh refuses a file that is not a backup, and asks before replacing anything', async () => {
    const bogus = join(backupDir, 'not-a-dump.dump');
    writeFileSync(bogus, 'hello');
    await assert.rejects(run('bash', ['scripts/restore.sh', bogus, '--yes'], { env: { ...process.env, DATABASE_URL: config.databaseUrl } }), /not a pg_dump custom-format backup/);
    await assert.rejects(run('bash', ['scripts/restore.sh', backupFile], { env: { ...process.env, DATABASE_URL: config.databaseUrl } }), /pass --yes/);
    rmSync(bogus);
  });

  test('only the newest BACKUP_KEEP_MANUAL manual backups are kept', async () => {
    const few = loadConfig({ ...services.env, BACKUP_KEEP_MANUAL: '2' });
    const fewWorker = await startWorkerProcess(few, silentLogger);
    await worker.stop(1_000);
    try {
      for (let i = 0; i < 3; i++) {
        const response = await postJson('/jobs/backup', { type: 'manual' });
        const { job_id } = (await response.json()) as { job_id: string };
        assert.equal((await waitForJob(queue, job_id, isFinished)).status, 'completed');
      }
      const listing = (await (await app.request('/backups')).json()) as { backups: { type: string }[] };
      assert.equal(listing.backups.filter((b) => b.type === 'manual').length, 2);
    } finally {
      await fewWorker.stop(1_000);
      worker = await startWorkerProcess(config, silentLogger);
    }
  });

  test('only the newest BACKUP_KEEP_HOURLY hourly backups are kept', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await postJson('/jobs/backup', { type: 'hourly' });
      const { job_id } = (await response.json()) as { job_id: string };
      assert.equal((await waitForJob(queue, job_id, isFinished)).status, 'completed');
    }
    const listing = (await (await app.request('/backups')).json()) as { backups: { type: string }[] };
    assert.deepEqual(listing.backups.map((b) => b.type).sort(), ['hourly', 'hourly', 'manual', 'manual']);
  });

  test('a backup that cannot be written is a failed job, not a completed one', async () => {
    const broken = loadConfig({ ...services.env, BACKUP_DIR: '/dev/null/backups', JOB_MAX_ATTEMPTS: '1' });
    const brokenWorker = await startWorkerProcess(broken, silentLogger);
    await worker.stop(1_000);
    try {
      const job = await queue.enqueue({ kind: 'backup', source: '', query: 'manual', limit: 1, priority: 8, maxAttempts: 1 });
      const done = await waitForJob(queue, job.id, isFinished);
      assert.equal(done.status, 'failed');
      assert.match(done.error?.message ?? '', /backup failed/);
    } finally {
      await brokenWorker.stop(1_000);
      worker = await startWorkerProcess(config, silentLogger);
    }
  });

  test('a dump past BACKUP_TIMEOUT_MS fails for good with timed_out, saying which setting to raise, and is not retried', async () => {
    const slow = loadConfig({ ...services.env, BACKUP_TIMEOUT_MS: '1000' });
    const slowWorker = await startWorkerProcess(slow, silentLogger);
    await worker.stop(1_000);
    // pg_dump waits for a share lock on every table; an open transaction holding an exclusive one keeps it waiting.
    const locker = await services.sql.reserve();
    try {
      await locker`begin`;
      await locker`lock table posts in access exclusive mode`;
      const job = await queue.enqueue({ kind: 'backup', source: '', query: 'manual', limit: 1, priority: 8 });
      const done = await waitForJob(queue, job.id, isFinished);
      assert.equal(done.status, 'failed');
      assert.equal(done.attempts, 1, 'a dump that outgrew its limit is not tried again');
      assert.equal(done.error?.code, 'timed_out');
      assert.match(done.error!.message, /raise BACKUP_TIMEOUT_MS/);
    } finally {
      await locker`rollback`;
      locker.release();
      await slowWorker.stop(1_000);
      worker = await startWorkerProcess(config, silentLogger);
    }
  });

  test('a bad backup request is a coded 400', async () => {
    const response = await postJson('/jobs/backup', { type: 'weekly' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_type');
  });

  test('tracked queries are added, listed, replaced and removed through /queries', async () => {
    const added = await postJson('/queries', { query: 'bt.com', sources: ['trustpilot'] });
    assert.equal(added.status, 201);
    const row = (await added.json()) as { id: string; query: string; sources: string[] };
    assert.deepEqual([row.query, row.sources], ['bt.com', ['trustpilot']]);
    await postJson('/queries', { query: 'eventnet.de' });
    const listed = (await (await app.request('/queries')).json()) as { queries: { query: string; sources: string[] | null }[] };
    assert.deepEqual(listed.queries.map((q) => [q.query, q.sources]), [['bt.com', ['trustpilot']], ['eventnet.de', null]]);
    assert.equal((await postJson('/queries', { query: 'x', sources: ['myspace'] })).status, 400);
    const unusable = await postJson('/queries', { query: 'x', sources: ['bluesky'] });
    assert.equal(unusable.status, 400);
    assert.equal(((await unusable.json()) as { error: { code: string } }).error.code, 'source_unusable');
    assert.equal((await app.request(`/queries/${row.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await app.request(`/queries/${row.id}`, { method: 'DELETE' })).status, 404);
  });

  test('adding a tracked query again answers the one there, with its id, and uses up no id', async () => {
    const first = (await (await postJson('/queries', { query: 'again.example', sources: ['trustpilot', 'hackernews'] })).json()) as { id: string };
    for (const sources of [['trustpilot', 'hackernews'], ['hackernews', 'trustpilot']]) {
      const again = await postJson('/queries', { query: 'again.example', sources });
      assert.equal(again.status, 200);
      const body = (await again.json()) as { id: string; sources: string[]; outcome: string };
      assert.deepEqual([body.id, body.sources, body.outcome], [first.id, ['hackernews', 'trustpilot'], 'existing']);
    }
    const changed = await postJson('/queries', { query: 'again.example', sources: ['hackernews'] });
    assert.equal(changed.status, 200);
    const updated = (await changed.json()) as { id: string; sources: string[]; outcome: string };
    assert.deepEqual([updated.id, updated.sources, updated.outcome], [first.id, ['hackernews'], 'updated']);
    const next = (await (await postJson('/queries', { query: 'another.example' })).json()) as { id: string };
    assert.equal(Number(next.id), Number(first.id) + 1);
    for (const id of [first.id, next.id]) await app.request(`/queries/${id}`, { method: 'DELETE' });
  });

  test('two schedulers firing every second enqueue each tick once, and GET /schedule reports the last run', async () => {
    const calls: string[] = [];
    const definitions = [{ name: 'auto-scrape' as const, cron: '* * * * * *', description: 'test' }];
    const handlers = {
      'auto-scrape': async () => {
        calls.push(new Date().toISOString());
        return tickHandlers({ config, sql: services.sql, queue, sources: await loadSourceRegistry(config) })['auto-scrape']();
      },
      'backup-hourly': async () => ({ job_id: null, note: '' }),
      'backup-daily': async () => ({ job_id: null, note: '' }),
      'alert-check': async () => ({ job_id: null, note: '' }),
    };
    const first = startScheduler(definitions, handlers, { store: new ScheduleStore(services.redis, redisKeys(config.redisPrefix)), log: silentLogger });
    const second = startScheduler(definitions, handlers, { store: new ScheduleStore(services.redis, redisKeys(config.redisPrefix)), log: silentLogger });
    await new Promise((resolve) => setTimeout(resolve, 3_300));
    for (const cron of [...first, ...second]) cron.stop();
    const ticks = new Set(calls.map((at) => at.slice(0, 19)));
    assert.ok(calls.length >= 2, `expected ticks, got ${calls.length}`);
    assert.equal(calls.length, ticks.size, 'a tick fired twice');

    const body = (await (await app.request('/schedule')).json()) as { schedules: { name: string; cron: string; next_run: string; last_run: { job_id: string | null; note: string } | null }[] };
    assert.deepEqual(body.schedules.map((s) => s.name), scheduleDefinitions(config).map((d) => d.name));
    const auto = body.schedules.find((s) => s.name === 'auto-scrape')!;
    assert.equal(auto.cron, '0 */3 * * *');
    assert.ok(Date.parse(auto.next_run) > Date.now());
    assert.equal(auto.last_run?.note, '1 scrape jobs enqueued for 1 tracked queries');
    const parent = await queue.get(auto.last_run!.job_id!);
    assert.equal(parent?.kind, 'scrape-all');
    const [child] = await Promise.all(parent!.children.map((id) => queue.get(id)));
    assert.deepEqual([parent!.children.length, child?.source, child?.query], [1, 'trustpilot', 'eventnet.de']);
    for (const id of parent!.children) await queue.cancel(id);
  });
});
