// npm run dev: the API, one worker and the scheduler in one terminal, each line prefixed with its name.
// Ctrl-C stops all three (each gets SIGTERM and drains as it would in production).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const processes: [string, string][] = [
  ['api', 'api.ts'],
  ['worker', 'worker.ts'],
  ['scheduler', 'scheduler.ts'],
];
const children: ChildProcess[] = [];
let stopping = false;

for (const [name, file] of processes) {
  // Each child in its own process group: Ctrl-C reaches only this script, which then sends one SIGTERM to each,
  // instead of the terminal's SIGINT plus ours counting as the "second signal" that skips the worker's drain.
  const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env, detached: true });
  children.push(child);
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${name.padEnd(9)} | ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${name.padEnd(9)} | exited (${signal ?? code})\n`);
    if (!stopping) stopAll(code ?? 1);
  });
}

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  const exit = () => children.every((child) => child.exitCode !== null || child.signalCode !== null) && process.exit(code);
  for (const child of children) child.on('exit', exit);
  exit();
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
