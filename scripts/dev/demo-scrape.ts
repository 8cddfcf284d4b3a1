// The demo's scrape: one job per source, each with the query its recorded answers are for, submitted to the API
// and followed until all have finished; then a table of what each found. npm run demo calls scrapeRecorded();
// scripts/start-docker.sh --demo runs this file in a container on the stack's network:
//   node --import tsx scripts/dev/demo-scrape.ts --api http://api:8000 [--token T]
import { parseArgs } from 'node:util';
import { RECORDED_QUERIES } from '../../test/helpers/recorded-upstreams.ts';

export interface DemoResult {
  source: string;
  query: string;
  status: string;
  found: number;
  inserted: number;
  error: string | null;
}

export async function scrapeRecorded(api: string, token?: string, timeoutMs = 240_000): Promise<DemoResult[]> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const jobs: [string, string, string][] = [];
  for (const [source, query] of Object.entries(RECORDED_QUERIES)) {
    const res = await fetch(`${api}/jobs/scrape`, { method: 'POST', headers, body: JSON.stringify({ source, query, limit: 50 }) });
    const body = (await res.json()) as { id?: string; error?: { message: string } };
    if (res.status !== 202 || !body.id) throw new Error(`POST /jobs/scrape for ${source} answered ${res.status}: ${body.error?.message ?? JSON.stringify(body)}`);
    jobs.push([source, query, body.id]);
  }
  const deadline = Date.now() + timeoutMs;
  const results: DemoResult[] = [];
  for (const [source, query, id] of jobs) {
    for (;;) {
      const job = (await (await fetch(`${api}/jobs/${id}`, { headers })).json()) as {
        status: string;
        result: { found: number; inserted: number } | null;
        error: { message: string } | null;
      };
      if (['completed', 'failed', 'cancelled', 'dead'].includes(job.status)) {
        results.push({ source, query, status: job.status, found: job.result?.found ?? 0, inserted: job.result?.inserted ?? 0, error: job.error?.message ?? null });
        break;
      }
      if (Date.now() > deadline) throw new Error(`the ${source} job ${id} had not finished after ${timeoutMs / 1000} s (status ${job.status})`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return results;
}

export function formatResults(results: DemoResult[]): string {
  const lines = results.map((r) => `  ${r.source.padEnd(14)} ${JSON.stringify(r.query).padEnd(10)} ${r.status.padEnd(10)} ${String(r.found).padStart(5)} ${String(r.inserted).padStart(8)}${r.error ? `  ${r.error}` : ''}`);
  return [`  ${'source'.padEnd(14)} ${'query'.padEnd(10)} ${'status'.padEnd(10)} ${'found'.padStart(5)} ${'inserted'.padStart(8)}`, ...lines].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { api: { type: 'string', default: 'http://127.0.0.1:8000' }, token: { type: 'string' } } });
  const results = await scrapeRecorded(values.api!, values.token || process.env.API_TOKEN || undefined);
  process.stdout.write(`${formatResults(results)}\n`);
  process.exit(results.every((r) => r.status === 'completed') ? 0 : 1);
}
