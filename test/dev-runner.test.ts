// npm run dev (scripts/dev.ts) owns its processes: a SIGTERM to its own pid reaches the API, the worker and the
// scheduler, and it exits once they have; without watching, one of them dying ends the others and dev with them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Spawned, processTree, sleep, startProcess, stopProcess } from '../scripts/harness/processes.ts';
import { freePort } from './helpers/private-redis.ts';
import { type TestServices, startServices } from './helpers/services.ts';

/** Whether a pid is a live process (a zombie waiting for its parent counts as gone). */
function alive(pid: number): boolean {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return false;
  try {
    const stat = readFileSync(file, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

describe('npm run dev', () => {
  let services: TestServices;
  const started: Spawned[] = [];

  before(async () => {
    services = await startServices('dev_runner');
  });

  after(async () => {
    await Promise.all(started.map((spawned) => stopProcess(spawned, { signal: 'SIGKILL' })));
    await services.close();
  });

  /** dev with --no-watch on this file's namespace, once its API answers /ready and its three processes run. */
  async function startDev(): Promise<{ dev: Spawned; children: number[] }> {
    const port = await freePort();
    const dev = startProcess('npm run dev', ['--import', 'tsx', 'scripts/dev.ts', '--no-watch'], { ...services.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    started.push(dev);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((res) => res.ok, () => false);
      // Its own children: node processes for api.ts, worker.ts and scheduler.ts (each may have threads, not processes).
      const children = processTree(dev.pid).filter((pid) => pid !== dev.pid);
      if (ready && children.length >= 3 && dev.stdout.some((line) => line.startsWith('scheduler'))) return { dev, children };
      if (dev.child.exitCode !== null) assert.fail(`dev exited before it was up:\n${dev.tail()}`);
      if (Date.now() > deadline) assert.fail(`dev was not up within 60 s:\n${dev.tail()}`);
      await sleep(200);
    }
  }

  test('a SIGTERM to its pid stops the API, the worker and the scheduler, and it exits 0 once they have', async () => {
    const { dev, children } = await startDev();
    assert.ok(children.every(alive));
    dev.child.kill('SIGTERM');
    const exit = await Promise.race([dev.exited, sleep(45_000).then(() => null)]);
    assert.ok(exit, `dev did not exit within 45 s of SIGTERM:\n${dev.tail()}`);
    assert.equal(exit.code, 0, dev.tail());
    assert.deepEqual(children.filter(alive), [], 'processes dev started outlived it');
    for (const name of ['api', 'worker', 'scheduler']) assert.ok(dev.stdout.some((line) => line.startsWith(name) && /exited \((0|SIGTERM)\)/.test(line)), `${name} was not seen exiting:\n${dev.tail()}`);
  });

  test('without watching, a process that dies takes the others and dev down with it, exiting non-zero', async () => {
    const { dev, children } = await startDev();
    const worker = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker.ts'));
    assert.ok(worker, 'no worker.ts among the processes dev started');
    process.kill(worker, 'SIGKILL');
    const exit = await Promise.race([dev.exited, sleep(45_000).then(() => null)]);
    assert.ok(exit, `dev did not exit within 45 s of its worker's death:\n${dev.tail()}`);
    assert.notEqual(exit.code, 0);
    assert.deepEqual(children.filter(alive), [], 'processes dev started outlived it');
  });
});
