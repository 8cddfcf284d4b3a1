// npm run demo [-- --exit]: the product on this machine (npm run dev, without watching) against fake upstreams
// that replay the recorded answers of every source (test/helpers/recorded-upstreams.ts, the tests' own), one
// scrape per source, then where to look. Offline, no credentials. Its data goes to a database and a Redis prefix
// of its own (DEMO_DATABASE, default vibe_demo, on DATABASE_URL's server, and DEMO_REDIS_PREFIX, default vibe-demo),
// so a development database is left alone. Ctrl-C stops it; --exit stops it
// once the scrapes are done (for a check that it works).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withEnvFile } from '../lib/env-file.ts';
import { startRecordedUpstreams } from '../test/helpers/recorded-upstreams.ts';
import { formatResults, scrapeRecorded } from './dev/demo-scrape.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { exit: { type: 'boolean', default: false } } });
const say = (line: string) => process.stdout.write(`${'demo'.padEnd(9)} | ${line}\n`);

const base = withEnvFile(join(ROOT, '.env'));
const database = new URL(base.DATABASE_URL || 'postgres://localhost:5432/ocft_tracker');
const databaseName = base.DEMO_DATABASE || 'vibe_demo';
database.pathname = `/${databaseName}`;
const port = base.PORT || '8000';
const api = `http://127.0.0.1:${port}`;

const recorded = await startRecordedUpstreams();
const env = { ...process.env, ...recorded.env, DATABASE_URL: database.toString(), REDIS_PREFIX: base.DEMO_REDIS_PREFIX || 'vibe-demo', PORT: port, HOST: '127.0.0.1', LOG_LEVEL: base.LOG_LEVEL || 'warn' };
say(`fake upstreams replaying the recorded answers of ${Object.keys(recorded.upstreams).length} sources on 127.0.0.1`);
const dev = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts', '--no-watch'], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
const devExited = new Promise<number | null>((resolve) => dev.on('exit', (code) => resolve(code)));

async function finish(code: number): Promise<never> {
  if (dev.exitCode === null && dev.signalCode === null) dev.kill('SIGTERM');
  await devExited;
  await recorded.close();
  process.exit(code);
}
// dev gets the terminal's Ctrl-C itself and drains; this script only waits for it and closes the upstreams.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => void finish(0));
void devExited.then((code) => finish(code ?? 1));

for (let i = 0; ; i++) {
  const ok = await fetch(`${api}/ready`).then((res) => res.ok, () => false);
  if (ok) break;
  if (i > 600) {
    say(`the API did not answer ${api}/ready within 2 minutes`);
    await finish(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}

say('scraping every source once');
const results = await scrapeRecorded(api, base.API_TOKEN || undefined);
process.stdout.write(`\n${formatResults(results)}\n\n`);
const total = results.reduce((sum, r) => sum + r.inserted, 0);
say(`${total} posts stored in database ${databaseName}. Look at them:`);
say(`  curl '${api}/posts?limit=5'`);
say(`  curl '${api}/posts?source=trustpilot&q=broadband'`);
say(`  curl '${api}/sources'    curl '${api}/jobs?limit=20'`);
if (values.exit || !results.every((r) => r.status === 'completed')) await finish(results.every((r) => r.status === 'completed') ? 0 : 1);
say('running until Ctrl-C');
