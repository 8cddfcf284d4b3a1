// The settings the code reads and the ones the documentation names are the same list: every variable lib/config.ts
// reads (and the per-source overrides lib/sources/registry.ts reads) is in .env.example and in the settings table
// of docs/operations.md, the table names nothing else, and every source's own variable is in .env.example and
// docs/sources.md. The names are read from the code itself, so a new setting without its documentation fails here.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

const names = (text: string, re: RegExp) => [...new Set([...text.matchAll(re)].map((match) => match[1]!))].sort();

/** What lib/config.ts reads: its EnvReader calls, and the SOURCE_BASE_URL_<NAME> family it scans for. */
function configSettings(): string[] {
  const text = read('lib/config.ts');
  const direct = names(text, /\bread\.\w+\(\s*'([A-Z][A-Z0-9_]*)'/g);
  const families = names(text, /\^([A-Z][A-Z0-9_]*_)\(\[A-Z0-9_\]\+\)\$/g).map((prefix) => `${prefix}<NAME>`);
  return [...direct, ...families].sort();
}

/** The families lib/sources/registry.ts reads for every source: `${...}` templates such as RATE_LIMIT_${...}. */
function registryFamilies(): string[] {
  return names(read('lib/sources/registry.ts'), /`([A-Z][A-Z0-9_]*_)\$\{/g).map((prefix) => `${prefix}<NAME>`);
}

/** What each source reads of its own: its declared settings and its EnvReader calls. */
function sourceSettings(): string[] {
  const files = readdirSync(join(ROOT, 'lib/sources')).filter((name) => name.endsWith('.ts') && name !== 'registry.ts' && name !== 'types.ts');
  return [...new Set(files.flatMap((file) => {
    const text = read(`lib/sources/${file}`);
    return [...names(text, /\bname: '([A-Z][A-Z0-9_]*)'/g), ...names(text, /\benv\.\w+\(\s*'([A-Z][A-Z0-9_]*)'/g)];
  }))].sort();
}

/** The variable names in the first column of the table under `## <heading>` ("`A`, `B`" rows name two). */
function tableNames(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  assert.ok(rows.length > 0, `no table under "## ${heading}"`);
  return rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*(?:<NAME>)?)`/g)].map((match) => match[1]!)).sort();
}

/** Every NAME= line of .env.example, set or commented out. */
function envExampleNames(): string[] {
  return names(read('.env.example'), /^#?\s?([A-Z][A-Z0-9_]*)=/gm);
}

/** A family is in .env.example when one of its members is (SOURCE_BASE_URL_TRUSTPILOT for SOURCE_BASE_URL_<NAME>). */
function inEnvExample(name: string, present: string[]): boolean {
  return name.endsWith('<NAME>') ? present.some((other) => other.startsWith(name.slice(0, -'<NAME>'.length))) : present.includes(name);
}

describe('the settings and their documentation', () => {
  const config = configSettings();
  const families = registryFamilies();
  const sources = sourceSettings();

  test('the names are read from the code: config reads DATABASE_URL and WORKER_NICE, the registry RATE_LIMIT_<NAME>, GitHub its token', () => {
    for (const name of ['DATABASE_URL', 'WORKER_NICE', 'SOURCE_BASE_URL_<NAME>']) assert.ok(config.includes(name), name);
    for (const name of ['RATE_LIMIT_<NAME>', 'MAX_BODY_BYTES_<NAME>']) assert.ok(families.includes(name), name);
    assert.ok(sources.includes('GITHUB_TOKEN'));
    assert.ok(config.length >= 40, `only ${config.length} settings found in lib/config.ts`);
  });

  test('every setting lib/config.ts and the registry read is in .env.example', () => {
    const present = envExampleNames();
    assert.deepEqual([...config, ...families].filter((name) => !inEnvExample(name, present)), []);
  });

  test('the settings table of docs/operations.md names exactly what lib/config.ts and the registry read', () => {
    const documented = tableNames(read('docs/operations.md'), 'Settings');
    const read_ = [...config, ...families].sort();
    assert.deepEqual(read_.filter((name) => !documented.includes(name)), [], 'read but not in the table');
    assert.deepEqual(documented.filter((name) => !read_.includes(name)), [], 'in the table but read by nobody');
  });

  test("every source's own setting is in .env.example and in docs/sources.md", () => {
    const present = envExampleNames();
    const sourcesDoc = read('docs/sources.md');
    assert.deepEqual(sources.filter((name) => !present.includes(name)), [], 'missing from .env.example');
    assert.deepEqual(sources.filter((name) => !sourcesDoc.includes(`\`${name}\``)), [], 'missing from docs/sources.md');
  });

  test('every variable of .env.example is read by the app, or is one of the stack settings docs/operations.md lists', () => {
    const stack = tableNames(read('docs/operations.md'), 'Deployment');
    const known = (name: string) =>
      config.includes(name) || sources.includes(name) || stack.includes(name) || [...config, ...families].some((family) => family.endsWith('<NAME>') && name.startsWith(family.slice(0, -'<NAME>'.length)));
    assert.deepEqual(envExampleNames().filter((name) => !known(name)), []);
  });
});
