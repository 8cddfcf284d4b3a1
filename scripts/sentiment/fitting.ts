// Fits a language's valences: V(key) = a * prior(key) + delta(key), where the prior is a published or
// hand-written lexicon in VADER units (-4..4) and delta is learned, with an L2 penalty, for keys that occur in
// at least MIN_DOCS training texts. The weighing rules (negation, boosters, "but") stay fixed, so the model
// is a logistic regression over context-weighted words; a word never seen in training keeps its prior.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LabelledText } from './datasets.ts';
import { type LanguageModel, type ModelData, loadModel } from '../../lib/sentiment/model.ts';
import { type CompiledRules, type RulesSource, compileRules, dictionaryWords, lookUp, normalizeTokens } from '../../lib/sentiment/rules.ts';
import { cleanText, tokenize } from '../../lib/sentiment/tokenize.ts';
import { weigh } from '../../lib/sentiment/weigh.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));
export const MIN_DOCS = 3;
export const LAMBDAS = [0.001, 0.003, 0.01];
const EPOCHS = 200;
const LEARNING_RATE = 0.05;

export function readRules(language: string): RulesSource & { words: Record<string, number> } {
  return JSON.parse(readFileSync(`${HERE}rules/${language}.json`, 'utf8'));
}

/** The published lexicon each language starts from, scaled to VADER units, with the hand-written words and phrases over it. */
export function priorValences(language: string, rules: CompiledRules, source: RulesSource & { words: Record<string, number> }): Map<string, number> {
  const prior = new Map<string, number>();
  const put = (entry: string, valence: number) => {
    const key = dictionaryWords(entry, rules).join(' ');
    if (key && valence !== 0) prior.set(key, valence);
    else if (key) prior.delete(key);
  };
  const published: Record<string, [string, number]> = { en: ['en-vader.tsv', 1], fr: ['fr-pattern.tsv', 3] };
  const file = published[language];
  if (file) {
    for (const line of readFileSync(`${HERE}priors/${file[0]}`, 'utf8').split('\n')) {
      const [entry, valence] = line.split('\t');
      if (entry && valence) put(entry, Number(valence) * file[1]);
    }
  }
  for (const [symbol, valence] of Object.entries(JSON.parse(readFileSync(`${HERE}rules/symbols.json`, 'utf8')) as Record<string, number>)) prior.set(symbol, valence);
  for (const [entry, valence] of Object.entries(source.words)) put(entry, valence);
  for (const [entry, valence] of Object.entries(source.phrases)) put(entry, valence);
  return prior;
}

/** A text as the fit sees it: each key once, with its summed weight. */
export interface Doc {
  keys: string[];
  weights: number[];
  y: 0 | 1;
}

/** Also adds to `prior` the inflected forms the texts use ("ineptly" gets the valence of "inept"). */
export function toDocs(rows: readonly LabelledText[], rules: CompiledRules, prior: Map<string, number>): Doc[] {
  return rows.map((row) => {
    const { tokens, shouted } = tokenize(cleanText(row.text));
    const normal = normalizeTokens(tokens, shouted, rules);
    const weighed = weigh(normal.tokens, normal.shouted, rules);
    const summed = new Map<string, number>();
    weighed.keys.forEach((key, i) => {
      summed.set(key, (summed.get(key) ?? 0) + weighed.weights[i]!);
      if (!prior.has(key)) {
        const inherited = lookUp(prior, key, rules);
        if (inherited !== undefined) prior.set(key, inherited);
      }
    });
    return { keys: [...summed.keys()], weights: [...summed.values()], y: row.label === 'positive' ? 1 : 0 };
  });
}

export interface Fitted {
  scale: number;
  bias: number;
  delta: Map<string, number>;
  lambda: number;
}

/** Full-batch Adam on the mean logistic loss plus lambda/2 * sum(delta^2). */
export function fit(docs: readonly Doc[], prior: ReadonlyMap<string, number>, lambda: number): Fitted {
  const docFrequency = new Map<string, number>();
  for (const doc of docs) for (const key of doc.keys) docFrequency.set(key, (docFrequency.get(key) ?? 0) + 1);
  const trainable = [...docFrequency].filter(([, n]) => n >= MIN_DOCS).map(([key]) => key);
  const index = new Map(trainable.map((key, i) => [key, i]));
  // Flat arrays: the loop below runs EPOCHS times over every (text, key) pair.
  const starts = new Int32Array(docs.length + 1);
  const priorSums = new Float64Array(docs.length);
  const labels = new Float64Array(docs.length);
  const features: number[] = [];
  const values: number[] = [];
  docs.forEach((doc, d) => {
    let priorSum = 0;
    doc.keys.forEach((key, i) => {
      priorSum += (prior.get(key) ?? 0) * doc.weights[i]!;
      const j = index.get(key);
      if (j !== undefined) {
        features.push(j + 2);
        values.push(doc.weights[i]!);
      }
    });
    priorSums[d] = priorSum;
    labels[d] = doc.y;
    starts[d + 1] = features.length;
  });
  const feature = Int32Array.from(features);
  const value = Float64Array.from(values);
  // Parameters: [scale, bias, ...delta]; Adam moments alongside.
  const n = trainable.length + 2;
  const theta = new Float64Array(n);
  theta[0] = 0.5;
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const grad = new Float64Array(n);
  const count = docs.length;
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    grad.fill(0);
    for (let d = 0; d < count; d++) {
      let z = theta[1]! + theta[0]! * priorSums[d]!;
      const end = starts[d + 1]!;
      for (let k = starts[d]!; k < end; k++) z += theta[feature[k]!]! * value[k]!;
      const error = (1 / (1 + Math.exp(-z)) - labels[d]!) / count;
      grad[0]! += error * priorSums[d]!;
      grad[1]! += error;
      for (let k = starts[d]!; k < end; k++) grad[feature[k]!]! += error * value[k]!;
    }
    for (let j = 2; j < n; j++) grad[j]! += lambda * theta[j]!;
    const mCorrection = 1 - 0.9 ** epoch;
    const vCorrection = 1 - 0.999 ** epoch;
    for (let j = 0; j < n; j++) {
      const g = grad[j]!;
      m[j] = 0.9 * m[j]! + 0.1 * g;
      v[j] = 0.999 * v[j]! + 0.001 * g * g;
      theta[j]! -= (LEARNING_RATE * (m[j]! / mCorrection)) / (Math.sqrt(v[j]! / vCorrection) + 1e-8);
    }
  }
  return { scale: theta[0]!, bias: theta[1]!, delta: new Map(trainable.map((key, i) => [key, theta[i + 2]!])), lambda };
}

/** The lambda with the best accuracy over `folds` folds of the training texts alone. */
export function chooseLambda(docs: readonly Doc[], prior: ReadonlyMap<string, number>, folds = 3): number {
  let best = { lambda: LAMBDAS[0]!, accuracy: -1 };
  for (const lambda of LAMBDAS) {
    let right = 0;
    for (const [train, test] of kFolds(docs, folds)) {
      const fitted = fit(train, prior, lambda);
      for (const doc of test) if (logit(fitted, prior, doc) > 0 === (doc.y === 1)) right++;
    }
    if (right > best.accuracy) best = { lambda, accuracy: right };
  }
  return best.lambda;
}

function logit(fitted: Fitted, prior: ReadonlyMap<string, number>, doc: Doc): number {
  let z = fitted.bias;
  doc.keys.forEach((key, i) => (z += (fitted.scale * (prior.get(key) ?? 0) + (fitted.delta.get(key) ?? 0)) * doc.weights[i]!));
  return z;
}

/** Deterministic folds: every k-th text, so the folds do not depend on a random seed. */
export function kFolds<T>(items: readonly T[], k: number): [T[], T[]][] {
  return Array.from({ length: k }, (_, fold) => [items.filter((_, i) => i % k !== fold), items.filter((_, i) => i % k === fold)]);
}

export function toModelData(language: string, source: RulesSource & { words?: Record<string, number> }, prior: ReadonlyMap<string, number>, fitted: Fitted, about: string): ModelData {
  const valences: Record<string, number> = {};
  const learned: Record<string, number> = {};
  for (const key of new Set([...prior.keys(), ...fitted.delta.keys()])) {
    const value = Math.round((fitted.scale * (prior.get(key) ?? 0) + (fitted.delta.get(key) ?? 0)) * 1000) / 1000;
    // A dictionary word keeps its entry even at 0: the text still said something the model knows.
    if (prior.has(key)) valences[key] = value;
    else if (Math.abs(value) >= 0.005) learned[key] = value;
  }
  const { words: _words, ...rules } = source;
  return { language, about, rules, bias: Math.round(fitted.bias * 1000) / 1000, valences, learned };
}

/** A model fitted on `rows` (lambda chosen by cross-validation inside them), ready to score. */
export function fitLanguage(language: string, rows: readonly LabelledText[]): { model: LanguageModel; data: ModelData; fitted: Fitted; prior: Map<string, number> } {
  const source = readRules(language);
  const rules = compileRules(source);
  const prior = priorValences(language, rules, source);
  const docs = toDocs(rows, rules, prior);
  const fitted = fit(docs, prior, chooseLambda(docs, prior));
  const data = toModelData(language, source, prior, fitted, '');
  return { model: loadModel(data), data, fitted, prior };
}

/** The prior lexicon alone, scaled by one fitted number and no learned words: the rules-only baseline. */
export function priorOnlyModel(language: string, scale: number): LanguageModel {
  const source = readRules(language);
  const rules = compileRules(source);
  const prior = priorValences(language, rules, source);
  return loadModel(toModelData(language, source, prior, { scale, bias: 0, delta: new Map(), lambda: 0 }, ''));
}
