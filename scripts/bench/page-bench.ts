// What the scrape and api benches both start with: the machine described, dist/ or tsx prepared, a database and
// Redis prefix of their own, the fake Trustpilot, and a time limit that cleans all of it up.
import { type CommonParams, describeMachine, guard, once, prepareEntry } from './common.ts';
import { JobQueue } from '../../lib/queue/queue.ts';
import { queueSettings } from '../../lib/queue/settings.ts';
import { startPageServer } from './page-server.ts';
import { startServices } from '../harness/services.ts';

// Politeness would hold one worker to 1 page/s on Trustpilot; the benches measure the worker, so the fleet-wide
// limit is raised out of the way (a million requests a second, 64 in flight). The per-process rule of one request at
// a time per host (lib/http/client.ts HostTurns) stays on: it is not configurable, and it is a guarantee.
export const RATE_LIMIT = '1000000/1/64';

export async function startPageBench(part: 'scrape' | 'api', params: CommonParams, maxSeconds: number) {
  const started = new Date();
  const machine = await describeMachine();
  const entry = prepareEntry(params);
  const services = await startServices(`bench_${part}`);
  const upstream = await startPageServer();
  const queue = new JobQueue(services.redis, queueSettings(services.config));
  const closeAll = once(async () => {
    await upstream.close();
    await services.close();
  });
  const bound = guard(part, maxSeconds, closeAll);
  return { started, machine, entry, services, upstream, queue, closeAll, bound };
}
