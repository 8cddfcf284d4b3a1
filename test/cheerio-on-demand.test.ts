// cheerio costs a worker several MB, so it loads when HTML is first parsed (lib/scrape/cheerio.ts), not with the
// sources: a worker whose jobs never parse HTML never holds it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../lib/config.ts';
import { htmlToText } from '../lib/scrape/html-text.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';

const LIB = fileURLToPath(new URL('../lib/', import.meta.url));
const cheerioLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes(`${sep}node_modules${sep}cheerio${sep}`));

test('loading every source leaves cheerio unloaded; the first HTML to parse loads it', async () => {
  await loadSourceRegistry(loadConfig({}));
  assert.equal(cheerioLoaded(), false);
  assert.equal(htmlToText('<p>one<br>two</p>'), 'one\ntwo');
  assert.equal(cheerioLoaded(), true);
});

// The check above sees require()'s cache only; an ES import of cheerio anywhere would load it unseen.
test('no module in lib/ imports cheerio other than for its types', () => {
  const files = readdirSync(LIB, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  const importing = files.filter((file) => /^import (?!type )[^;]*from 'cheerio'/m.test(readFileSync(join(LIB, file), 'utf8')));
  assert.deepEqual(importing, []);
});
