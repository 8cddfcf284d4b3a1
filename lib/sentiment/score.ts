// The sentiment of a post. A star rating is the author's own judgement and decides the label; the text is
// still scored and stored beside it, so a backfill can compare the two. A post in a language without a model
// gets no label at all rather than a guess from the wrong dictionary.
import { detectLanguageOfTokens } from './detect-language.ts';
import { type LanguageModel, scoreTokens } from './model.ts';
import { MODELS } from './models.ts';
import { cleanText, tokenize } from './tokenize.ts';

/**
 * Bumped whenever a change can move a score (valences, rules, thresholds). Every method carries it
 * ("lexicon-v1", "unsupported-language-v1:ja"), so once this says v2 a backfill finds the posts an older scorer
 * judged with `method NOT LIKE '%-v2%'`.
 */
export const SENTIMENT_VERSION = 'v1';

export type SentimentLabel = 'negative' | 'neutral' | 'positive';

export interface SentimentInput {
  text: string;
  title?: string | null;
  /** The language the source declares ("en", "fr-FR"); detected from the text when missing. */
  language?: string | null;
  /** A star rating the author gave (Trustpilot, app stores). Never a vote count: points and reactions are not stars. */
  stars?: number | null;
  /** The top of the star scale; 5 unless the source says otherwise. */
  starScale?: number;
}

export interface Sentiment {
  /** -1..1 from the text (P(positive) - P(negative) of the model), null when the language has no model. */
  score: number | null;
  label: SentimentLabel | null;
  /**
   * How it was decided: `lexicon-v1` (the text), `rating+lexicon-v1` (the stars; score from the text),
   * `rating-v1` (the stars; the text could not be scored), `unsupported-language-v1:<code>`,
   * `undetermined-language-v1` (too few words to tell the language). A text of emoji or emoticons alone is
   * scored (`lexicon-v1`) with language null.
   */
  method: string;
  /** The language the text was judged in, null when it could not be told. */
  language: string | null;
}

/** Scores closer to 0 than this are neutral: the model is less than 52.5% sure either way. Narrow, because
 * in reviews a weak lean is still usually the right one; a text with no known word at all scores 0. */
export const NEUTRAL_BAND = 0.05;

/** Emoji and emoticons mean the same in every language; every model has the same valences for them. */
const SYMBOLS_MODEL = MODELS.get('en')!;

export function scoreSentiment(input: SentimentInput): Sentiment {
  const text = input.title ? `${input.title}.\n${input.text}` : input.text;
  const { tokens, shouted, wordCount } = tokenize(cleanText(text));
  const declared = normalizeLanguage(input.language);
  const language = declared ?? (wordCount > 0 ? detectLanguageOfTokens(tokens, text).language : null);
  const fromStars = starLabel(input.stars, input.starScale ?? 5);

  let textScore: { score: number; label: SentimentLabel } | null = null;
  let why: string;
  const model = language === null ? (wordCount === 0 ? SYMBOLS_MODEL : undefined) : MODELS.get(language);
  if (model) {
    textScore = scoreWithModel(model, tokens, shouted);
    why = `lexicon-${SENTIMENT_VERSION}`;
  } else if (language === null) {
    why = `undetermined-language-${SENTIMENT_VERSION}`;
  } else {
    why = `unsupported-language-${SENTIMENT_VERSION}:${language}`;
  }

  if (fromStars) {
    return textScore
      ? { score: textScore.score, label: fromStars, method: `rating+lexicon-${SENTIMENT_VERSION}`, language }
      : { score: null, label: fromStars, method: `rating-${SENTIMENT_VERSION}`, language };
  }
  if (textScore) return { score: textScore.score, label: textScore.label, method: why, language };
  return { score: null, label: null, method: why, language };
}

/** One language model's judgement of tokenized text. */
export function scoreWithModel(model: LanguageModel, tokens: readonly string[], shouted: readonly boolean[]): { score: number; label: SentimentLabel } {
  const { z } = scoreTokens(model, tokens, shouted);
  const score = Math.round(Math.tanh(z / 2) * 1000) / 1000;
  return { score, label: labelFor(score) };
}

export function labelFor(score: number): SentimentLabel {
  return score >= NEUTRAL_BAND ? 'positive' : score <= -NEUTRAL_BAND ? 'negative' : 'neutral';
}

/** 1-2 of 5 negative, 3 neutral, 4-5 positive; other scales by the same fifths. */
export function starLabel(stars: number | null | undefined, scale: number): SentimentLabel | null {
  if (stars === null || stars === undefined || !Number.isFinite(stars) || !(scale > 0) || stars < 0 || stars > scale) return null;
  const onFive = (stars / scale) * 5;
  return onFive < 2.5 ? 'negative' : onFive < 3.5 ? 'neutral' : 'positive';
}

/** "fr-FR", "FR", "fr_CA" -> "fr"; "" and "und" -> null. */
export function normalizeLanguage(language: string | null | undefined): string | null {
  const code = language?.trim().toLowerCase().split(/[-_]/)[0];
  return code && code !== 'und' && code !== 'xx' ? code : null;
}
