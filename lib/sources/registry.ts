import { readdirSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, EnvReader } from '../config.ts';
import type { Source, SourceModule } from './types.ts';

export interface SourceRegistry {
  get(name: string): Source | undefined;
  names(): string[];
  all(): Source[];
  /** The upstream origin for a source: SOURCE_BASE_URL_<NAME> when set, else the source's default. */
  baseUrl(name: string): string;
}

const SOURCES_DIR = new URL('./', import.meta.url);
const NOT_SOURCES = new Set(['types', 'registry']);

/** Every lib/sources/<name>.ts except this file and the types: adding a source is adding a file. */
export function sourceFileNames(): string[] {
  return readdirSync(fileURLToPath(SOURCES_DIR))
    .filter((file) => /^[a-z0-9-]+\.(?:ts|js)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => basename(file, extname(file)))
    .filter((name) => !NOT_SOURCES.has(name))
    .sort();
}

export async function loadSourceRegistry(config: Pick<Config, 'sourceBaseUrls' | 'env'>): Promise<SourceRegistry> {
  const env = new EnvReader(config.env);
  const sources = new Map<string, Source>();
  for (const name of sourceFileNames()) {
    const module = (await import(new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, SOURCES_DIR).href)) as Partial<SourceModule>;
    if (typeof module.createSource !== 'function') throw new Error(`lib/sources/${name} does not export createSource()`);
    const source = module.createSource({ env });
    if (source.name !== name) throw new Error(`lib/sources/${name} creates a source named "${source.name}"; the file name is the source name`);
    sources.set(name, source);
  }
  return {
    get: (name) => sources.get(name),
    names: () => [...sources.keys()],
    all: () => [...sources.values()],
    baseUrl: (name) => config.sourceBaseUrls[name] ?? sources.get(name)?.defaultBaseUrl ?? '',
  };
}
