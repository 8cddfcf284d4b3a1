// cheerio and the parsers under it take several MB of a worker's memory, and a worker whose jobs never parse HTML
// (Trustpilot pages are read from their embedded JSON) never needs them: they load on first use. require() keeps
// that first use synchronous, so the parsers built on cheerio stay plain functions.
import { createRequire } from 'node:module';
import type * as Cheerio from 'cheerio';

let loaded: typeof Cheerio | undefined;

export function cheerio(): typeof Cheerio {
  loaded ??= createRequire(import.meta.url)('cheerio') as typeof Cheerio;
  return loaded;
}
