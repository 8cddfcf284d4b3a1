// The measured processes, started by PID and stopped by PID whatever happens (guard), never by name.
import { type ChildProcess, spawn } from 'node:child_process';
import { log } from './params.ts';
import { ROOT } from './paths.ts';
import { processTree } from './proc.ts';

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
