import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Worker as Thread } from 'node:worker_threads';
import { HeldLeasesReader, HeldLeasesWriter, createHeldLeasesMemory } from '../lib/worker/held-leases.ts';

describe('the lease table shared with the lease-keeper thread', () => {
  test('shows every lease held and none released, reusing released rows', () => {
    const memory = createHeldLeasesMemory(2);
    const writer = new HeldLeasesWriter(memory);
    const reader = new HeldLeasesReader(memory);
    const until = Date.now() + 60_000;
    writer.hold({ id: 'job-a', token: 'token-a', until });
    writer.hold({ id: 'job-b', token: 'token-b', until: until + 1 });
    assert.deepEqual(reader.all().sort((x, y) => x.id.localeCompare(y.id)), [
      { id: 'job-a', token: 'token-a', until },
      { id: 'job-b', token: 'token-b', until: until + 1 },
    ]);
    writer.release('job-a');
    writer.hold({ id: 'job-c', token: 'token-c', until });
    assert.deepEqual(reader.all().map((lease) => lease.id).sort(), ['job-b', 'job-c']);
    assert.throws(() => writer.hold({ id: 'job-d', token: 'token-d', until }), /no free lease row/);
    writer.release('job-b');
    writer.release('job-c');
    assert.deepEqual(reader.all(), []);
  });

  test('reads back every deadline exactly, however long the worker has been up and whatever the clock says', () => {
    const memory = createHeldLeasesMemory(1);
    const writer = new HeldLeasesWriter(memory);
    const reader = new HeldLeasesReader(memory);
    // 25 days after now (past what an Int32 of milliseconds from start-up holds), 2**32 ms exactly, and a clock
    // set to the year 2200.
    for (const until of [Date.now() + 25 * 86_400_000, 2 ** 32, 2 ** 32 - 1, Date.UTC(2200, 0, 1) + 123]) {
      writer.hold({ id: 'job-a', token: 'token-a', until });
      assert.equal(reader.all()[0]?.until, until);
    }
  });

  test('a reader in another thread never sees a row half written, while the writer rewrites it as fast as it can', async () => {
    const memory = createHeldLeasesMemory(4);
    const writer = new HeldLeasesWriter(memory);
    // The reader runs in a real thread and reports any lease whose token is not the one written with its id.
    const reader = new Thread(
      `const { workerData, parentPort } = require('node:worker_threads');
       import('tsx/esm/api').then(({ register }) => { register(); return import(workerData.module); }).then(({ HeldLeasesReader }) => {
         const reader = new HeldLeasesReader(workerData.memory);
         let reads = 0, torn = 0;
         const until = Date.now() + 1500;
         while (Date.now() < until) {
           for (const lease of reader.all()) {
             reads += 1;
             if (lease.token !== 'token-of-' + lease.id.slice(0, 8)) torn += 1;
           }
         }
         parentPort.postMessage({ reads, torn });
       });`,
      { eval: true, workerData: { memory, module: new URL('../lib/worker/held-leases.ts', import.meta.url).href } },
    );
    const report = new Promise<{ reads: number; torn: number }>((resolve, reject) => {
      reader.once('message', resolve);
      reader.once('error', reject);
    });
    let done = false;
    void report.finally(() => (done = true)).catch(() => {});
    let writes = 0;
    while (!done) {
      for (let i = 0; i < 1000; i++) {
        const id = randomUUID();
        writer.hold({ id, token: `token-of-${id.slice(0, 8)}`, until: Date.now() + 60_000 });
        writer.release(id);
        writes += 1;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const { reads, torn } = await report;
    await reader.terminate();
    assert.ok(writes > 1000 && reads > 100, `too little overlap to mean anything: ${writes} writes, ${reads} reads`);
    assert.equal(torn, 0);
  });
});
