// How much each word of a text counts, before knowing what the word means: the VADER rules (Hutto & Gilbert,
// ICWSM 2014), made multiplicative so that the same pass serves scoring and fitting. A word after a negator
// counts -0.74 times ("not good" is mildly bad, "not bad" mildly good); after a booster 1 + boost times; in
// capitals among lower case 1.4 times; before "but" in its sentence half, after it 1.5 times.
import type { CompiledRules } from './rules.ts';
import { CLAUSE_MARKS, SENTENCE_MARKS } from './tokenize.ts';

export const NEGATION = -0.74;
export const SHOUTED = 1.4;
export const BEFORE_CONTRAST = 0.5;
export const AFTER_CONTRAST = 1.5;
/** A negator reaches this many words ahead, as far as the end of its clause. */
const NEGATION_REACH = 3;
/** A booster strengthens this many words ahead ("very well made"). */
const BOOST_REACH = 2;

// By character code, as every token is asked.
const SENTENCE_END = 1;
const CLAUSE_END = 2;
const MARK_KINDS = new Uint8Array(128);
for (const mark of SENTENCE_MARKS) MARK_KINDS[mark.charCodeAt(0)] = SENTENCE_END;
for (const mark of CLAUSE_MARKS) MARK_KINDS[mark.charCodeAt(0)] = CLAUSE_END;
const NUMBER = /^\d+$/;

export interface Weighed {
  /** Dictionary keys: words, phrases, emoji and emoticons, in the order they came. */
  keys: string[];
  /** How much each key counts in its context. */
  weights: number[];
  exclamations: number;
}

export function weigh(tokens: readonly string[], shouted: readonly boolean[], rules: CompiledRules): Weighed {
  const keys: string[] = [];
  const weights: number[] = [];
  const negated: boolean[] = [];
  let exclamations = 0;
  let sentenceStart = 0;
  let clauseStart = 0;
  let negationLeft = 0;
  let boost = 1;
  let boostLeft = 0;
  let contrast = 1;

  const endClause = (previous: string | undefined) => {
    // German puts the negator last: "Ich kann die Firma empfehlen" turns round with a final "nicht".
    if (previous !== undefined && rules.clauseFinalNegators.has(previous)) {
      for (let k = clauseStart; k < keys.length; k++) {
        if (!negated[k]) {
          weights[k]! *= NEGATION;
          negated[k] = true;
        }
      }
    }
    clauseStart = keys.length;
    negationLeft = 0;
    boostLeft = 0;
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const mark = token.length === 1 ? (MARK_KINDS[token.charCodeAt(0)] ?? 0) : 0;
    if (mark !== 0) {
      endClause(tokens[i - 1]);
      if (token === '!') exclamations++;
      if (mark === SENTENCE_END) {
        sentenceStart = keys.length;
        contrast = 1;
      }
      continue;
    }
    // Numbers say nothing by themselves ("3 nodes", "45 minutes"); ratings were made words before this.
    const first = token.charCodeAt(0);
    if (first >= 48 && first <= 57 && NUMBER.test(token)) continue;
    const loud = shouted[i];
    let key = token;
    let role: 'negator' | 'contrast' | 'booster' | 'phrase' | 'word' = 'word';
    let boostOf = 0;
    let negatedAlready = false;
    const grammar = rules.grammar.get(token);
    const candidates = grammar?.phrases;
    if (candidates) {
      for (const multi of candidates) {
        if (matchesAt(tokens, i, multi.words)) {
          key = multi.key;
          role = multi.role;
          boostOf = multi.boost;
          negatedAlready = multi.negatedAlready;
          i += multi.words.length - 1;
          break;
        }
      }
    }
    if (role === 'word') {
      const single = grammar?.role;
      if (single) {
        role = single.role;
        boostOf = single.boost;
      } else if (rules.negatorSuffix !== null && token.endsWith(rules.negatorSuffix)) role = 'negator';
    }
    // Negators, contrasts and boosters are keys too, at weight 1: in reviews "not", "but" and "too" lean
    // negative by themselves, and the fit learns by how much.
    if (role === 'negator') {
      keys.push(key);
      weights.push(1);
      negated.push(true);
      negationLeft = NEGATION_REACH;
      continue;
    }
    if (role === 'contrast') {
      for (let k = sentenceStart; k < keys.length; k++) weights[k]! *= BEFORE_CONTRAST;
      contrast = AFTER_CONTRAST;
      clauseStart = keys.length;
      negationLeft = 0;
      keys.push(key);
      weights.push(1);
      negated.push(true);
      continue;
    }
    if (role === 'booster') {
      keys.push(key);
      weights.push(1);
      negated.push(true);
      boost = boostLeft > 0 ? boost * (1 + boostOf) : 1 + boostOf;
      boostLeft = BOOST_REACH;
      continue;
    }
    let weight = contrast;
    if (negatedAlready) negationLeft = 0;
    const isNegated = negationLeft > 0;
    if (isNegated) {
      weight *= NEGATION;
      negationLeft--;
    }
    if (boostLeft > 0) {
      weight *= boost;
      boostLeft--;
    }
    if (loud) weight *= SHOUTED;
    keys.push(key);
    weights.push(weight);
    negated.push(isNegated);
  }
  endClause(tokens[tokens.length - 1]);
  return { keys, weights, exclamations };
}

function matchesAt(tokens: readonly string[], at: number, words: readonly string[]): boolean {
  if (at + words.length > tokens.length) return false;
  for (let j = 1; j < words.length; j++) if (tokens[at + j] !== words[j]) return false;
  return true;
}
