// npm run dev [-- --no-watch]: the API, one worker and the scheduler in one terminal, each line prefixed with its
// name, with the settings of .env (the shell's own variables win). When Redis or PostgreSQL does not answer and
// its server is installed, private ones are started with their data in .dev/ (kept between runs) and stopped
// with dev; otherwise it says what to install. Migrations are applied before the processes start.
// A change to a source file (the entry files, lib/, sql/) restarts the API and the scheduler, and drains the
// worker (its running jobs finish, as on SIGTERM in production) before starting it again; --no-watch turns that off.
// Ctrl-C stops everything (each process gets SIGTERM and drains as it would in production).
import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withEnvFile } from '../lib/env-file.ts';
import { type LocalService, MissingService, ensurePostgres, ensureRedis } from './dev/local-services.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { 'no-watch': { type: 'boolean', default: false } } });
const watching = !values['no-watch'];

const say = (line: string) => process.stdout.write(`${'dev'.padEnd(9)} | ${line}\n`);
const env = withEnvFile(join(ROOT, '.env'));
const databaseUrl = env.DATABASE_URL || 'postgres://localhost:5432/ocft_tracker';
const redisUrl = env.REDIS_URL || 'redis://localhost:6379/0';

const services: LocalService[] = [];
try {
  for (const start of [() => ensureRedis(redisUrl, join(ROOT, '.dev/redis')), () => ensurePostgres(databaseUrl, join(ROOT, '.dev/postgres'))]) {
    const service = await start();
    if (service) {
      services.push(service);
      say(`started ${service.description}`);
    }
  }
} catch (error) {
  await Promise.all(services.map((service) => service.stop()));
  if (!(error instanceof MissingService)) throw error;
  process.stderr.write(`dev: ${error.message}\n`);
  process.exit(1);
}

interface Managed {
  name: string;
  args: string[];
  child: ChildProcess | null;
  /** Set while a restart waits for the old process to exit. */
  restarting: boolean;
}

let stopping = false;
const processes: Managed[] = [
  { name: 'api', args: ['--import', 'tsx', 'api.ts'], child: null, restarting: false },
  // Node flags as in lib/worker/node-flags.ts.
  { name: 'worker', args: ['--max-semi-space-size=2', '--import', 'tsx', 'worker.ts'], child: null, restarting: false },
  { name: 'scheduler', args: ['--import', 'tsx', 'scheduler.ts'], child: null, restarting: false },
];
const watchers: FSWatcher[] = [];

function launch(entry: Managed): void {
  // Each child in its own process group: Ctrl-C reaches only this script, which then sends one SIGTERM to each,
  // instead of the terminal's SIGINT plus ours counting as the "second signal" that skips the worker's drain.
  const child = spawn(process.execPath, entry.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
  entry.child = child;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${entry.name.padEnd(9)} | ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${entry.name.padEnd(9)} | exited (${signal ?? code})\n`);
    if (entry.child === child) entry.child = null;
    if (stopping || entry.restarting) return;
    // Without watching, one process ending ends dev; watching, a crash (a syntax error) waits for the next change.
    if (!watching) void stopAll(code ?? 1);
    else say(`${entry.name} is down: it starts again on the next change`);
  });
}

/** SIGTERM and wait: the worker drains its running jobs first (up to WORKER_SHUTDOWN_TIMEOUT_MS). */
function stop(entry: Managed): Promise<void> {
  const child = entry.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function restart(entry: Managed): Promise<void> {
  if (entry.restarting) return;
  entry.restarting = true;
  await stop(entry);
  entry.restarting = false;
  if (!stopping) launch(entry);
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const watcher of watchers) watcher.close();
  await Promise.all(processes.map(stop));
  await Promise.all(services.map((service) => service.stop()));
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/** scripts/migrate.ts: creates the database when missing and applies new sql/ files. */
function migrate(): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${'migrate'.padEnd(9)} | ${line}\n`));
  return new Promise((resolve) => child.on('exit', (code) => resolve(code === 0)));
}

if (!(await migrate())) {
  process.stderr.write('dev: migrate failed (above); nothing started\n');
  await stopAll(1);
}

for (const entry of processes) launch(entry);

// What the three processes load: the entry files, lib/ (with its Lua) and sql/. Editors write a file in several
// steps, so changes are gathered for a moment before anything restarts.
if (watching) {
  let timer: NodeJS.Timeout | null = null;
  const changed = new Set<string>();
  const onChange = (file: string) => {
    if (!/\.(ts|lua|sql)$/.test(file)) return;
    changed.add(file);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      const files = [...changed];
      changed.clear();
      say(`${files.join(', ')} changed: restarting api and scheduler, draining and restarting the worker`);
      // A new migration is applied while the old processes drain, before the new ones start.
      const migrated = files.some((file) => file.startsWith('sql/')) ? migrate() : Promise.resolve(true);
      for (const entry of processes) void migrated.then(() => restart(entry));
    }, 300);
  };
  watchers.push(watch(ROOT, (_, file) => file && /^(api|worker|scheduler)\.ts$/.test(file) && onChange(file)));
  for (const dir of ['lib', 'sql']) watchers.push(watch(join(ROOT, dir), { recursive: true }, (_, file) => file && onChange(`${dir}/${file}`)));
  say('watching api.ts, worker.ts, scheduler.ts, lib/ and sql/ (--no-watch to turn off)');
}
