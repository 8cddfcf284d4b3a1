// Stack Overflow (or another Stack Exchange site) questions that match the query, newest first, from the
// Stack Exchange API's /search/advanced.
import { JobError, permanent, transient } from '../errors.ts';
import type { ScrapedPost } from '../model/post.ts';
import type { RateLimit } from '../model/rate-limit.ts';
import { decodeEntities, htmlToText } from '../scrape/html-text.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { fromUnixSeconds, list, record, text, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

// The API's largest page.
const PAGE_SIZE = 100;
const DAY_MS = 86_400_000;
// The HTTP client sleeps through a host hold before each request, so a hold until the daily reset would park
// a worker slot for hours; an hour matches the client's own cap for x-ratelimit-reset.
const MAX_QUOTA_HOLD_MS = 60 * 60_000;
const SITE_PATTERN = /^[a-z0-9][a-z0-9.-]{0,63}$/;

export interface StackExchangeOptions {
  site: string;
  key: string | null;
  pageSize: number;
}

interface SearchWrapper {
  items?: unknown;
  has_more?: unknown;
  quota_max?: unknown;
  quota_remaining?: unknown;
  backoff?: unknown;
  error_id?: unknown;
  error_name?: unknown;
  error_message?: unknown;
}

export function createSource({ env }: SourceSetup): Source {
  const site = env.pattern('STACKEXCHANGE_SITE', 'stackoverflow', SITE_PATTERN, 'lower-case letters, digits, "." or "-" naming a Stack Exchange site (stackoverflow, superuser, ...)');
  return createStackOverflowSource({ site, key: env.optional('STACKEXCHANGE_KEY'), pageSize: PAGE_SIZE });
}

export function createStackOverflowSource(options: StackExchangeOptions): Source {
  return {
    name: 'stackoverflow',
    defaultBaseUrl: 'https://api.stackexchange.com',
    description: `Questions on Stack Exchange (${options.site}) that match the query, newest first, with their tags and scores`,
    settings: [
      { name: 'STACKEXCHANGE_SITE', description: 'The Stack Exchange site to search, as the API names it (default stackoverflow; e.g. superuser, serverfault)' },
      { name: 'STACKEXCHANGE_KEY', description: 'A stackapps.com app key: raises the daily quota from 300 to 10,000 requests per IP address', secret: true },
    ],
    rateLimit: stackExchangeRateLimit(options.key !== null),
    missingSettings: () => null,
    validateQuery,
    scrape: (ctx) => scrapeQuestions(ctx, options),
  };
}

/**
 * api.stackexchange.com/docs/throttle (2024): 300 requests a day per IP address without a key, 10,000 with one,
 * and never more than 30 a second. The daily quota resets at midnight UTC; a sliding day never exceeds it.
 */
export function stackExchangeRateLimit(hasKey: boolean): RateLimit {
  return hasKey ? { requests: 10_000, perMs: DAY_MS, concurrency: 2 } : { requests: 300, perMs: DAY_MS, concurrency: 1 };
}

export function validateQuery(query: string): string | null {
  return queryProblem(query, { expected: 'the words to look for in questions, such as "duckdb" or "acme cloud"' });
}

async function* scrapeQuestions(ctx: ScrapeContext, options: StackExchangeOptions): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  const pageSize = Math.min(options.pageSize, ctx.limit);
  const pagesWanted = Math.ceil(ctx.limit / pageSize);
  const host = new URL(ctx.baseUrl).host;
  const seen = new Set<string>();
  const toSeconds = resumeSeconds(ctx.resumeFrom);

  for (let page = 1; ; page++) {
    const wrapper = await fetchPage(ctx, searchUrl(ctx, options, pageSize, page, toSeconds), options);
    if (wrapper.error_id !== undefined) throw apiError(wrapper, options);
    const questions = parseQuestions(wrapper, options.site);

    // Stack Exchange: after a response with `backoff`, no request to that method for that many seconds.
    const backoffSeconds = toNumber(wrapper.backoff) ?? 0;
    if (backoffSeconds > 0) await ctx.http.holdHost(host, backoffSeconds * 1000);
    const quotaRemaining = toNumber(wrapper.quota_remaining);
    const quotaResetMs = quotaRemaining === 0 ? msUntilUtcMidnight() : null;
    if (quotaResetMs !== null) await ctx.http.holdHost(host, Math.min(quotaResetMs, MAX_QUOTA_HOLD_MS));

    // New questions push older ones down a page while we read, so a question can come twice.
    const unseen = questions.filter((post) => !seen.has(post.externalId));
    for (const post of unseen) seen.add(post.externalId);
    const taken = await ctx.take(unseen);
    const done = wrapper.has_more !== true || !taken.more || questions.length === 0;
    const meta = { site: options.site, quota_max: toNumber(wrapper.quota_max), quota_remaining: quotaRemaining };
    // This page's newest question bounds a search that reads it, and everything older, again.
    const newestHere = questions[0]?.publishedAt;
    const resumeAt = newestHere ? { to_s: Math.floor(newestHere.getTime() / 1000) } : null;
    yield { posts: taken.posts, page, pagesPlanned: done ? page : Math.max(page + 1, pagesWanted), meta, resumeAt };
    if (done) break;
    if (quotaResetMs !== null) throw quotaExhausted(toNumber(wrapper.quota_max), quotaResetMs, options);
  }
}

function resumeSeconds(resumeFrom: unknown): number | null {
  const value = record(resumeFrom).to_s;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

function searchUrl(ctx: ScrapeContext, options: StackExchangeOptions, pageSize: number, page: number, toSeconds: number | null): string {
  const params = new URLSearchParams({
    q: ctx.query.trim(),
    site: options.site,
    sort: 'creation',
    order: 'desc',
    pagesize: String(pageSize),
    page: String(page),
    filter: 'withbody',
  });
  if (ctx.since) params.set('fromdate', String(Math.floor(ctx.since.publishedAt.getTime() / 1000)));
  if (toSeconds !== null) params.set('todate', String(toSeconds));
  if (options.key) params.set('key', options.key);
  return `${ctx.baseUrl}/2.3/search/advanced?${params}`;
}

/** Stack Exchange sends every error as HTTP 400 with a JSON body naming it; the client keeps that body. */
async function fetchPage(ctx: ScrapeContext, url: string, options: StackExchangeOptions): Promise<SearchWrapper> {
  try {
    return record((await ctx.http.getJson<unknown>(url, { signal: ctx.signal })).json);
  } catch (error) {
    if (!(error instanceof JobError) || error.upstream?.status !== 400) throw error;
    let wrapper: SearchWrapper = {};
    try {
      wrapper = record(JSON.parse(error.upstream.body));
    } catch {
      // not JSON: fall through to the generic explanation below
    }
    if (wrapper.error_id !== undefined || wrapper.error_name !== undefined) throw apiError(wrapper, options);
    throw permanent(
      'upstream_bad_response',
      `Stack Exchange rejected the search (HTTP 400) without saying why. Its usual reasons: STACKEXCHANGE_KEY is not a valid key${options.key ? '' : ' (none is set)'}, STACKEXCHANGE_SITE "${options.site}" is not a Stack Exchange site, or this IP address sent too many requests`,
      error,
    );
  }
}

/** The error wrapper ({error_id, error_name, error_message}) as a failure that says what to do. */
export function apiError(wrapper: SearchWrapper, options: Pick<StackExchangeOptions, 'site'>): JobError {
  const name = text(wrapper.error_name) ?? 'unknown_error';
  const id = toNumber(wrapper.error_id);
  const message = text(wrapper.error_message) ?? '';
  const said = `${name}${id !== null ? ` ${id}` : ''}${message ? `: ${message}` : ''}`;
  if (name === 'throttle_violation') {
    const seconds = toNumber(/available in (\d+) seconds?/.exec(message)?.[1]);
        return transient('upstream_rate_limited', `Stack Exchange is throttling this IP address (${said})${seconds !== null ? `: it asks for a pause of ${seconds} s` : ''}; setting STACKEXCHANGE_KEY raises the daily quota to 10,000`, seconds !== null ? seconds * 1000 : null);
  }
  if (name === 'bad_parameter' && /^key\b/i.test(message)) {
    return permanent('upstream_login_required', `Stack Exchange refused STACKEXCHANGE_KEY (${said}): copy the key of your app from stackapps.com again, or unset it to use the keyless quota`);
  }
  if (name === 'bad_parameter' && /^site\b/i.test(message)) {
    return permanent('invalid_query', `Stack Exchange has no site "${options.site}" (${said}): set STACKEXCHANGE_SITE to a site's API name such as stackoverflow or superuser`);
  }
  if (name === 'bad_parameter') return permanent('invalid_query', `Stack Exchange refused the search (${said}): check the query`);
  if (['access_token_required', 'invalid_access_token', 'access_denied', 'key_required', 'access_token_compromised'].includes(name)) {
    return permanent('upstream_login_required', `Stack Exchange refused the request (${said}): check STACKEXCHANGE_KEY`);
  }
  if (['internal_error', 'temporarily_unavailable'].includes(name) || (id !== null && id >= 500)) {
    return transient('upstream_unavailable', `Stack Exchange failed (${said})`);
  }
  return permanent('upstream_bad_response', `Stack Exchange answered with an error the scraper does not expect (${said}): check lib/sources/stackoverflow.ts`);
}

function quotaExhausted(quotaMax: number | null, resetMs: number, options: StackExchangeOptions): JobError {
  const hours = (resetMs / 3_600_000).toFixed(1);
  const raise = options.key ? '' : '; set STACKEXCHANGE_KEY to raise it to 10,000 a day';
  return transient(
    'upstream_rate_limited',
    `Stack Exchange's daily quota for this IP address (${quotaMax ?? 'unknown'} requests) is used up; it resets at midnight UTC, in ${hours} h${raise}`,
    resetMs,
  );
}

export function msUntilUtcMidnight(now = Date.now()): number {
  const today = new Date(now);
  return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1) - now;
}

export function parseQuestions(wrapper: SearchWrapper, site: string): ScrapedPost[] {
  if (!Array.isArray(wrapper.items)) {
    throw permanent('upstream_bad_response', 'Stack Exchange answered without an "items" list: the API changed; update lib/sources/stackoverflow.ts');
  }
  return wrapper.items.map((raw) => toPost(record(raw), site));
}

export function toPost(question: Record<string, unknown>, site: string): ScrapedPost {
  const id = toNumber(question.question_id);
  const publishedAt = fromUnixSeconds(question.creation_date);
  const url = text(question.link);
  if (id === null || !publishedAt || !url) {
    throw permanent('upstream_bad_response', 'Stack Exchange sent a question without question_id, creation_date or link: the API changed; update lib/sources/stackoverflow.ts');
  }
  // Stack Exchange escapes titles and display names as HTML ("&#39;"); bodies are HTML.
  const title = decodeEntities(text(question.title)) || null;
  const author = decodeEntities(text(record(question.owner).display_name)) || null;
  return {
    externalId: String(id),
    url,
    author,
    title,
    text: htmlToText(text(question.body)) || title || '',
    rating: toNumber(question.score),
    language: null,
    publishedAt,
    reply: null,
    extra: {
      tags: list(question.tags).filter((tag): tag is string => typeof tag === 'string'),
      answer_count: toNumber(question.answer_count),
      is_answered: typeof question.is_answered === 'boolean' ? question.is_answered : null,
      view_count: toNumber(question.view_count),
      site,
    },
  };
}
