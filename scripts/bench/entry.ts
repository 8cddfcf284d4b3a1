// How the measured entry files run: dist/ as production runs them (built when stale), or the sources through tsx.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type CommonParams, fail, log } from './params.ts';
import { ROOT } from './paths.ts';

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
