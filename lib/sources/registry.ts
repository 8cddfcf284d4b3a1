import type { Config } from '../config.ts';
import { createTrustpilotSource } from './trustpilot.ts';
import type { Source } from './types.ts';

export interface SourceRegistry {
  get(name: string): Source | undefined;
  names(): string[];
  /** The upstream origin for a source: SOURCE_BASE_URL_<NAME> when set, else the source's default. */
  baseUrl(name: string): string;
}

export function createSourceRegistry(config: Pick<Config, 'sourceBaseUrls' | 'trustpilotAliases'>): SourceRegistry {
  const sources = new Map<string, Source>(
    [createTrustpilotSource({ aliases: config.trustpilotAliases })].map((source) => [source.name, source]),
  );
  return {
    get: (name) => sources.get(name),
    names: () => [...sources.keys()].sort(),
    baseUrl: (name) => config.sourceBaseUrls[name] ?? sources.get(name)?.defaultBaseUrl ?? '',
  };
}
