// What the bench parts (scripts/bench/<part>.ts) share: parameters, statistics, /proc sampling of the processes
// under test, starting and stopping them by PID, the peer harnesses, and the JSON and table output (the fake
// upstream is page-server.ts, profile summaries cpu-profile.ts). The measured processes are the real entry files (dist/*.js after `npm run build`, or the .ts
// files through tsx), never a copy of their logic.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PEERS_DIR = process.env.BENCH_PEERS_DIR ?? '/work/shared/bench';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://localhost:6379/0';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres';


export interface CommonParams {
  /** The CI smoke version: small N, one rep. */
  quick: boolean;
  reps: number;
  /** dist: `node dist/worker.js` (production); tsx: `node --import tsx worker.ts`. */
  entry: 'dist' | 'tsx';
  /** Run `npm run build` when dist/ is older than the sources. */
  build: boolean;
  /** False with --no-peers: the peers need network installs, so the smoke test skips them, and says so. */
  peers: boolean;
  outDir: string;
  /** A folder for `node --cpu-prof` profiles of the measured processes (scrape, api). */
  cpuProf: string | null;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses the options every part takes plus `extra`; a bad value stops with one line naming the option. */
export function parseParams<T extends Options>(extra: T, defaults: { reps: number }): { common: CommonParams; values: Record<string, string | boolean | undefined> } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      entry: { type: 'string', default: 'dist' },
      'no-build': { type: 'boolean', default: false },
      'no-peers': { type: 'boolean', default: false },
      'out-dir': { type: 'string', default: join(ROOT, 'bench-results') },
      'cpu-prof': { type: 'string' },
      ...extra,
    },
    strict: true,
  }) as { values: Record<string, string | boolean | undefined> };
  const quick = values.quick === true;
  const entry = values.entry as string;
  if (entry !== 'dist' && entry !== 'tsx') fail(`--entry must be "dist" or "tsx", got "${entry}"`);
  return {
    common: {
      quick,
      reps: intValue(values, 'reps', quick ? 1 : defaults.reps, 1, 50),
      entry,
      build: values['no-build'] !== true,
      peers: values['no-peers'] !== true,
      outDir: values['out-dir'] as string,
      cpuProf: (values['cpu-prof'] as string | undefined) ?? null,
    },
    values,
  };
}

export function intValue(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}, got "${String(raw)}"`);
  return n;
}

export function intList(values: Record<string, unknown>, name: string, fallback: number[], min: number, max: number): number[] {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const list = String(raw).split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < min || n > max)) {
    fail(`--${name} must be a comma list of integers from ${min} to ${max}, got "${String(raw)}"`);
  }
  return list;
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

export const log = (line: string): void => void process.stderr.write(`${line}\n`);


/** Field names as in the peer-bullmq results, plus n. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in %. */
  spread_pct: number;
  n: number;
  runs: number[];
}

export function summarize(runs: number[], digits = 2): Summary {
  const xs = runs.filter((x) => Number.isFinite(x));
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return {
    median: round(median, digits),
    min: round(s[0] ?? NaN, digits),
    max: round(s[n - 1] ?? NaN, digits),
    spread_pct: n && median ? round(((s[n - 1]! - s[0]!) / median) * 100, 1) : NaN,
    n,
    runs: xs.map((x) => round(x, digits)),
  };
}

/** Nearest-rank percentile of an ascending array (q from 0 to 1). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** "median (min–max)" for a table cell. */
export function cell(s: Summary | undefined | null, digits = 1): string {
  if (!s || !s.n) return 'n/a';
  const f = (x: number) => (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(round(x, digits)));
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}


const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU of a live process, all its threads (utime and stime in /proc/<pid>/stat); NaN once it is gone. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields after its closing ")" start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** A "Vm..." line of /proc/<pid>/status in MB: VmRSS now, VmHWM the kernel's high-water mark. */
export function procMemMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
    return kb === undefined ? NaN : Number(kb) / 1024;
  } catch {
    return NaN;
  }
}

/** Time the process's threads spent runnable but waiting for a CPU (/proc/<pid>/schedstat, field 2, ns). */
export function procRunqueueWaitMs(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
    }
    return total;
  } catch {
    return NaN;
  }
}

/** The process and all its live descendants (a node:cluster primary and its API processes). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) out.push(...children.split(' ').map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export const treeCpuMs = (pid: number): number => processTree(pid).reduce((sum, p) => sum + (procCpuMs(p) || 0), 0);
export const treeRunqueueWaitMs = (pid: number): number => processTree(pid).reduce((sum, p) => sum + (procRunqueueWaitMs(p) || 0), 0);

/** Samples VmRSS of some processes every `everyMs` and keeps each one's peak. */
export function sampleRss(pids: number[], everyMs = 10): { stop(): Record<number, number> } {
  const peaks: Record<number, number> = {};
  const tick = () => {
    for (const pid of pids) {
      const mb = procMemMb(pid, 'VmRSS');
      if (Number.isFinite(mb) && mb > (peaks[pid] ?? 0)) peaks[pid] = mb;
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return peaks;
    },
  };
}

/** Whole-box CPU pressure (PSI): the share of time some runnable task waited for a CPU. */
export function cpuPressureTotalUs(): number {
  try {
    return Number(/^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Busy share of all CPUs between two readings of /proc/stat. */
export function boxCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}


export interface Machine {
  cpus: number;
  cpu_model: string;
  mem_gb: number;
  kernel: string;
  node: string;
  redis_version: string;
  postgres_version: string;
  postgres_settings: Record<string, string>;
  loadavg_start: number[];
  loadavg_end?: number[];
  /** The code measured: the commit and how many files differ from it (others edit this tree meanwhile). */
  code: { commit: string; uncommitted_files: number };
}

export async function describeMachine(): Promise<Machine> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
      select name, setting, unit from pg_settings
      where name in ('server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'wal_level', 'max_connections')
    `;
    const pg = Object.fromEntries(settings.map((s) => [s.name, s.unit ? `${s.setting} ${s.unit}` : s.setting]));
    return {
      cpus: os.availableParallelism(),
      cpu_model: os.cpus()[0]?.model ?? '?',
      mem_gb: round(os.totalmem() / 2 ** 30, 1),
      kernel: os.release(),
      node: process.version,
      redis_version: /^redis_version:(.*)$/m.exec(info)?.[1]?.trim() ?? '?',
      postgres_version: pg.server_version ?? '?',
      postgres_settings: pg,
      loadavg_start: os.loadavg().map((x) => round(x, 2)),
      code: describeCode(),
    };
  } finally {
    redis.disconnect();
    await sql.end({ timeout: 1 });
  }
}

function describeCode(): Machine['code'] {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return '';
    }
  };
  return { commit: git('rev-parse', '--short', 'HEAD') || 'unknown', uncommitted_files: git('status', '--porcelain').split('\n').filter(Boolean).length };
}

export function finishMachine(machine: Machine): Machine {
  return { ...machine, loadavg_end: os.loadavg().map((x) => round(x, 2)) };
}


export const utcStamp = (date = new Date()): string => date.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');

/** Writes `<outDir>/<part>-<UTC time>.json` and returns its path. */
export function writeResult(outDir: string, part: string, result: Record<string, unknown>, date = new Date()): string {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${part}-${utcStamp(date)}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

/** The newest `<part>-*.json` in `dir` (the stamp sorts by time), or null. */
export function latestResult(dir: string, part: string): string | null {
  if (!existsSync(dir)) return null;
  const names = readdirSync(dir).filter((n) => n.startsWith(`${part}-`) && n.endsWith('.json')).sort();
  return names.length ? join(dir, names.at(-1)!) : null;
}

export function printTable(headers: string[], rows: (string | number)[][]): void {
  const right = headers.map((_, i) => rows.every((r) => /^[\d.,–()× -]+$|^n\/a$/.test(String(r[i] ?? ''))));
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map((_, i) => (right[i] ? '---:' : '---')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map(String).join(' | ')} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}


/** dist/ when it holds a build at least as new as every source file (else null and why). */
export function distStaleness(): string | null {
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, 'worker.js'))) return 'dist/worker.js does not exist';
  const built = statSync(join(dist, 'worker.js')).mtimeMs;
  const newest = (dir: string): { path: string; mtime: number } => {
    let best = { path: dir, mtime: 0 };
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const found = entry.isDirectory() ? newest(path) : { path, mtime: statSync(path).mtimeMs };
      if (found.mtime > best.mtime) best = found;
    }
    return best;
  };
  for (const source of [newest(join(ROOT, 'lib')), newest(join(ROOT, 'sql')), ...['api.ts', 'worker.ts'].map((f) => ({ path: f, mtime: statSync(join(ROOT, f)).mtimeMs }))]) {
    if (source.mtime > built) return `${source.path.replace(ROOT, '')} is newer than dist/worker.js`;
  }
  const missing = readdirSync(join(ROOT, 'sql')).filter((f) => !existsSync(join(dist, 'sql', f)));
  return missing.length ? `dist/sql lacks ${missing.join(', ')}` : null;
}

/** Builds dist/ when it is stale and building is allowed; returns how the entry files will run, for the JSON. */
export function prepareEntry(params: CommonParams): string {
  if (params.entry === 'tsx') return 'tsx (node --import tsx <entry>.ts): the TypeScript loader adds CPU and RSS';
  const stale = distStaleness();
  if (!stale) return 'dist (node dist/<entry>.js, built by npm run build)';
  if (!params.build) {
    if (!existsSync(join(ROOT, 'dist', 'worker.js'))) fail('dist/worker.js does not exist and --no-build was given: run `npm run build` first');
    // all.ts builds once and passes --no-build: sources edited since then (others work in this tree) are not measured.
    log(`note: ${stale}; measuring dist/ as built (--no-build)`);
    return `dist (node dist/<entry>.js; --no-build, and ${stale})`;
  }
  log(`building dist/ (${stale}) ...`);
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 });
  return 'dist (node dist/<entry>.js, built by npm run build in this run)';
}

export function entryArgs(entry: 'dist' | 'tsx', file: 'worker' | 'api', nodeFlags: string[] = []): string[] {
  return entry === 'dist' ? [...nodeFlags, join(ROOT, 'dist', `${file}.js`)] : [...nodeFlags, '--import', 'tsx', join(ROOT, `${file}.ts`)];
}

export interface Service {
  name: string;
  child: ChildProcess;
  pid: number;
  /** How many times each log event was seen on stdout. */
  events: Map<string, number>;
  /** The last lines of stdout and stderr, for error messages. */
  tail(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForEvent(event: string, count?: number, timeoutMs?: number): Promise<void>;
}

const running = new Set<Service>();

/** Starts `node <args>` with `env` over ours; every process started here is stopped by stopAll() on the way out. */
export function startProcess(name: string, args: string[], env: Record<string, string>): Service {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events = new Map<string, number>();
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > 60) lines.shift();
  };
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      if (!line) continue;
      keep(line);
      const at = line.indexOf('"event":"');
      if (at >= 0) {
        const event = line.slice(at + 9, line.indexOf('"', at + 9));
        events.set(event, (events.get(event) ?? 0) + 1);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => chunk.toString('utf8').split('\n').filter(Boolean).forEach((l) => keep(`stderr: ${l}`)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(service);
      resolve({ code, signal });
    }),
  );
  const service: Service = {
    name,
    child,
    pid: child.pid ?? -1,
    events,
    tail: () => lines.slice(-8).join('\n'),
    exited,
    async waitForEvent(event, count = 1, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while ((events.get(event) ?? 0) < count) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before "${event}":\n${service.tail()}`);
        if (Date.now() > deadline) throw new Error(`${name}: no "${event}" ×${count} within ${timeoutMs} ms:\n${service.tail()}`);
        await sleep(20);
      }
    },
  };
  running.add(service);
  return service;
}

const stopping = new WeakMap<Service, Promise<{ code: number | null; signal: NodeJS.Signals | null }>>();

/**
 * SIGTERM, then SIGKILL to it and its descendants (by PID) if it has not exited after `graceMs`. Calling it again
 * waits for the same stop: a second SIGTERM would make our entry files exit at once, without draining.
 */
export function stopProcess(service: Service, graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const pending = stopping.get(service) ?? terminate(service, graceMs);
  stopping.set(service, pending);
  return pending;
}

async function terminate(service: Service, graceMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return service.exited;
  const tree = processTree(service.pid);
  service.child.kill('SIGTERM');
  const outcome = await Promise.race([service.exited, sleep(graceMs).then(() => null)]);
  if (outcome) return outcome;
  log(`${service.name} (pid ${service.pid}) did not exit ${graceMs} ms after SIGTERM; killing pids ${tree.join(' ')}`);
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return service.exited;
}

export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...running].map((s) => stopProcess(s, graceMs)));
}

/**
 * Bounds a part: past `maxSeconds`, or on SIGINT/SIGTERM, it runs `cleanup` (drop the database and Redis keys,
 * stop the processes it started) and exits non-zero, so a hung run never leaves anything behind.
 */
export function guard(part: string, maxSeconds: number, cleanup: () => Promise<void>): { done(): void } {
  let ending = false;
  const end = async (why: string, code: number) => {
    if (ending) return;
    ending = true;
    log(`bench ${part}: ${why}; cleaning up`);
    // Processes first: a worker still running would write keys after they were deleted.
    await Promise.race([stopAll(5_000).then(() => cleanup()).catch((error: Error) => log(`cleanup failed: ${error.message}`)), sleep(25_000)]);
    process.exit(code);
  };
  const timer = setTimeout(() => void end(`over its time limit of ${maxSeconds} s`, 124), maxSeconds * 1000);
  const onSignal = (signal: NodeJS.Signals) => void end(`got ${signal}`, 130);
  // An error anywhere (also one thrown while a cleanup above is closing connections) ends the run the same way,
  // instead of exiting before the processes are stopped and the database dropped.
  const onError = (error: unknown) => {
    if (!ending) log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    void end('failed', 1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    done() {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** `fn` runs once however often it is called: the guard and the normal path share one cleanup. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


export interface PeerRun {
  peer: string;
  ok: boolean;
  /** Why there are no figures, when there are none. */
  missing?: string;
  command?: string;
  env?: Record<string, string>;
  results_path?: string;
  wall_s?: number;
  rc?: number | null;
  stderr_tail?: string;
}

/**
 * Runs a peer harness (`bash run.sh` in /work/shared/bench/<peer>, outside the repo; it runs `npm ci` there on
 * first use) with `env` knobs, under a time limit, and returns where its results went.
 */
export async function runPeer(peer: string, env: Record<string, string>, timeoutS: number): Promise<PeerRun> {
  const dir = join(PEERS_DIR, peer);
  if (!existsSync(join(dir, 'run.sh'))) {
    const missing = `${dir}/run.sh does not exist, so the ${peer} figures are missing`;
    log(`peer figures missing: ${missing}`);
    return { peer, ok: false, missing };
  }
  const command = `timeout --kill-after=10 ${timeoutS} bash run.sh`;
  log(`running ${peer}: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} ${command}`);
  const started = Date.now();
  const child = spawn('timeout', ['--kill-after=10', String(timeoutS), 'bash', 'run.sh'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const rc = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wall_s = round((Date.now() - started) / 1000, 1);
  const path = /^results: (\S+\.json)/m.exec(out)?.[1];
  const results_path = path ? join(dir, path) : undefined;
  const run: PeerRun = { peer, ok: !!results_path && existsSync(results_path), command, env, results_path, wall_s, rc, stderr_tail: err.slice(-1500) };
  if (!run.ok) {
    run.missing = `${peer} run.sh ended with rc=${rc} and no results file${rc === 124 ? ` (timed out after ${timeoutS} s)` : ''}: ${err.slice(-400)}`;
    log(`peer figures missing: ${run.missing}`);
  } else if (rc !== 0) {
    log(`${peer}: run.sh reported failed checks (rc=${rc}); its results are kept with their "errors"`);
  }
  return run;
}

export function readJson<T = Record<string, any>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
