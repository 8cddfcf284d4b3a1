import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  /** Every stdout line (JSON log events) and stderr line so far. */
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForEvent(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts one of the project's entry files (worker.ts, api.ts, ...) as a real process with `env` on top of ours. */
export function spawnEntry(file: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const collect = (into: string[]) => {
    let rest = '';
    return (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      into.push(...lines.filter(Boolean));
    };
  };
  child.stdout!.on('data', collect(stdout));
  child.stderr!.on('data', collect(stderr));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout,
    stderr,
    exited,
    async waitForEvent(event, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        for (const line of stdout) {
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>;
            if (parsed.event === event) return parsed;
          } catch {
            // not a log line
          }
        }
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`no "${event}" event from ${file}; stdout: ${stdout.slice(-5).join('\n')} stderr: ${stderr.slice(-5).join('\n')}`);
    },
  };
}

/** Ends a process this test started, by its PID, and waits for it. */
export async function stopProcess(spawned: Spawned, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill(signal);
  await spawned.exited;
}
