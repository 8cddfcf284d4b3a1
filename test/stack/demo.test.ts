// npm run demo, as a newcomer runs it: the product on this machine against the recorded answers of every source,
// offline. Here in a database and Redis prefix of this file's own, dropped afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { freePort } from '../helpers/private-redis.ts';
import { RECORDED_SOURCES } from '../helpers/recorded-upstreams.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://localhost:6379/0';

describe('npm run demo', () => {
  const suffix = randomBytes(4).toString('hex');
  const database = `vibe_test_demo_${suffix}`;
  const prefix = `vibe_test_demo_${suffix}`;

  after(async () => {
    const sql = postgres(BASE_DATABASE_URL, { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop database if exists "${database}" with (force)`);
    await sql.end({ timeout: 1 });
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  test('scrapes every source from its recorded answers and says where to look, with no network', async () => {
    const port = await freePort();
    const child = spawn('npm', ['run', 'demo', '--', '--exit'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: BASE_DATABASE_URL, REDIS_URL, DEMO_DATABASE: database, DEMO_REDIS_PREFIX: prefix, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, out.slice(-4000));
    for (const source of RECORDED_SOURCES) assert.match(out, new RegExp(`^  ${source} +"[^"]+" +completed +[1-9]\\d* +[1-9]`, 'm'), `${source} in:\n${out.slice(-3000)}`);
    assert.match(out, new RegExp(`curl 'http://127\\.0\\.0\\.1:${port}/posts\\?limit=5'`));
    const url = new URL(BASE_DATABASE_URL);
    url.pathname = `/${database}`;
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const rows = await sql<{ source: string; count: string }[]>`select source, count(*) from posts group by source order by source`;
    await sql.end({ timeout: 1 });
    assert.deepEqual(rows.map((row) => row.source), RECORDED_SOURCES);
  });
});
