// A language's grammar of sentiment as the scorer uses it: which words negate, strengthen or weaken the next
// ones, which turn a sentence around ("but"), which phrases mean more than their words, and how its words are
// spelled in the dictionary (accents, elisions). Written by hand per language in scripts/sentiment/rules/ and
// shipped inside lib/sentiment/data/<language>.json next to the fitted valences.
import { tokenize } from './tokenize.ts';

export interface RulesSource {
  negators: string[];
  /** A word ending in this negates like a negator ("n't": isn't, didn't). */
  negatorSuffix: string | null;
  /** Multiplier minus one: 0.3 makes the next word count 1.3 times, -0.4 makes it count 0.6 times. */
  boosters: Record<string, number>;
  contrasts: string[];
  /** Phrases whose meaning is not the sum of their words ("pas terrible", "waste of"), with their valence. */
  phrases: Record<string, number>;
  /** Negators that also turn round the clause they end (German: "Ich empfehle es nicht."). */
  clauseFinalNegators: string[];
  /** Elided articles and pronouns written with an apostrophe ("l'", "qu'"). */
  elisions: string[];
  /** Look words up without accents, because users type "tres genial" as often as "très génial". */
  foldAccents: boolean;
  /** Endings tried off a word the dictionary lacks ("ineptly" -> "inept"), longest first. */
  suffixes: string[];
}

export type Role = 'negator' | 'contrast' | 'booster' | 'phrase';

/** A phrase or multi-word booster or contrast, looked up by its first word. */
export interface MultiWord {
  words: string[];
  key: string;
  role: Role;
  boost: number;
  /** A phrase that holds its own negation ("pas terrible", "no problem") is not negated again by a "ne" before it. */
  negatedAlready: boolean;
}

/** What the rules say of one word: its own role, and the phrases it starts (longest first). */
export interface WordGrammar {
  role: { role: Exclude<Role, 'phrase'>; boost: number } | undefined;
  phrases: MultiWord[] | undefined;
}

export interface CompiledRules {
  negatorSuffix: string | null;
  /** Every word that is a negator, contrast or booster or starts a phrase, so the scorer asks once per word. */
  grammar: Map<string, WordGrammar>;
  clauseFinalNegators: Set<string>;
  elisions: Map<string, string>;
  foldAccents: boolean;
  suffixes: string[];
  /** How each token seen so far is spelled for the dictionary (see normalizeTokens), so each is worked out once. */
  spellings: Map<string, string | readonly [string, string]>;
}

const ELIDED_FULL_FORMS: Record<string, string> = { l: 'le', d: 'de', j: 'je', n: 'ne', qu: 'que', c: 'ce', s: 'se', m: 'me', t: 'te' };
const NON_ASCII = /[^\x00-\x7f]/;
const COMBINING_MARK = /[\u0300-\u036f]/g;

export function foldAccents(word: string): string {
  return NON_ASCII.test(word) ? word.normalize('NFD').replace(COMBINING_MARK, '') : word;
}

export function compileRules(source: RulesSource): CompiledRules {
  const roles = new Map<string, { role: Exclude<Role, 'phrase'>; boost: number }>();
  const multiWords = new Map<string, MultiWord[]>();
  const rules: CompiledRules = {
    negatorSuffix: source.negatorSuffix,
    grammar: new Map(),
    clauseFinalNegators: new Set(),
    elisions: new Map(source.elisions.map((e) => [e, ELIDED_FULL_FORMS[e] ?? e])),
    foldAccents: source.foldAccents,
    suffixes: [...source.suffixes].sort((a, b) => b.length - a.length),
    spellings: new Map(),
  };
  const add = (entry: string, role: Role, boost = 0) => {
    const words = dictionaryWords(entry, rules);
    if (words.length === 1) {
      if (role !== 'phrase') roles.set(words[0]!, { role, boost });
      return;
    }
    const list = multiWords.get(words[0]!) ?? [];
    list.push({ words, key: words.join(' '), role, boost, negatedAlready: false });
    // Longest first, so "de mal en pis" is found before "de mal".
    list.sort((a, b) => b.words.length - a.words.length);
    multiWords.set(words[0]!, list);
  };
  for (const word of source.negators) add(word, 'negator');
  for (const word of source.contrasts) add(word, 'contrast');
  for (const [word, boost] of Object.entries(source.boosters)) add(word, 'booster', boost);
  for (const phrase of Object.keys(source.phrases)) add(phrase, 'phrase');
  for (const word of source.clauseFinalNegators) rules.clauseFinalNegators.add(dictionaryWords(word, rules)[0]!);
  for (const list of multiWords.values()) {
    for (const multi of list) multi.negatedAlready = multi.words.some((word) => roles.get(word)?.role === 'negator' || (rules.negatorSuffix !== null && word.endsWith(rules.negatorSuffix)));
  }
  for (const word of new Set([...roles.keys(), ...multiWords.keys()])) rules.grammar.set(word, { role: roles.get(word), phrases: multiWords.get(word) });
  return rules;
}

/** A dictionary entry (a word or a phrase) spelled the way the scorer sees text. */
export function dictionaryWords(entry: string, rules: CompiledRules): string[] {
  return [...normalizeTokens(tokenize(entry).tokens, null, rules).tokens];
}

/** Tokens spelled as the language's dictionary spells them: elisions split off, accents folded where the language wants. */
export function normalizeTokens(tokens: readonly string[], shouted: readonly boolean[] | null, rules: CompiledRules): { tokens: readonly string[]; shouted: readonly boolean[] } {
  // English and German spell their dictionaries as the text does: the tokens are theirs already.
  if (rules.elisions.size === 0 && !rules.foldAccents) return { tokens, shouted: shouted ?? new Array<boolean>(tokens.length).fill(false) };
  const outTokens: string[] = [];
  const outShouted: boolean[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const spelled = spellingOf(tokens[i]!, rules);
    const loud = shouted?.[i] ?? false;
    if (typeof spelled === 'string') {
      outTokens.push(spelled);
      outShouted.push(loud);
    } else {
      outTokens.push(spelled[0], spelled[1]);
      outShouted.push(loud, loud);
    }
  }
  return { tokens: outTokens, shouted: outShouted };
}

/** Enough for the vocabulary of a busy source; past it the cache starts afresh rather than grow without end. */
const MAX_SPELLINGS = 100_000;

/** A token as the dictionary spells it: one word, or two where an elision splits off ("l'avis" -> "le", "avis"). */
function spellingOf(token: string, rules: CompiledRules): string | readonly [string, string] {
  let spelled = rules.spellings.get(token);
  if (spelled === undefined) {
    spelled = spell(token, rules);
    if (rules.spellings.size >= MAX_SPELLINGS) rules.spellings.clear();
    rules.spellings.set(token, spelled);
  }
  return spelled;
}

function spell(token: string, rules: CompiledRules): string | readonly [string, string] {
  const fold = (word: string) => (rules.foldAccents ? foldAccents(word) : word);
  const apostrophe = rules.elisions.size > 0 ? token.indexOf("'") : -1;
  const elided = apostrophe > 0 ? rules.elisions.get(token.slice(0, apostrophe)) : undefined;
  return elided === undefined ? fold(token) : [elided, fold(token.slice(apostrophe + 1))];
}

/** Shortest stem a suffix may leave: "is" minus "s" is not a word to look up. */
const MIN_STEM = 4;

const ELONGATED = /(\p{L})\1{2,}/gu;
const HAS_ELONGATED = /(\p{L})\1\1/u;

/**
 * The valence of a key, or of the first shorter form of it the dictionary knows: without a suffix, or with
 * letters stretched for emphasis ("goooood") cut back to two and then one.
 */
export function lookUp(valences: ReadonlyMap<string, number>, key: string, rules: CompiledRules): number | undefined {
  const direct = valences.get(key);
  if (direct !== undefined || key.includes(' ')) return direct;
  if (HAS_ELONGATED.test(key)) {
    return lookUp(valences, key.replace(ELONGATED, '$1$1'), rules) ?? lookUp(valences, key.replace(ELONGATED, '$1'), rules);
  }
  for (const suffix of rules.suffixes) {
    if (key.length - suffix.length >= MIN_STEM && key.endsWith(suffix)) {
      const found = valences.get(key.slice(0, -suffix.length));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
