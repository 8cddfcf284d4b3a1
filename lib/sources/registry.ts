import { readdirSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, ConfigError, EnvReader } from '../config.ts';
import type { RateLimit } from '../model/rate-limit.ts';
import { StartupError } from '../startup-error.ts';
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

/** RATE_LIMIT_<NAME>="requests/seconds[/concurrency]" replaces a source's published limit (a paid tier, a test). */
function rateLimitOverride(env: EnvReader, name: string): RateLimit | null {
  const variable = `RATE_LIMIT_${name.toUpperCase().replaceAll('-', '_')}`;
  const value = env.optional(variable);
  if (value === null) return null;
  const match = /^(\d+)\/(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(value);
  if (!match || Number(match[1]) < 1 || Number(match[2]) <= 0) {
    throw new ConfigError(`${variable} must look like "requests/seconds" or "requests/seconds/concurrency", e.g. "30/60/2"; got "${value}"`);
  }
  return { requests: Number(match[1]), perMs: Number(match[2]) * 1000, concurrency: Number(match[3] ?? 1) };
}

export async function loadSourceRegistry(config: Pick<Config, 'sourceBaseUrls' | 'env'>): Promise<SourceRegistry> {
  const env = new EnvReader(config.env);
  const sources = new Map<string, Source>();
  for (const name of sourceFileNames()) {
    const file = `lib/sources/${name}${extname(fileURLToPath(import.meta.url))}`;
    const module = (await import(new URL(`./${name}${extname(fileURLToPath(import.meta.url))}`, SOURCES_DIR).href).catch((error: Error) => {
      throw new StartupError(`${file} failed to load: ${error.message}`);
    })) as Partial<SourceModule>;
    if (typeof module.createSource !== 'function') throw new StartupError(`${file} does not export createSource()`);
    const source = module.createSource({ env });
    if (source.name !== name) throw new StartupError(`${file} creates a source named "${source.name}"; the file name is the source name`);
    const maxBodyBytes = env.integer(`MAX_BODY_BYTES_${name.toUpperCase().replaceAll('-', '_')}`, source.maxBodyBytes ?? 0, 0, 1024 * 1024 * 1024) || undefined;
    sources.set(name, { ...source, rateLimit: rateLimitOverride(env, name) ?? source.rateLimit, maxBodyBytes });
  }
  return {
    get: (name) => sources.get(name),
    names: () => [...sources.keys()],
    all: () => [...sources.values()],
    baseUrl: (name) => config.sourceBaseUrls[name] ?? sources.get(name)?.defaultBaseUrl ?? '',
  };
}
