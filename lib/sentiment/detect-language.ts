// Which language a post is written in, from its most frequent words: function words ("the", "est", "nicht",
// "muy") are many in any sentence of two lines and differ between languages, while letters alone do not
// separate French from English. Italian, Portuguese and Dutch are recognised too, only so that they are
// reported as themselves (unsupported) instead of as the nearest supported language.
import languageWords from './data/language-words.json' with { type: 'json' };
import { valenceOf } from './model.ts';
import { MODELS } from './models.ts';
import { normalizeTokens } from './rules.ts';
import { cleanText, tokenize } from './tokenize.ts';

export interface DetectedLanguage {
  /** ISO 639-1 code, 'und' for a script or language this module cannot name, null when there are too few words to tell. */
  language: string | null;
  /** From 0 (a guess) to 1 (every clue agrees). */
  confidence: number;
}

const LANGUAGES = Object.keys(languageWords);

/**
 * The languages each word belongs to (their indexes in LANGUAGES); a word two languages share counts half for each.
 * A word of one language, most of them, is its index alone: the loop over every token of a post stays flat.
 */
const WORD_OWNERS: Map<string, number | readonly number[]> = (() => {
  const owners = new Map<string, number[]>();
  LANGUAGES.forEach((language, index) => {
    for (const word of new Set((languageWords as Record<string, string>)[language]!.split(' '))) {
      owners.set(word, [...(owners.get(word) ?? []), index]);
    }
  });
  return new Map([...owners].map(([word, indexes]) => [word, indexes.length === 1 ? indexes[0]! : indexes]));
})();

// Letters that only some languages use, as extra evidence for short texts: each group counts at most 3 times.
const LETTER_GROUPS: [string, string, number][] = [
  ['ñ¿¡', 'es', 2],
  ['ß', 'de', 2],
  ['äöü', 'de', 0.5],
  ['çèêëœùû', 'fr', 0.5],
  ['ãõ', 'pt', 2],
];
const LETTER_GROUP_OF: Map<string, number> = new Map(LETTER_GROUPS.flatMap(([letters], group) => [...letters].map((c) => [c, group] as [string, number])));
const MAX_CLUES_PER_GROUP = 3;

// Scripts that name their language, or that this module does not tell apart ('und').
const SCRIPTS: [RegExp, string][] = [
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'ja'],
  [/\p{Script=Hangul}/u, 'ko'],
  [/\p{Script=Han}/u, 'zh'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Thai}/u, 'th'],
  [/[\p{Script=Cyrillic}\p{Script=Arabic}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Tamil}\p{Script=Georgian}\p{Script=Armenian}]/u, 'und'],
];
const LATIN_LETTER = /\p{Script=Latin}/gu;
const OTHER_LETTER = /[^\P{L}\p{Script=Latin}]/gu;
/** Below U+0250 every letter is Latin: most posts never need the letters counted by script. */
const BEYOND_LATIN = /[^\u0000-\u024f]/;

export function detectLanguage(text: string): DetectedLanguage {
  return detectLanguageOfTokens(tokenize(cleanText(text)).tokens, text);
}

/**
 * The same, for a text already cut into tokens (the scorer has them). `useVocabulary: false` leaves out the
 * fallback to the sentiment dictionaries, for measuring the function words alone.
 */
export function detectLanguageOfTokens(tokens: readonly string[], text: string, useVocabulary = true): DetectedLanguage {
  const beyondLatin = BEYOND_LATIN.test(text);
  const other = beyondLatin ? (text.match(OTHER_LETTER)?.length ?? 0) : 0;
  const latin = other > 0 ? (text.match(LATIN_LETTER)?.length ?? 0) : 0;
  // Japanese and Chinese posts quote product names in Latin letters, so a third of the letters is enough.
  if (other > 0 && other * 2 >= latin) {
    // Japanese mixes kana into Han characters, so kana decides before Han does.
    for (const [script, language] of SCRIPTS) if (script.test(text)) return { language, confidence: other / (other + latin) };
    return { language: 'und', confidence: other / (other + latin) };
  }
  const scores = new Array<number>(LANGUAGES.length).fill(0);
  // The first few hundred words settle it; a long post need not be read to the end.
  const end = Math.min(tokens.length, MAX_TOKENS_READ);
  for (let i = 0; i < end; i++) {
    const owners = WORD_OWNERS.get(tokens[i]!);
    if (owners === undefined) continue;
    if (typeof owners === 'number') scores[owners]! += 1;
    else for (let j = 0; j < owners.length; j++) scores[owners[j]!]! += 1 / owners.length;
  }
  let { best, top, runnerUp } = ranking(scores);
  // Letters only help where the function words are few or split between languages.
  if ((top < CLEAR_EVIDENCE || runnerUp * 2 > top) && (beyondLatin || NON_ASCII.test(text))) {
    addLetterClues(text, scores);
    ({ best, top, runnerUp } = ranking(scores));
  }
  // One function word proves little ("a", "die" and "me" are words in several languages).
  if (top < 1 || top === runnerUp) return useVocabulary ? byVocabulary(tokens) : { language: null, confidence: 0 };
  const margin = (top - runnerUp) / top;
  const evidence = Math.min(1, top / CLEAR_EVIDENCE);
  return { language: LANGUAGES[best]!, confidence: Math.round(margin * evidence * 100) / 100 };
}

const MAX_TOKENS_READ = 300;
/** Four function words of one language and few of another: confidence 1. */
const CLEAR_EVIDENCE = 4;

function ranking(scores: readonly number[]): { best: number; top: number; runnerUp: number } {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  let runnerUp = 0;
  for (let i = 0; i < scores.length; i++) if (i !== best && scores[i]! > runnerUp) runnerUp = scores[i]!;
  return { best, top: scores[best]!, runnerUp };
}

const NON_ASCII = /[^\x00-\x7f]/;

function addLetterClues(text: string, scores: number[]): void {
  const counts = new Array<number>(LETTER_GROUPS.length).fill(0);
  for (const char of text.toLowerCase()) {
    const group = LETTER_GROUP_OF.get(char);
    if (group !== undefined) counts[group]!++;
  }
  counts.forEach((count, group) => {
    const [, language, weight] = LETTER_GROUPS[group]!;
    if (count) scores[LANGUAGES.indexOf(language)]! += weight * Math.min(count, MAX_CLUES_PER_GROUP);
  });
}

/** Confidence of a language told by its sentiment words alone ("Worthless product."): a weak clue. */
const VOCABULARY_CONFIDENCE = 0.2;

/**
 * For texts too short for function words: the supported language whose dictionary knows the most of the
 * words, when exactly one knows the most.
 */
function byVocabulary(tokens: readonly string[]): DetectedLanguage {
  let best: string | null = null;
  let bestHits = 0;
  let tie = false;
  for (const [language, model] of MODELS) {
    let hits = 0;
    for (const token of normalizeTokens(tokens, null, model.rules).tokens) if (token.length > 1 && valenceOf(model, token) !== undefined) hits++;
    if (hits > bestHits) {
      best = language;
      bestHits = hits;
      tie = false;
    } else if (hits === bestHits && hits > 0) tie = true;
  }
  return best === null || tie ? { language: null, confidence: 0 } : { language: best, confidence: VOCABULARY_CONFIDENCE };
}
