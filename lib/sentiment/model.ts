// One language's scorer: its rules and the valence of each dictionary key, as fitted by
// scripts/sentiment/fit.ts. The text score is a logistic model over the weighed words, so tanh(z / 2) is
// P(positive) - P(negative) as measured on the texts it was fitted on.
import { type CompiledRules, type RulesSource, compileRules, lookUp, normalizeTokens } from './rules.ts';
import { weigh } from './weigh.ts';

/** What lib/sentiment/data/<language>.json holds. */
export interface ModelData {
  language: string;
  /** How the valences were made, for the doc and for a reader of the file. */
  about: string;
  rules: RulesSource;
  bias: number;
  /** Words, phrases and symbols of the dictionaries (spelled as normalizeTokens spells them) to valence, in logit units. */
  valences: Record<string, number>;
  /**
   * Keys in no dictionary that got a valence from the fit ("returned", "refund"). Kept apart because the
   * dictionaries' inflected forms are looked up through suffixes and these are not.
   */
  learned: Record<string, number>;
}

export interface LanguageModel {
  language: string;
  rules: CompiledRules;
  bias: number;
  valences: Map<string, number>;
  learned: Map<string, number>;
  /** What lookUp found for keys the dictionary lacks (null: nothing), so each inflected form is resolved once. */
  resolved: Map<string, number | null>;
}

/** Enough for the vocabulary of a busy source; past it the cache starts afresh rather than grow without end. */
const MAX_RESOLVED = 100_000;

export interface TextScore {
  /** The logit: above 0 leans positive. */
  z: number;
  /** How many keys of the text have a valence; 0 means the text says nothing the model knows. */
  hits: number;
}

/** Exclamation marks make a text more intense, not more positive: they scale what is there (VADER adds 0.292 each, up to 4). */
const EXCLAMATION_EMPHASIS = 0.1;
const MAX_EXCLAMATIONS = 4;

export function loadModel(data: ModelData): LanguageModel {
  return {
    language: data.language,
    rules: compileRules(data.rules),
    bias: data.bias,
    valences: new Map(Object.entries(data.valences)),
    learned: new Map(Object.entries(data.learned)),
    resolved: new Map(),
  };
}

/** The dictionary valence of a key, inflected and stretched forms included (not the learned keys). */
export function dictionaryValence(model: LanguageModel, key: string): number | undefined {
  const direct = model.valences.get(key);
  if (direct !== undefined) return direct;
  let found = model.resolved.get(key);
  if (found === undefined) {
    found = lookUp(model.valences, key, model.rules) ?? null;
    if (model.resolved.size >= MAX_RESOLVED) model.resolved.clear();
    model.resolved.set(key, found);
  }
  return found ?? undefined;
}

export function scoreTokens(model: LanguageModel, tokens: readonly string[], shouted: readonly boolean[]): TextScore {
  const normal = normalizeTokens(tokens, shouted, model.rules);
  const { keys, weights, exclamations } = weigh(normal.tokens, normal.shouted, model.rules);
  let sum = 0;
  let hits = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // A learned key is its own form: it is looked up before the dictionary's inflected forms are tried.
    const valence = model.valences.get(key) ?? model.learned.get(key) ?? dictionaryValence(model, key);
    if (valence !== undefined) {
      sum += valence * weights[i]!;
      hits++;
    }
  }
  if (hits === 0) return { z: 0, hits };
  const z = (model.bias + sum) * (1 + EXCLAMATION_EMPHASIS * Math.min(exclamations, MAX_EXCLAMATIONS));
  return { z, hits };
}
