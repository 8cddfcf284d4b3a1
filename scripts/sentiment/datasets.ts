// The labelled texts the scorer is fitted and measured on, read from the copies in test/fixtures/ (provenance in
// test/fixtures/SOURCES.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

export type Polarity = 'positive' | 'negative';

export interface LabelledText {
  text: string;
  label: Polarity;
  lang: string;
}

export interface StarredReview {
  title: string | null;
  text: string;
  stars: number;
  language: string;
}

/** UCI "Sentiment Labelled Sentences": `sentence<TAB>0|1`, some with stray spaces before the tab. */
export function readUci(name: 'amazon_cells_labelled.txt' | 'imdb_labelled.txt'): LabelledText[] {
  const rows: LabelledText[] = [];
  for (const line of readFileSync(`${FIXTURES}sentiment/${name}`, 'utf8').split('\n')) {
    const match = /^(.*\S)\s*\t\s*([01])\s*$/.exec(line);
    if (match) rows.push({ text: match[1]!, label: match[2] === '1' ? 'positive' : 'negative', lang: 'en' });
  }
  return rows;
}

/** Allociné TV-series reviews: `0|1<TAB>text`, some quoted CSV-style with doubled quotes. */
export function readAllocine(): LabelledText[] {
  const rows: LabelledText[] = [];
  for (const line of readFileSync(`${FIXTURES}sentiment/fr-tv-reviews-test-odd-lines.tsv`, 'utf8').split('\n')) {
    const match = /^([01])\t(.*)$/.exec(line);
    if (!match) continue;
    let text = match[2]!;
    if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replace(/""/g, '"');
    rows.push({ text, label: match[1] === '1' ? 'positive' : 'negative', lang: 'fr' });
  }
  return rows;
}

export const TRUSTPILOT_PAGES = ['trustpilot/bt-com-page1-2023-05.html', 'trustpilot/eventnet-de-page1-2024-07-prettified.html'];

/** The reviews of a Trustpilot page, from the JSON it embeds in <script id="__NEXT_DATA__">. */
export function readTrustpilot(page: string): StarredReview[] {
  const html = readFileSync(`${FIXTURES}${page}`, 'utf8');
  const json = /<script id="__NEXT_DATA__"[^>]*>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!json) throw new Error(`${page} has no __NEXT_DATA__ script`);
  const reviews = JSON.parse(json).props.pageProps.reviews as { title?: string; text: string; rating: number; language: string }[];
  return reviews.map((r) => ({ title: r.title ?? null, text: r.text, stars: r.rating, language: r.language }));
}
