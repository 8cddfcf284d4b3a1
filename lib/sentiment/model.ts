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
  /**
   * The valence of every key seen so far (null: none), so a word costs one lookup: seeded with the dictionary and
   * the learned keys, then each other form resolved once (inflections, stretched letters, unknown words).
   */
  known: Map<string, number | null>;
  /** How many keys `known` holds beyond its seed. */
  resolvedCount: number;
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
  const valences = new Map(Object.entries(data.valences));
  const learned = new Map(Object.entries(data.learned));
  return { language: data.language, rules: compileRules(data.rules), bias: data.bias, valences, learned, known: seedOf(valences, learned), resolvedCount: 0 };
}

/** A dictionary key keeps its own valence where a learned key of the same spelling also exists. */
function seedOf(valences: ReadonlyMap<string, number>, learned: ReadonlyMap<string, number>): Map<string, number | null> {
  const seed = new Map<string, number | null>(learned);
  for (const [key, valence] of valences) seed.set(key, valence);
  return seed;
}

/**
 * The valence of a key: its own (a dictionary or a learned key), else that of the shorter dictionary form it is
 * inflected or stretched from ("ineptly", "goooood"); undefined when there is none.
 */
export function valenceOf(model: LanguageModel, key: string): number | undefined {
  let found = model.known.get(key);
  if (found === undefined) {
    found = lookUp(model.valences, key, model.rules) ?? null;
    if (model.resolvedCount >= MAX_RESOLVED) {
      model.known = seedOf(model.valences, model.learned);
      model.resolvedCount = 0;
    }
    model.known.set(key, found);
    model.resolvedCount++;
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
    const valence = valenceOf(model, key);
    if (valence !== undefined) {
      sum += valence * weights[i]!;
      hits++;
    }
  }
  if (hits === 0) return { z: 0, hits };
  const z = (model.bias + sum) * (1 + EXCLAMATION_EMPHASIS * Math.min(exclamations, MAX_EXCLAMATIONS));
  return { z, hits };
}
