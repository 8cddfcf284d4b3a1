// Every way a worker is started outside tests passes lib/worker/node-flags.ts's flags (bench:scrape imports
// them), so what the bench measures is what runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { WORKER_NODE_FLAGS } from '../lib/worker/node-flags.ts';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe("the worker's node flags", () => {
  test('are flags this node accepts', () => {
    const result = spawnSync(process.execPath, [...WORKER_NODE_FLAGS, '-e', ''], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  test("are in compose.yaml's worker command", () => {
    const command = /^ {2}worker:\n(?:(?: {4}.*)?\n)*? {4}command: (\[.*\])$/m.exec(read('compose.yaml'))?.[1];
    assert.ok(command, 'compose.yaml has no worker command on one line');
    assert.deepEqual(JSON.parse(command), ['node', ...WORKER_NODE_FLAGS, 'dist/worker.js']);
  });

  test('are what scripts/local-stack.sh starts its workers with', () => {
    const script = read('scripts/local-stack.sh');
    assert.ok(script.split('\n').includes(`WORKER_NODE_FLAGS=(${WORKER_NODE_FLAGS.join(' ')})`), 'WORKER_NODE_FLAGS differs');
    assert.match(script, /launch "worker-\$i" "\$\{run\[@\]\}" "\$\{WORKER_NODE_FLAGS\[@\]\}" /);
  });

  test('are in npm run start:worker', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.equal(scripts['start:worker'], `node ${WORKER_NODE_FLAGS.join(' ')} --import tsx worker.ts`);
  });
});
