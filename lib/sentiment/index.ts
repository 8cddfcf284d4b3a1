// Sentiment of a post's text, offline and at ingest speed: per-language dictionaries with VADER-style rules,
// fitted on labelled reviews (docs/sentiment.md). Imports nothing else of ours.
export { type DetectedLanguage, detectLanguage } from './detect-language.ts';
export {
  NEUTRAL_BAND,
  SENTIMENT_VERSION,
  type Sentiment,
  type SentimentInput,
  type SentimentLabel,
  normalizeLanguage,
  scoreSentiment,
  starLabel,
} from './score.ts';
export { SUPPORTED_LANGUAGES } from './models.ts';
