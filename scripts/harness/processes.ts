// The one way tests, the chaos suite and the benches start the project's processes and stop them: by the PID they
// were given, never by name, with a SIGKILL to the process and its descendants if it outlives its grace period.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface Spawned {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Lines of stdout and stderr so far (every line, or the last `keepLines`). */
  stdout: string[];
  stderr: string[];
  /** How many times each log event (`"event":"..."` on stdout) was seen, whatever `keepLines` drops. */
  events: Map<string, number>;
  /** The last lines of stdout and stderr, for error messages. */
  tail(): string;
  exited: Promise<Exit>;
  /** Resolves with the first such event (parsed) once `count` of them were seen; throws if the process exits first. */
  waitForEvent(event: string, options?: { count?: number; timeoutMs?: number }): Promise<Record<string, unknown>>;
}

export interface StartOptions {
  /** Keep only this many of the latest lines of each stream: a long bench run logs more than it needs kept. */
  keepLines?: number;
}

const running = new Set<Spawned>();

/** Starts `node <args>` in the checkout with `env` over ours; stopAll() stops whatever is still running. */
export function startProcess(name: string, args: string[], env: Record<string, string>, options: StartOptions = {}): Spawned {
  const keepLines = options.keepLines ?? Infinity;
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const events = new Map<string, number>();
  const firstOf = new Map<string, string>();
  const keep = (into: string[], line: string) => {
    into.push(line);
    if (into.length > keepLines) into.shift();
  };
  const lines = (onLine: (line: string) => void) => {
    let rest = '';
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (line) onLine(line);
    };
  };
  child.stdout!.on(
    'data',
    lines((line) => {
      keep(stdout, line);
      // Counted without parsing: a bench's driver must not spend its CPU on the logs of what it measures.
      const at = line.indexOf('"event":"');
      if (at < 0) return;
      const event = line.slice(at + 9, line.indexOf('"', at + 9));
      events.set(event, (events.get(event) ?? 0) + 1);
      if (!firstOf.has(event)) firstOf.set(event, line);
    }),
  );
  child.stderr!.on('data', lines((line) => keep(stderr, line)));
  const exited = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(spawned);
      resolve({ code, signal });
    }),
  );
  const spawned: Spawned = {
    name,
    child,
    pid: child.pid ?? -1,
    stdout,
    stderr,
    events,
    tail: () => [...stdout.slice(-5), ...stderr.slice(-5).map((line) => `stderr: ${line}`)].join('\n'),
    exited,
    async waitForEvent(event, { count = 1, timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      while ((events.get(event) ?? 0) < count) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before "${event}":\n${spawned.tail()}`);
        if (Date.now() > deadline) throw new Error(`${name}: no "${event}" ×${count} within ${timeoutMs} ms:\n${spawned.tail()}`);
        await sleep(20);
      }
      return JSON.parse(firstOf.get(event)!) as Record<string, unknown>;
    },
  };
  running.add(spawned);
  return spawned;
}

/** Starts one of the project's own TypeScript files (worker.ts, api.ts, scripts/migrate.ts, ...) through tsx. */
export function spawnEntry(file: string, env: Record<string, string>, options: StartOptions = {}): Spawned {
  return startProcess(file, ['--import', 'tsx', file], env, options);
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  /** How long the process may take to exit before it and its descendants get SIGKILL. */
  graceMs?: number;
}

const stopping = new WeakMap<Spawned, Promise<Exit>>();

/**
 * Sends `signal` (SIGTERM unless told) and waits for the exit. Calling it again waits for the same stop: a second
 * SIGTERM would make our entry files exit at once, without draining.
 */
export function stopProcess(spawned: Spawned, how: NodeJS.Signals | StopOptions = {}): Promise<Exit> {
  const { signal = 'SIGTERM', graceMs = 15_000 } = typeof how === 'string' ? { signal: how } : how;
  const pending = stopping.get(spawned) ?? terminate(spawned, signal, graceMs);
  stopping.set(spawned, pending);
  return pending;
}

async function terminate(spawned: Spawned, signal: NodeJS.Signals, graceMs: number): Promise<Exit> {
  if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return spawned.exited;
  const tree = processTree(spawned.pid);
  spawned.child.kill(signal);
  const outcome = await Promise.race([spawned.exited, sleep(graceMs).then(() => null)]);
  if (outcome) return outcome;
  process.stderr.write(`${spawned.name} (pid ${spawned.pid}) did not exit ${graceMs} ms after ${signal}; killing pids ${tree.join(' ')}\n`);
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return spawned.exited;
}

/** Stops every process spawned here that is still running. */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...running].map((spawned) => stopProcess(spawned, { graceMs })));
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

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
