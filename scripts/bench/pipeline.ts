// npm run bench:pipeline — end-to-end latency of a 50-review Trustpilot job (POST /jobs/scrape -> completed)
// through real API and worker processes, against the recorded pages on a loopback fake upstream with no delay,
// how long DELETE takes to abort a running job, and the worker's memory. Runs in a database and Redis prefix of its own, removed afterwards.
// Options: --jobs N (default 30), --concurrency N (worker concurrency for the burst, default 2).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startFakeUpstream } from '../harness/fake-upstream.ts';
import { freePort } from '../harness/private-redis.ts';
import { spawnEntry, stopProcess } from '../harness/processes.ts';
import { startServices } from '../harness/services.ts';
import { BT_PAGE_1, serveBt } from '../harness/trustpilot-upstream.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '30' }, concurrency: { type: 'string', default: '2' } } });
const jobs = Number(values.jobs);

const services = await startServices('bench_pipeline');
const upstream = await startFakeUpstream();
serveBt(upstream);
const port = await freePort();
const env = { ...services.env, PORT: String(port), HOST: '127.0.0.1', SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl, LOG_LEVEL: 'info', WORKER_CONCURRENCY: values.concurrency! };
const api = spawnEntry('api.ts', env);
const worker = spawnEntry('worker.ts', env);
const base = `http://127.0.0.1:${port}`;

try {
  await api.waitForEvent('api_listening');
  await worker.waitForEvent('worker_started');

  const submit = async (query = 'bt.com') => {
    const response = await fetch(`${base}/jobs/scrape`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'trustpilot', query, limit: 50, full_rescan: true }),
    });
    return ((await response.json()) as { job_id: string }).job_id;
  };
  const untilCompleted = async (id: string) => {
    for (;;) {
      const job = (await (await fetch(`${base}/jobs/${id}`)).json()) as { status: string; result: { found: number } };
      if (job.status === 'completed') return job;
      if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`job ${id} ended ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  await untilCompleted(await submit()); // warm-up: JIT, connection pools, first inserts
  const sequential: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const started = performance.now();
    const job = await untilCompleted(await submit());
    if (job.result.found !== 50) throw new Error(`expected 50 posts, got ${job.result.found}`);
    sequential.push(performance.now() - started);
  }
  const burstStarted = performance.now();
  const ids = await Promise.all(Array.from({ length: jobs }, () => submit()));
  await Promise.all(ids.map(untilCompleted));
  const burstMs = performance.now() - burstStarted;

  const cancelMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    upstream.on('GET', '/review/slow.example', () => ({ body: BT_PAGE_1, delayMs: 10_000 }));
    const id = await submit('slow.example');
    while (((await (await fetch(`${base}/jobs/${id}`)).json()) as { status: string }).status !== 'running') await new Promise((r) => setTimeout(r, 2));
    const started = performance.now();
    const response = await fetch(`${base}/jobs/${id}`, { method: 'DELETE' });
    const body = (await response.json()) as { status: string };
    if (body.status !== 'cancelled') throw new Error(`cancel answered ${response.status} ${body.status}`);
    cancelMs.push(performance.now() - started);
  }

  const status = readFileSync(`/proc/${worker.child.pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  const sorted = [...sequential].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  const figures = {
    jobs,
    post_to_completed_ms_p50: round(pct(50)),
    post_to_completed_ms_p90: round(pct(90)),
    post_to_completed_ms_min: round(sorted[0]!),
    post_to_completed_ms_max: round(sorted.at(-1)!),
    burst_jobs: jobs,
    burst_worker_concurrency: Number(values.concurrency),
    burst_jobs_per_s: round((jobs / burstMs) * 1000),
    burst_pages_per_s: round(((jobs * 3) / burstMs) * 1000),
    cancel_running_ms_p50: round([...cancelMs].sort((a, b) => a - b)[2]!),
    cancel_running_ms_max: round(Math.max(...cancelMs)),
    worker_rss_mb: round(kb('VmRSS') / 1024),
    worker_peak_rss_mb: round(kb('VmHWM') / 1024),
  };
  console.log('figure                          value');
  for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(32)}${value}`);
  console.log(JSON.stringify({ bench: 'pipeline', date: new Date().toISOString(), ...figures }));
} finally {
  await Promise.all([stopProcess(worker), stopProcess(api)]);
  await upstream.close();
  await services.close();
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
