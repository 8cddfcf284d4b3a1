import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TOKEN, eachToken, tokenize } from '../lib/sentiment/tokenize.ts';
import { TRUSTPILOT_PAGES, readAllocine, readTrustpilot, readUci } from '../scripts/sentiment/datasets.ts';

/** What the pattern itself cuts: the definition the hand-written scanner must follow. */
function byPattern(text: string): [string, boolean][] {
  const out: [string, boolean][] = [];
  for (const match of text.matchAll(new RegExp(TOKEN.source, TOKEN.flags))) out.push(match[2] !== undefined ? [match[2], true] : [match[1] ?? match[3] ?? match[4]!, false]);
  return out;
}

function byScanner(text: string): [string, boolean][] {
  const out: [string, boolean][] = [];
  eachToken(text, { add: (token, word) => out.push([token, word]) });
  return out;
}

/** mulberry32: the same strings on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('cutting text into tokens', () => {
  test('the scanner cuts every real review and sentence of the fixtures as the pattern does', () => {
    const texts = [...readUci('amazon_cells_labelled.txt'), ...readUci('imdb_labelled.txt'), ...readAllocine(), ...TRUSTPILOT_PAGES.flatMap(readTrustpilot)].map((r) => r.text);
    assert.ok(texts.length > 2_000);
    for (const text of texts) assert.deepEqual(byScanner(text), byPattern(text), text);
  });

  test('the scanner cuts random strings of the characters at its edges as the pattern does', () => {
    // Emoticon parts, apostrophes of both kinds, digits, accented and other Latin letters, © and ® (pictographs
    // below U+0250), İ (whose lower case is longer), ª and ² (a letter and a number that are not a-z or 0-9).
    const alphabet = [...":;='’-)(][DPpO3/\\|*<3 \n\t!?.,aZéÉçœßİıªº²½×÷©®0987xX"];
    const next = random(20261208);
    for (let n = 0; n < 20_000; n++) {
      let text = '';
      const length = 1 + Math.floor(next() * 14);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
      assert.deepEqual(byScanner(text), byPattern(text), JSON.stringify(text));
    }
  });

  test('text beyond Latin letters (emoji, kana) goes through the pattern and comes out the same', () => {
    const text = "Super 😀 service :) だめ l'appli <3 ©2024";
    assert.deepEqual(byScanner(text), byPattern(text));
    assert.deepEqual(tokenize(text).tokens, ['super', '😀', 'service', ':)', 'だめ', "l'appli", '<3', '©', '2024']);
  });

  test('words keep their inner apostrophes, curly ones made straight, and capitals among lower case are shouting', () => {
    const { tokens, shouted, wordCount } = tokenize('It’s AWFUL, aujourd’hui:Do ok');
    assert.deepEqual(tokens, ["it's", 'awful', ',', "aujourd'hui", ':', 'do', 'ok']);
    assert.deepEqual(shouted, [false, true, false, false, false, false, false]);
    assert.equal(wordCount, 5);
  });
});
