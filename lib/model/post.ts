// Posts as every layer speaks of them: what a source maps from an upstream, how far runs of a (source, query)
// have read (its mark, and the gap a run cut short leaves), and what the run keeps of each page it reads.

/** A post as a source maps it, before it is stored. */
export interface ScrapedPost {
  externalId: string;
  url: string;
  author: string | null;
  title: string | null;
  /** Plain text: HTML stripped, entities decoded, paragraphs kept as blank lines. */
  text: string;
  /** The upstream's own score: Trustpilot stars 1-5, a vote count elsewhere. */
  rating: number | null;
  language: string | null;
  publishedAt: Date;
  /** The company's public answer, where the upstream has one. */
  reply: { text: string; publishedAt: Date | null } | null;
  /** Upstream fields worth keeping that have no column (country, tags, comment counts, partial: true, ...). */
  extra: Record<string, unknown>;
  /** How the post reads, decided at ingest (lib/scrape/sentiment.ts); stored as not judged when absent. */
  sentiment?: PostSentiment | null;
}

export type SentimentLabel = 'negative' | 'neutral' | 'positive';
export const SENTIMENT_LABELS: readonly SentimentLabel[] = ['negative', 'neutral', 'positive'];

export interface PostSentiment {
  /** -1 to 1; null when the text could not be judged (a language not scored, no words). */
  score: number | null;
  /** From the source's own stars when it has them, else from the text; null when neither could say. */
  label: SentimentLabel | null;
  /** How it was decided, with the scorer's version: lexicon-v1, rating+lexicon-v1, unsupported-language-v1:ja, ... */
  method: string;
  language: string | null;
}

/** The newest post earlier runs of the same (source, query) stored: an incremental scrape stops when it reaches it. */
export interface HighWaterMark {
  publishedAt: Date;
  externalId: string;
}

/** What the run keeps of one page of a newest-first listing (lib/scrape/intake.ts decides it for every source). */
export interface Taken {
  /** The posts to yield: the page's posts above the stop mark, up to the run's budget. */
  posts: ScrapedPost[];
  /** How many of them were not stored before. */
  added: number;
  /** Whether to read this listing on: false once it reached the stop mark or the budget ran out. */
  more: boolean;
  /** The run's whole budget is used up: read no other listing either. */
  spent: boolean;
}

/** `atMost`: the listing's own share of new posts, for sources that read several listings in one run. */
export type TakePage = (posts: ScrapedPost[], options?: { atMost?: number }) => Promise<Taken>;

/**
 * How far a (source, query) is covered: everything from its first run's oldest post up to `mark` is stored; while
 * a run has stopped short of the mark, posts up to `gap.top` are stored and some between may not be.
 */
export interface ScrapeState {
  mark: HighWaterMark;
  gap: { top: HighWaterMark; resume: unknown; openedAt: Date } | null;
}

