// Writes lib/sentiment/data/<language>.json: English fitted on the UCI Amazon and IMDB sentences, French on
// the Allociné reviews, German and Spanish from their hand-written dictionaries alone (no labelled text to fit
// on), at the mean scale English and French were fitted to. Deterministic: the same inputs give the same files.
//   npx tsx scripts/sentiment/fit.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readAllocine, readUci } from './datasets.ts';
import { fitLanguage, priorValences, readRules, toModelData } from './fitting.ts';
import { compileRules } from '../../lib/sentiment/rules.ts';

const DATA = fileURLToPath(new URL('../../lib/sentiment/data/', import.meta.url));

// One valence a line, so that a refit shows in a diff as the words whose valence moved.
const format = (data: Record<string, unknown>): string =>
  `{\n${Object.entries(data)
    .map(([key, value]) =>
      value !== null && typeof value === 'object' && (key === 'valences' || key === 'learned')
        ? `${JSON.stringify(key)}: {\n${Object.entries(value).map(([word, v]) => `${JSON.stringify(word)}: ${v}`).join(',\n')}\n}`
        : `${JSON.stringify(key)}: ${JSON.stringify(value)}`,
    )
    .join(',\n')}\n}\n`;

const write = (language: string, data: object) => {
  writeFileSync(`${DATA}${language}.json`, format(data as Record<string, unknown>));
  process.stdout.write(`wrote lib/sentiment/data/${language}.json\n`);
};

const english = fitLanguage('en', [...readUci('amazon_cells_labelled.txt'), ...readUci('imdb_labelled.txt')]);
write('en', { ...english.data, about: `VADER lexicon (MIT) and hand-written rules, fitted on 2,000 UCI Amazon and IMDB sentences (scale ${english.fitted.scale.toFixed(3)}, lambda ${english.fitted.lambda})` });
const french = fitLanguage('fr', readAllocine());
write('fr', { ...french.data, about: `Pattern French adjectives (PDDL) and hand-written words and rules, fitted on 391 Allociné reviews (scale ${french.fitted.scale.toFixed(3)}, lambda ${french.fitted.lambda})` });

const scale = (english.fitted.scale + french.fitted.scale) / 2;
for (const language of ['de', 'es']) {
  const source = readRules(language);
  const prior = priorValences(language, compileRules(source), source);
  write(language, toModelData(language, source, prior, { scale, bias: 0, delta: new Map(), lambda: 0 }, `hand-written words and rules, not fitted (no labelled text), at scale ${scale.toFixed(3)} (the mean of English and French)`));
}
