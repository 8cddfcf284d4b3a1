// The result files (bench-results/<part>-<UTC time>.json) and the tables printed beside them.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Machine, finishMachine } from './machine.ts';
import { round } from './stats.ts';

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

export function readJson<T = Record<string, any>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The fields every part's result file opens with: which part, when it ran, for how long, on what. */
export function resultEnvelope(bench: string, started: Date, machine: Machine): { bench: string; started_at: string; finished_at: string; wall_s: number; machine: Machine } {
  const finished = new Date();
  return { bench, started_at: started.toISOString(), finished_at: finished.toISOString(), wall_s: round((finished.getTime() - started.getTime()) / 1000, 1), machine: finishMachine(machine) };
}
