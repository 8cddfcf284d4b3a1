// The short chaos run (a few hundred jobs, worker kills, a Redis restart, a PostgreSQL stop) as part of the suite,
// so the guarantees keep being proven by real faults on every change. `npm run chaos` is the long one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('the short chaos run loses no job, stores no post twice and leaves none stuck', { timeout: 300_000 }, async () => {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/chaos.ts', '--quick'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = stdout.trim().split('\n').at(-1) ?? '';
  assert.equal(code, 0, `chaos run failed:\n${line}\n${stderr.slice(-3_000)}`);
  const figures = Object.fromEntries(line.split(' ').map((pair) => pair.split('=')));
  assert.equal(figures.lost, '0');
  assert.equal(figures.stuck, '0');
  assert.equal(figures.duplicated_posts, '0');
  assert.equal(figures.redis_restarts, '1');
  assert.equal(figures.pg_outages, '1');
  assert.ok(Number(figures.kills) > 0);
});
