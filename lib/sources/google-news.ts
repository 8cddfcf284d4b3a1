// Google News search results, read from its RSS feed (/rss/search). One request answers the whole query: the
// feed has no pagination and returns up to about 100 items, in Google's order (not by date).
import { permanent } from '../errors.ts';
import type { ScrapedPost } from '../model/post.ts';
import { type FeedEntry, parseFeed } from '../scrape/feed.ts';
import { htmlToText } from '../scrape/html-text.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

/** Google documents no maximum; longer queries are refused to keep the feed address short. */
const MAX_QUERY_LENGTH = 500;

export interface Edition {
  /** Interface language, e.g. "en-US". */
  hl: string;
  /** Country, e.g. "US". */
  gl: string;
  /** Country:language edition id, e.g. "US:en". */
  ceid: string;
}

export function createSource({ env }: SourceSetup): Source {
  const hl = env.string('GOOGLE_NEWS_HL', 'en-US');
  const gl = env.string('GOOGLE_NEWS_GL', 'US');
  const edition = { hl, gl, ceid: env.string('GOOGLE_NEWS_CEID', `${gl}:${hl.split('-')[0]}`) };
  return {
    name: 'google-news',
    defaultBaseUrl: 'https://news.google.com',
    description: 'News articles matching a search on Google News (its RSS feed), with their publishers',
    settings: [
      { name: 'GOOGLE_NEWS_HL', description: 'Interface language of the results (hl), e.g. en-US, fr, ja; default en-US' },
      { name: 'GOOGLE_NEWS_GL', description: 'Country edition of the results (gl), e.g. US, FR, JP; default US' },
      { name: 'GOOGLE_NEWS_CEID', description: 'Edition id country:language (ceid), e.g. US:en, FR:fr; default <GL>:<language of HL>' },
    ],
    // Google publishes no limit for its news feeds (too many requests earn its "unusual traffic" page); one
    // request every 2 s per host is a gentle reader's pace.
    rateLimit: { requests: 1, perMs: 2_000, concurrency: 1 },
    missingSettings: () => null,
    validateQuery,
    scrape: (ctx) => scrapeSearch(ctx, edition),
  };
}

export function validateQuery(query: string): string | null {
  return queryProblem(query, { expected: 'a Google News search, e.g. ovhcloud or "BT broadband" outage', maxLength: MAX_QUERY_LENGTH });
}

async function* scrapeSearch(ctx: ScrapeContext, edition: Edition): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  const url = searchUrl(ctx.baseUrl, ctx.query.trim(), edition);
  const response = await ctx.http.getText(url, { signal: ctx.signal, accept: 'application/rss+xml, application/xml;q=0.9, */*;q=0.1' });
  // Newest first, so that `limit` keeps the latest items and the mark of earlier runs can be compared.
  const newestFirst = parseSearchFeed(response.body, response.url, edition.hl).sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime());
  // The feed is the whole answer (about 100 items, no further pages): what it no longer holds cannot be read.
  const taken = await ctx.take(newestFirst);
  yield { posts: taken.posts, page: 1, pagesPlanned: 1 };
}

export function searchUrl(baseUrl: string, query: string, edition: Edition): string {
  const params = new URLSearchParams({ q: query, hl: edition.hl, gl: edition.gl, ceid: edition.ceid });
  return `${baseUrl}/rss/search?${params}`;
}

/** Every item of a Google News feed (search or top stories), in feed order. */
export function parseSearchFeed(xml: string, feedUrl: string, fallbackLanguage: string | null = null): ScrapedPost[] {
  const feed = parseFeed(xml);
  if (!feed || feed.format !== 'rss') return rejectNonFeed(xml, feedUrl);
  const language = feed.language ?? fallbackLanguage;
  return feed.entries.flatMap((entry) => {
    const post = toPost(entry, language);
    return post ? [post] : [];
  });
}

function toPost(entry: FeedEntry, language: string | null): ScrapedPost | null {
  const url = entry.link;
  const externalId = entry.id ?? url;
  if (!url || !externalId || !entry.publishedAt) return null;
  const { headline, publisher } = splitTitle(entry.title ?? '', entry.source?.name ?? null);
  return {
    externalId,
    url,
    author: publisher,
    title: headline || null,
    text: htmlToText(entry.html),
    rating: null,
    language,
    publishedAt: entry.publishedAt,
    reply: null,
    extra: { publisher, publisher_url: entry.source?.url ?? null },
  };
}

/**
 * Titles read "Headline - Publisher". The <source> element names the publisher exactly, so its name is cut off
 * when the title ends with it (publisher names can contain " - "); otherwise the title is split at its last " - ".
 */
export function splitTitle(title: string, sourceName: string | null): { headline: string; publisher: string | null } {
  if (sourceName && title.endsWith(` - ${sourceName}`)) {
    return { headline: title.slice(0, -(sourceName.length + 3)).trim(), publisher: sourceName };
  }
  const at = title.lastIndexOf(' - ');
  if (at < 0) return { headline: title, publisher: sourceName };
  return { headline: title.slice(0, at).trim(), publisher: title.slice(at + 3).trim() || sourceName };
}

/** Google answers an unconsented or suspicious visitor with an HTML page instead of the feed. */
function rejectNonFeed(body: string, feedUrl: string): never {
  const url = new URL(feedUrl);
  const where = `${url.host}${url.pathname}`;
  if (/^consent\./i.test(url.hostname) || /consent\.google\.|Before you continue to Google/i.test(body)) {
    throw permanent(
      'upstream_blocked',
      `Google News answered with its cookie-consent page (${where}) instead of the RSS feed: Google asks visitors from this region to consent first; run the worker from an IP address outside the EU/UK or through a proxy that carries a consent cookie`,
    );
  }
  if (/^\/sorry\//.test(url.pathname) || /unusual traffic|google\.com\/sorry|id="captcha-form"/i.test(body)) {
    throw permanent(
      'upstream_blocked',
      `Google News answered with its "unusual traffic" page (${where}) instead of the RSS feed: Google takes this worker for a bot; lower RATE_LIMIT_GOOGLE_NEWS or run the worker from another IP address`,
    );
  }
  throw permanent(
    'upstream_bad_response',
    `Google News answered ${where} with something that is not an RSS feed (${/<html/i.test(body) ? 'an HTML page' : 'unreadable XML'}): the feed address or format changed; check SOURCE_BASE_URL_GOOGLE_NEWS and lib/sources/google-news.ts`,
  );
}
