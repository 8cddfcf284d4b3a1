// The options every part takes, parsed once; a bad value stops the part with one line naming the option.
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ROOT } from './paths.ts';

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
