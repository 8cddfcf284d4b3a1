// Posts arrive as reviews, comments and GitHub issues: markdown, code, links and HTML entities carry no
// sentiment (a stack trace full of "error" and "fail" is not an angry user), so they go before the words are cut.
const FENCED_CODE = /```[\s\S]*?(?:```|$)|~~~[\s\S]*?(?:~~~|$)/g;
const INLINE_CODE = /`[^`\n]*`/g;
const MARKDOWN_LINK = /!?\[([^\]\n]*)\]\([^)\s]*\)/g;
const URL = /\b(?:https?:\/\/|www\.)\S+/gi;
const HTML_TAG = /<\/?[a-z][^>]*>/gi;
const ENTITY = /&(amp|lt|gt|quot|apos|nbsp|#39|#x27);/g;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'", '#x27': "'" };

// One pass finds, in order of preference: emoticons, words (with inner apostrophes: don't, j'ai, aujourd'hui),
// sentence and clause punctuation, and emoji. Numbered groups, not named: this runs for every post.
const TOKEN = /((?:[:;=]'?-?[)(\]\[DPpO3\/\\|*]|<3)(?!\p{L}))|([\p{L}\p{N}]+(?:['’][\p{L}]+)*)|([!?.;,:\n])|(\p{Extended_Pictographic})/gu;
const CURLY_APOSTROPHE = /’/g;

// "9 out of 10", "2/5", "1 star", "5 étoiles": a rating written in the text is the author's own verdict. It
// becomes a word the dictionaries give a valence to: ratedhigh (70% of the scale or more), ratedlow (40% or
// less), ratedmiddle. Dates and times ("24/7", "2/5/2020") are not ratings.
const RATING_OUT_OF = /(?<![\d/.,])(\d{1,3}(?:[.,]\d)?)\s*(?:\/|out of|sur|von|de)\s*(5|10|20|100)(?![\d/])/gi;
const RATING_STARS = /(?<![\d.,])([0-5](?:[.,]5)?)\s*(?:stars?|étoiles?|etoiles?|sterne?n?|estrellas?)\b/gi;
const HAS_DIGIT = /\d/;

export function markRatings(text: string): string {
  if (!HAS_DIGIT.test(text)) return text;
  const mark = (value: number) => (value >= 0.7 ? ' ratedhigh ' : value <= 0.4 ? ' ratedlow ' : ' ratedmiddle ');
  return text
    .replace(RATING_OUT_OF, (whole, n: string, of: string) => {
      const value = Number(n.replace(',', '.')) / Number(of);
      return value <= 1 ? mark(value) : whole;
    })
    .replace(RATING_STARS, (_, n: string) => mark(Number(n.replace(',', '.')) / 5));
}

export interface Tokens {
  /** Lower-cased words, punctuation marks ('.', '!', '?', ',', ';', ':', '\n'), emoticons and emoji, in order. */
  tokens: string[];
  /** True where the word was written in capitals (2 letters or more) inside a text that is not all capitals. */
  shouted: boolean[];
  /** How many tokens are words (not marks, emoticons or emoji). */
  wordCount: number;
}

/** Text without code, links, markup and entities: what a person wrote in words. */
export function cleanText(text: string): string {
  let out = text;
  if (out.includes('`') || out.includes('~~~')) out = out.replace(FENCED_CODE, ' ').replace(INLINE_CODE, ' ');
  if (out.includes('](')) out = out.replace(MARKDOWN_LINK, '$1');
  if (out.includes('://') || out.includes('www.')) out = out.replace(URL, ' ');
  if (out.includes('<')) out = out.replace(HTML_TAG, ' ');
  if (out.includes('&')) out = out.replace(ENTITY, (_, name: string) => ENTITIES[name] ?? ' ');
  return out;
}

export function tokenize(cleanedText: string): Tokens {
  const text = markRatings(cleanedText);
  const tokens: string[] = [];
  const shouted: boolean[] = [];
  const capitals: number[] = [];
  let wordCount = 0;
  let capitalWords = 0;
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const word = match[2];
    if (word !== undefined) {
      const lower = word.toLowerCase();
      if (lower !== word && word.length >= 2 && word === word.toUpperCase()) {
        capitalWords++;
        capitals.push(tokens.length);
      }
      tokens.push(lower.includes('’') ? lower.replace(CURLY_APOSTROPHE, "'") : lower);
      shouted.push(false);
      wordCount++;
    } else {
      tokens.push(match[1] ?? match[3] ?? match[4]!);
      shouted.push(false);
    }
  }
  // Capitals are emphasis only against lower case around them: a text typed in capitals throughout shouts nothing.
  if (capitalWords > 0 && capitalWords * 2 < wordCount) for (const i of capitals) shouted[i] = true;
  return { tokens, shouted, wordCount };
}
