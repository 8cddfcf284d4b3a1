// Trustpilot review pages. Trustpilot is a Next.js site: every page embeds its data as JSON in
// <script id="__NEXT_DATA__">, which is read by string search (no DOM) because it is exact and fast. The
// JSON-LD and data-service-review-* markup are the fallback for when that script is gone or changes shape.
// Pages are searched as the UTF-8 bytes they came in and only that script is decoded: it is about 40% of a
// page, and decoding the rest to text would cost more CPU and memory than parsing the JSON.
import type { Cheerio } from 'cheerio';
import { JobError, permanent } from '../errors.ts';
import type { HttpClient } from '../http/client.ts';
import type { Logger } from '../log.ts';
import type { ScrapedPost } from '../model/post.ts';
import { cheerio } from '../scrape/cheerio.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { record, text, toDate, toNumber } from '../scrape/values.ts';
import { formatChanged, rejectLoginUrl, rejectUnreadablePage } from '../scrape/walls.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

const REVIEWS_PER_PAGE = 20;
const SITE = { name: 'Trustpilot', source: 'lib/sources/trustpilot.ts' };
const PAGE_DATA = 'neither __NEXT_DATA__ nor JSON-LD reviews';
const MAX_QUERY_LENGTH = 100;

export interface TrustpilotBusiness {
  /** Trustpilot's identifying name, the part after /review/ in its page address. */
  domain: string;
  displayName: string;
}

export interface ReviewPagination {
  currentPage: number;
  totalPages: number;
  perPage: number;
  totalCount: number;
}

export interface ReviewPage {
  reviews: ScrapedPost[];
  pagination: ReviewPagination | null;
  business: TrustpilotBusiness | null;
}

/** A page as text, or as the UTF-8 bytes it came in. */
export type Page = string | Buffer;

export interface ResolvedBusiness {
  domain: string;
  /** Null until the review page names the business. */
  displayName: string | null;
  resolvedBy: 'domain' | 'search' | 'alias';
}

const DEFAULT_ALIASES = 'ovh=ovhcloud.com,ovhcloud=ovhcloud.com,bt=bt.com';

export function createSource({ env }: SourceSetup): Source {
  const aliases = Object.fromEntries(
    Object.entries(env.pairs('TRUSTPILOT_ALIASES', DEFAULT_ALIASES)).map(([brand, domain]) => [brand, domain.toLowerCase()]),
  );
  return createTrustpilotSource({ aliases });
}

export function createTrustpilotSource(options: { aliases: Record<string, string> }): Source {
  return {
    name: 'trustpilot',
    defaultBaseUrl: 'https://www.trustpilot.com',
    description: "A business's Trustpilot reviews, newest first, with the company's replies",
    settings: [
      { name: 'TRUSTPILOT_ALIASES', description: 'brand=domain pairs used when the business search finds nothing' },
    ],
    // Trustpilot publishes no limit for its pages; one request a second per host keeps us an unremarkable visitor.
    rateLimit: { requests: 1, perMs: 1_000, concurrency: 1 },
    ratingKind: 'stars',
    missingSettings: () => null,
    validateQuery,
    scrape: (ctx) => scrapeReviews(ctx, options.aliases),
  };
}

export function validateQuery(query: string): string | null {
  const problem = queryProblem(query, { expected: 'a Trustpilot domain such as "bt.com" or a brand name such as "OVH"', maxLength: MAX_QUERY_LENGTH });
  if (problem) return problem;
  const q = query.trim();
  const pageDomain = /trustpilot\.[a-z.]+\/review\/([^/?#\s]+)/i.exec(q)?.[1];
  if (pageDomain) return `query must be the business's domain, not its Trustpilot address: use "${pageDomain}"`;
  if (/[/?#\\]/.test(q)) {
    return 'query must be a Trustpilot domain such as "bt.com" or a brand name such as "OVH", not a URL or path: remove "/", "?", "#" and "\\"';
  }
  return null;
}

/** The Trustpilot domain a query names ("www.BT.com" -> "bt.com"), or null when the query is a brand name. */
export function domainFromQuery(query: string): string | null {
  const q = query.trim().toLowerCase().replace(/\.$/, '');
  if (!/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(q)) return null;
  return q.replace(/^www\./, '');
}

async function* scrapeReviews(ctx: ScrapeContext, aliases: Record<string, string>): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  const resolved = await resolveBusiness(ctx.query, { ...ctx, aliases });
  let domain = resolved.domain;
  let displayName = resolved.displayName;
  // New reviews only push older ones to later pages, so a page number an earlier run stopped at still holds
  // what it held or something newer: resuming there skips nothing.
  const firstPage = resumePage(ctx.resumeFrom) ?? 1;
  const pagesWanted = Math.ceil(ctx.limit / REVIEWS_PER_PAGE);
  let pagesPlanned: number | null = pagesWanted;
  let pagesRead = 0;

  for (let page = firstPage; ; page++) {
    let parsed: ReviewPage;
    try {
      parsed = await fetchReviewPage(ctx, domain, page);
    } catch (error) {
      if (!(error instanceof JobError) || error.code !== 'upstream_not_found') throw error;
      if (page === 1) throw noBusinessPage(ctx.query, resolved, error);
      // A page past the end (the review count can shrink between requests) must not fail the pages already read.
      break;
    }
    if (page === firstPage) {
      // Later pages use the canonical name so they are not redirected one by one.
      domain = parsed.business?.domain ?? domain;
      displayName = parsed.business?.displayName ?? displayName ?? domain;
      pagesPlanned = parsed.pagination ? Math.max(1, Math.min(pagesWanted, parsed.pagination.totalPages - firstPage + 1)) : null;
    } else if (parsed.reviews.length === 0) {
      break;
    }
    const taken = await ctx.take(parsed.reviews);
    yield { posts: taken.posts, page: ++pagesRead, pagesPlanned, meta: { domain, business: displayName, resolved_by: resolved.resolvedBy }, resumeAt: { page } };
    const lastPage = parsed.pagination !== null && page >= parsed.pagination.totalPages;
    if (parsed.reviews.length === 0 || !taken.more || lastPage) break;
  }
}

function resumePage(resumeFrom: unknown): number | null {
  const page = record(resumeFrom).page;
  return typeof page === 'number' && Number.isInteger(page) && page >= 1 ? page : null;
}

// Its own function so that the page is garbage once parsed, not kept by the suspended generator across its yield.
async function fetchReviewPage(ctx: ScrapeContext, domain: string, page: number): Promise<ReviewPage> {
  const response = await ctx.http.getBytes(reviewPageUrl(ctx.baseUrl, domain, page), { signal: ctx.signal });
  return parseReviewPage(response.body, response.url);
}

function reviewPageUrl(baseUrl: string, domain: string, page: number): string {
  return `${baseUrl}/review/${encodeURIComponent(domain)}?page=${page}&languages=all&sort=recency`;
}

function noBusinessPage(query: string, resolved: ResolvedBusiness, cause: JobError): JobError {
  const fix = resolved.resolvedBy === 'alias'
    ? `TRUSTPILOT_ALIASES maps "${query.trim().toLowerCase()}" to ${resolved.domain}; correct that alias`
    : 'check the spelling, or find the business on trustpilot.com and use the domain from its address (trustpilot.com/review/<domain>)';
  return permanent('upstream_not_found', `Trustpilot has no business page for "${query.trim()}" (/review/${resolved.domain} gave HTTP 404): ${fix}`, cause);
}

/**
 * A domain query needs no lookup. A brand name goes through Trustpilot's business search; when that finds
 * nothing (or cannot be read) the configured alias table decides.
 */
export async function resolveBusiness(
  query: string,
  ctx: { http: HttpClient; baseUrl: string; signal: AbortSignal; log: Logger; aliases: Record<string, string> },
): Promise<ResolvedBusiness> {
  const domain = domainFromQuery(query);
  if (domain) return { domain, displayName: null, resolvedBy: 'domain' };

  const name = query.trim();
  let searchProblem: string | null = null;
  try {
    const response = await ctx.http.getBytes(`${ctx.baseUrl}/search?query=${encodeURIComponent(name)}`, { signal: ctx.signal });
    const match = pickBusiness(name, parseSearchPage(response.body, response.url));
    if (match) return { ...match, resolvedBy: 'search' };
  } catch (error) {
    if (!(error instanceof JobError) || (error.code !== 'upstream_not_found' && error.code !== 'upstream_bad_response')) throw error;
    searchProblem = error.message;
    ctx.log.warn('trustpilot_search_unusable', { query: name, error });
  }

  const alias = ctx.aliases[name.toLowerCase()];
  if (alias) return { domain: alias, displayName: null, resolvedBy: 'alias' };
  const searchOutcome = searchProblem ? `its business search could not be read (${searchProblem})` : 'its business search found nothing';
  throw permanent(
    'upstream_not_found',
    `Trustpilot has no business page for "${name}": ${searchOutcome} and TRUSTPILOT_ALIASES has no entry for it; use the business's domain as the query (the part after trustpilot.com/review/) or add "${name.toLowerCase()}=<domain>" to TRUSTPILOT_ALIASES`,
  );
}

/** The exact display name wins (case-insensitive); otherwise Trustpilot's own ranking does. */
export function pickBusiness(name: string, candidates: TrustpilotBusiness[]): TrustpilotBusiness | null {
  const wanted = name.trim().toLowerCase();
  return candidates.find((c) => c.displayName.trim().toLowerCase() === wanted) ?? candidates[0] ?? null;
}

export function parseSearchPage(page: Page, pageUrl: string): TrustpilotBusiness[] {
  rejectLoginUrl(SITE, pageUrl, 'business search page');
  const pageProps = readNextData(page);
  if (!pageProps) return rejectUnreadablePage(SITE, textOf(page), pageUrl, 'business search page', PAGE_DATA);
  // Search pages have carried a plain array; category listings wrap theirs in { businesses }.
  const units = Array.isArray(pageProps.businessUnits) ? pageProps.businessUnits : record(pageProps.businessUnits).businesses;
  if (!Array.isArray(units)) return [];
  return units.flatMap((unit) => {
    const u = record(unit);
    const domain = text(u.identifyingName);
    return domain ? [{ domain, displayName: text(u.displayName) ?? domain }] : [];
  });
}

export function parseReviewPage(page: Page, pageUrl: string): ReviewPage {
  rejectLoginUrl(SITE, pageUrl, 'review page');
  const base = reviewLinkBase(pageUrl);
  const pageProps = readNextData(page);
  if (pageProps && Array.isArray(pageProps.reviews)) return fromNextData(pageProps, base, pageUrl);
  const html = textOf(page);
  return fromStructuredMarkup(html, base) ?? rejectUnreadablePage(SITE, html, pageUrl, 'review page', PAGE_DATA);
}

/** Review links hang off the same origin (and path prefix) as the page they were found on. */
function reviewLinkBase(pageUrl: string): string {
  const at = pageUrl.indexOf('/review/');
  return at > 0 ? pageUrl.slice(0, at) : new URL(pageUrl).origin;
}

// The markers are ASCII, and in UTF-8 an ASCII byte is never part of another character, so searching the bytes
// finds what searching the text would.
function readNextData(page: Page): Record<string, unknown> | null {
  const marker = page.indexOf('"__NEXT_DATA__"');
  if (marker < 0) return null;
  const start = page.indexOf('>', marker) + 1;
  const end = page.indexOf('</script>', start);
  if (start === 0 || end < 0) return null;
  const json = typeof page === 'string' ? page.slice(start, end) : page.toString('utf8', start, end);
  try {
    const pageProps = record(record(JSON.parse(json)).props).pageProps;
    return pageProps && typeof pageProps === 'object' ? (pageProps as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function fromNextData(pageProps: Record<string, unknown>, base: string, pageUrl: string): ReviewPage {
  const unit = record(pageProps.businessUnit);
  const domain = text(unit.identifyingName);
  const business = domain ? { domain, displayName: text(unit.displayName) ?? domain } : null;
  const reviews = (pageProps.reviews as unknown[]).map((raw) => {
    const r = record(raw);
    const id = text(r.id);
    const dates = record(r.dates);
    const publishedAt = toDate(dates.publishedDate);
    if (!id || !publishedAt) throw formatChanged(SITE, pageUrl, 'a review in __NEXT_DATA__ has no id or publishedDate');
    const consumer = record(r.consumer);
    const verification = record(record(r.labels).verification);
    const reply = record(r.reply);
    const replyText = text(reply.message);
    return {
      externalId: id,
      url: `${base}/reviews/${id}`,
      author: text(consumer.displayName),
      title: text(r.title),
      text: withoutTrailingSpaces(text(r.text) ?? ''),
      rating: toNumber(r.rating),
      language: text(r.language),
      publishedAt,
      reply: replyText ? { text: withoutTrailingSpaces(replyText), publishedAt: toDate(reply.publishedDate) } : null,
      extra: {
        country: text(consumer.countryCode),
        verified: typeof verification.isVerified === 'boolean' ? verification.isVerified : null,
        verification_level: text(verification.verificationLevel),
        experienced_at: text(dates.experiencedDate),
        updated_at: text(dates.updatedDate),
        likes: toNumber(r.likes),
        business_domain: domain,
      },
    } satisfies ScrapedPost;
  });
  return { reviews, pagination: readPagination(record(pageProps.filters).pagination), business };
}

function readPagination(raw: unknown): ReviewPagination | null {
  const p = record(raw);
  const [currentPage, totalPages, perPage, totalCount] = [p.currentPage, p.totalPages, p.perPage, p.totalCount].map(toNumber);
  if (currentPage == null || totalPages == null || perPage == null || totalCount == null) return null;
  return { currentPage, totalPages, perPage, totalCount };
}

interface ReviewCard {
  author: string | null;
  country: string | null;
  rating: number | null;
  publishedAt: Date | null;
  title: string | null;
  text: string | null;
  reply: ScrapedPost['reply'];
}

/**
 * JSON-LD has each review's language but flattens its line breaks and leaves out the company's reply; the
 * review cards have both. Reviews are taken from whichever exists and merged by id.
 */
function fromStructuredMarkup(html: string, base: string): ReviewPage | null {
  const $ = cheerio().load(html);
  const graph = $('script[type="application/ld+json"]').toArray().flatMap((el) => {
    try {
      const data: unknown = JSON.parse($(el).text());
      const items = Array.isArray(data) ? data : record(data)['@graph'] ?? [data];
      return Array.isArray(items) ? items.map(record) : [];
    } catch {
      return [];
    }
  });
  const ldReviews = new Map(graph.filter((item) => item['@type'] === 'Review').map((item) => [lastSegment(item['@id']), item]));
  const cards = new Map($('[data-service-review-card-paper]').toArray().map((el) => readCard($(el))));
  ldReviews.delete(null);
  cards.delete(null);
  const ids = ldReviews.size > 0 ? [...ldReviews.keys()] : [...cards.keys()];
  if (ids.length === 0) return null;

  const place = graph.find((item) => item['@type'] === 'LocalBusiness');
  const domain = place ? lastSegment(place['@id']) : null;
  const business = domain ? { domain, displayName: text(place?.name) ?? domain } : null;
  const reviews = ids.flatMap((id): ScrapedPost[] => {
    if (!id) return [];
    const ld = ldReviews.get(id) ?? {};
    const card = cards.get(id);
    const publishedAt = toDate(ld.datePublished) ?? card?.publishedAt ?? null;
    if (!publishedAt) return [];
    return [{
      externalId: id,
      url: `${base}/reviews/${id}`,
      author: card?.author ?? text(record(ld.author).name),
      title: card?.title ?? text(ld.headline),
      text: card?.text ?? text(ld.reviewBody) ?? '',
      rating: toNumber(record(ld.reviewRating).ratingValue) ?? card?.rating ?? null,
      language: text(ld.inLanguage),
      publishedAt,
      reply: card?.reply ?? null,
      extra: { country: card?.country ?? null, business_domain: domain },
    }];
  });
  return { reviews, pagination: null, business };
}

/** What `find` returns; cheerio does not export its element type by name. */
type Elements = ReturnType<Cheerio<never>['find']>;

function readCard(card: Elements): [string | null, ReviewCard] {
  const id = /\/reviews\/([^/?#]+)/.exec(card.find('a[href*="/reviews/"]').first().attr('href') ?? '')?.[1] ?? null;
  const replyText = blockText(card.find('[data-service-review-business-reply-text-typography]'));
  return [id, {
    author: blockText(card.find('[data-consumer-name-typography]')),
    country: blockText(card.find('[data-consumer-country-typography]')),
    rating: toNumber(card.find('[data-service-review-rating]').attr('data-service-review-rating')),
    publishedAt: toDate(card.find('time[data-service-review-date-time-ago]').attr('datetime')),
    title: blockText(card.find('[data-service-review-title-typography]')),
    text: blockText(card.find('[data-service-review-text-typography]')),
    reply: replyText
      ? { text: replyText, publishedAt: toDate(card.find('time[data-service-review-business-reply-date-time-ago]').attr('datetime')) }
      : null,
  }];
}

const LINE_BREAK = '\uE000';

/** Visible text with <br> kept as line breaks; newlines in the source are layout (some captures are prettified), not text. */
function blockText(element: Elements): string | null {
  if (element.length === 0) return null;
  const copy = element.first().clone();
  copy.find('br').replaceWith(LINE_BREAK);
  const value = copy
    .text()
    .replace(/[ \t]*[\r\n]\s*/g, ' ')
    .split(LINE_BREAK)
    .map((line) => line.trim())
    .join('\n')
    .trim();
  return value || null;
}

/** Spaces before a line break are invisible on the page; dropping them keeps both parsers' text identical. */
function withoutTrailingSpaces(value: string): string {
  return value.replace(/[ \t]+(?=\n)/g, '');
}

function textOf(page: Page): string {
  return typeof page === 'string' ? page : page.toString('utf8');
}

function lastSegment(value: unknown): string | null {
  return typeof value === 'string' ? value.split('/').filter(Boolean).pop() ?? null : null;
}
