// Which language a post is written in, from its most frequent words: function words ("the", "est", "nicht",
// "muy") are many in any sentence of two lines and differ between languages, while letters alone do not
// separate French from English. Italian, Portuguese and Dutch are recognised too, only so that they are
// reported as themselves (unsupported) instead of as the nearest supported language.
import languageWords from './data/language-words.json' with { type: 'json' };
import { MODELS } from './models.ts';
import { lookUp, normalizeTokens } from './rules.ts';
import { cleanText, tokenize } from './tokenize.ts';

export interface DetectedLanguage {
  /** ISO 639-1 code, 'und' for a script or language this module cannot name, null when there are too few words to tell. */
  language: string | null;
  /** From 0 (a guess) to 1 (every clue agrees). */
  confidence: number;
}

const LANGUAGES = Object.keys(languageWords);

/** Each word's weight for each language it belongs to: a word two languages share counts half for each. */
const WORD_WEIGHTS: Map<string, [number, number][]> = (() => {
  const owners = new Map<string, number[]>();
  LANGUAGES.forEach((language, index) => {
    for (const word of new Set((languageWords as Record<string, string>)[language]!.split(' '))) {
      owners.set(word, [...(owners.get(word) ?? []), index]);
    }
  });
  return new Map([...owners].map(([word, indexes]) => [word, indexes.map((index) => [index, 1 / indexes.length] as [number, number])]));
})();

// Letters that only some languages use, as extra evidence for short texts.
const LETTER_CLUES: [RegExp, string, number][] = [
  [/[ñ¿¡]/g, 'es', 2],
  [/[ß]/g, 'de', 2],
  [/[äöü]/g, 'de', 0.5],
  [/[çèêëœùû]/g, 'fr', 0.5],
  [/[ãõ]/g, 'pt', 2],
];

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

export function detectLanguage(text: string): DetectedLanguage {
  return detectLanguageOfTokens(tokenize(cleanText(text)).tokens, text);
}

/** The same, for a text already cut into tokens (the scorer has them). */
export function detectLanguageOfTokens(tokens: readonly string[], text: string): DetectedLanguage {
  const latin = text.match(LATIN_LETTER)?.length ?? 0;
  const other = text.match(OTHER_LETTER)?.length ?? 0;
  if (other > latin) {
    // Japanese mixes kana into Han characters, so kana decides before Han does.
    for (const [script, language] of SCRIPTS) if (script.test(text)) return { language, confidence: other / (other + latin) };
    return { language: 'und', confidence: other / (other + latin) };
  }
  const scores = new Array<number>(LANGUAGES.length).fill(0);
  for (const token of tokens) {
    const weights = WORD_WEIGHTS.get(token);
    if (weights) for (const [index, weight] of weights) scores[index]! += weight;
  }
  const lower = text.toLowerCase();
  for (const [letters, language, weight] of LETTER_CLUES) {
    const count = lower.match(letters)?.length ?? 0;
    if (count) scores[LANGUAGES.indexOf(language)]! += weight * Math.min(count, 3);
  }
  let best = 0;
  let second = -1;
  for (let i = 1; i < scores.length; i++) {
    if (scores[i]! > scores[best]!) {
      second = best;
      best = i;
    } else if (second < 0 || scores[i]! > scores[second]!) second = i;
  }
  const top = scores[best]!;
  const runnerUp = second >= 0 ? scores[second]! : 0;
  // One function word proves little ("a", "die" and "me" are words in several languages).
  if (top < 1 || top === runnerUp) return byVocabulary(tokens);
  const margin = (top - runnerUp) / top;
  const evidence = Math.min(1, top / 4);
  return { language: LANGUAGES[best]!, confidence: Math.round(margin * evidence * 100) / 100 };
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
    for (const token of normalizeTokens(tokens, null, model.rules).tokens) if (token.length > 1 && lookUp(model.valences, token, model.rules) !== undefined) hits++;
    if (hits > bestHits) {
      best = language;
      bestHits = hits;
      tie = false;
    } else if (hits === bestHits && hits > 0) tie = true;
  }
  return best === null || tie ? { language: null, confidence: 0 } : { language: best, confidence: VOCABULARY_CONFIDENCE };
}
