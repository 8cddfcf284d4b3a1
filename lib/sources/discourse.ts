// Discourse forums, read through each forum's public full-page search (/search.json, newest first). A search
// result carries only a ~300-character excerpt, so every post that is kept is then read in full from
// /posts/<id>.json; when that fails for one post, the excerpt is stored and marked `excerpt_only`.
import { JobError, permanent, transient } from '../errors.ts';
import type { HttpResponse } from '../http/client.ts';
import type { ScrapedPost } from '../model/post.ts';
import { htmlToText } from '../scrape/html-text.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { list, record, text, toDate, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

const POSTS_PER_SEARCH_PAGE = 50;
// SearchController answers HTTP 400 past page 10 (PAGE_LIMIT in app/controllers/search_controller.rb, 2024).
const MAX_SEARCH_PAGES = 10;
const MAX_QUERY_LENGTH = 200;
// Discourse's site setting rate_limit_search_anon_user_per_minute defaults to 15.
const DEFAULT_SEARCHES_PER_MINUTE = 15;
const LOGIN_PATH = /\/(?:login|session\/sso|auth\/)/;

export interface SearchPage {
  posts: ScrapedPost[];
  morePages: boolean;
}

export function createSource({ env }: SourceSetup): Source {
  const forums = env.httpOrigins('DISCOURSE_FORUMS', 'forum addresses', 'https://forum.example.com', { keepPath: true });
  const searchesPerMinute = env.integer('DISCOURSE_SEARCHES_PER_MINUTE', DEFAULT_SEARCHES_PER_MINUTE, 1, 6_000);
  return {
    name: 'discourse',
    defaultBaseUrl: 'https://meta.discourse.org',
    description: 'Posts on Discourse forums (a vendor community forum, say) that match the query, newest first',
    settings: [
      { name: 'DISCOURSE_FORUMS', description: 'Comma-separated forum addresses to search (default: SOURCE_BASE_URL_DISCOURSE, else https://meta.discourse.org)' },
      { name: 'DISCOURSE_SEARCHES_PER_MINUTE', description: `Searches per minute to one forum host, across all workers (default ${DEFAULT_SEARCHES_PER_MINUTE}, the anonymous limit Discourse ships with)` },
    ],
    // Discourse's defaults per IP (discourse_defaults.conf): 200 requests a minute and 50 per 10 s; 33 per 10 s
    // keeps under both, even in bursts. Searches have a stricter limit of their own and are paced apart in search().
    rateLimit: { requests: 33, perMs: 10_000, concurrency: 1 },
    missingSettings: () => null,
    validateQuery,
    scrape: (ctx) => scrapeForums(ctx, forums.length > 0 ? forums : [ctx.baseUrl], 60_000 / searchesPerMinute),
  };
}

export function validateQuery(query: string): string | null {
  const problem = queryProblem(query, { expected: 'the words to search the forums for, such as "billing export"', maxLength: MAX_QUERY_LENGTH });
  if (problem) return problem;
  if (/\border:/i.test(query)) return 'query must not contain "order:": results are always read newest first';
  return null;
}

/**
 * Forums are read one after another, each with a fair share of what the budget leaves, so one busy forum cannot
 * use it all; a forum left at its share counts as a run cut short, which the next run carries on.
 */
async function* scrapeForums(ctx: ScrapeContext, forums: string[], searchSpacingMs: number): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  const pagesPerForum = Math.min(MAX_SEARCH_PAGES, Math.ceil(ctx.limit / forums.length / POSTS_PER_SEARCH_PAGE));
  const pagesPlanned = pagesPerForum * forums.length;
  let kept = 0;
  let pageNumber = 0;

  for (const [index, forum] of forums.entries()) {
    const share = Math.ceil((ctx.limit - kept) / (forums.length - index));
    let keptHere = 0;
    for (let page = 1; page <= MAX_SEARCH_PAGES && keptHere < share; page++) {
      const results = await search(ctx, forum, page, searchSpacingMs);
      const taken = await ctx.take(results.posts, { atMost: share - keptHere });
      const posts = await withFullText(ctx, forum, taken.posts);
      keptHere += taken.added;
      yield { posts, page: ++pageNumber, pagesPlanned, meta: { forums: forums.map((f) => f.replace(/^https?:\/\//, '')) } };
      if (taken.spent) return;
      if (!results.morePages || results.posts.length === 0 || !taken.more) break;
    }
    kept += keptHere;
  }
}

async function search(ctx: ScrapeContext, forum: string, page: number, searchSpacingMs: number): Promise<SearchPage> {
  const host = new URL(forum).host;
  const q = encodeURIComponent(`${ctx.query.trim()} order:latest`);
  let response: HttpResponse;
  try {
    response = await ctx.http.getText(`${forum}/search.json?q=${q}&page=${page}`, { signal: ctx.signal, accept: 'application/json' });
  } catch (error) {
    throw explainSearchFailure(error, forum);
  } finally {
    // Searches have a limit of their own, far below the overall one; holding the host after each search
    // spaces them out across every worker.
    await ctx.http.holdHost(host, searchSpacingMs).catch(() => {});
  }
  if (LOGIN_PATH.test(new URL(response.url).pathname)) throw loginRequired(forum, 'redirected the search to its login page');
  if (response.body.trimStart().startsWith('<')) {
    throw permanent('upstream_bad_response', `${host}/search.json answered with an HTML page where JSON was expected: check that ${forum} is a Discourse forum (DISCOURSE_FORUMS) and opens without a login`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch (error) {
    throw permanent('upstream_bad_response', `${host}/search.json answered with a body that is not JSON: the forum may not be a Discourse forum; check DISCOURSE_FORUMS`, error);
  }
  return parseSearchResults(json, forum);
}

function explainSearchFailure(error: unknown, forum: string): unknown {
  if (!(error instanceof JobError)) return error;
  if (error.code === 'upstream_blocked' || error.code === 'upstream_login_required') {
    return loginRequired(forum, `refused the search (${error.upstream ? `HTTP ${error.upstream.status}` : error.code})`, error);
  }
  if (error.code === 'upstream_not_found') {
    return permanent('upstream_not_found', `${forum} has no /search.json (HTTP 404): it is not a Discourse forum or the address is wrong; fix DISCOURSE_FORUMS`, error);
  }
  return error;
}

function loginRequired(forum: string, what: string, cause?: unknown): JobError {
  return permanent(
    'upstream_login_required',
    `the Discourse forum ${forum} ${what}: it requires a login (or blocks this IP address); remove it from DISCOURSE_FORUMS or check that it opens in a private browser window`,
    cause,
  );
}

export function parseSearchResults(json: unknown, forum: string): SearchPage {
  const body = record(json);
  const grouped = record(body.grouped_search_result);
  const host = new URL(forum).host;
  // Post ids are per forum; the path keeps two forums under one host (example.com/a, example.com/b) apart.
  const forumKey = forum.replace(/^https?:\/\//, '');
  // An overloaded forum answers 200 with an empty result and this error (SearchController#show, extreme_load_error).
  const error = text(grouped.error);
  if (error) throw transient('upstream_unavailable', `${host} could not search right now ("${error}")`);
  if (!Array.isArray(body.posts)) {
    throw permanent('upstream_bad_response', `${host}/search.json has no "posts" list: the forum's search API changed or this is not a Discourse forum; check DISCOURSE_FORUMS`);
  }
  const topics = new Map(list(body.topics).map(record).map((topic) => [toNumber(topic.id), topic]));
  const posts = body.posts.map((raw): ScrapedPost => {
    const post = record(raw);
    const id = toNumber(post.id);
    const publishedAt = toDate(post.created_at);
    if (id === null || !publishedAt) throw permanent('upstream_bad_response', `${host}/search.json lists a post without an id or created_at: the search API changed`);
    const topicId = toNumber(post.topic_id);
    const postNumber = toNumber(post.post_number);
    const topic = topics.get(topicId) ?? {};
    const slug = text(topic.slug);
    return {
      externalId: `${forumKey}:${id}`,
      url: topicId === null ? `${forum}/p/${id}` : `${forum}/t/${slug ? `${slug}/` : ''}${topicId}/${postNumber ?? 1}`,
      author: text(post.username),
      title: text(topic.title) ?? (htmlToText(text(topic.fancy_title)) || null),
      text: htmlToText(text(post.blurb)),
      rating: toNumber(post.like_count),
      language: null,
      publishedAt,
      reply: null,
      extra: {
        forum,
        post_id: id,
        topic_id: topicId,
        post_number: postNumber,
        tags: list(topic.tags).map((tag) => (typeof tag === 'string' ? tag : text(record(tag).name))).filter(Boolean),
        excerpt_only: true,
      },
    };
  });
  return { posts, morePages: grouped.more_full_page_results === true };
}

/** The post's full text from /posts/<id>.json: its cooked HTML as text, else its raw markdown. */
export function fullPostText(json: unknown): string | null {
  const post = record(json);
  return htmlToText(text(post.cooked)) || text(post.raw);
}

async function withFullText(ctx: ScrapeContext, forum: string, posts: ScrapedPost[]): Promise<ScrapedPost[]> {
  const full: ScrapedPost[] = [];
  for (const post of posts) {
    try {
      const { json } = await ctx.http.getJson(`${forum}/posts/${post.extra.post_id}.json`, { signal: ctx.signal });
      const body = fullPostText(json);
      full.push(body ? { ...post, text: body, extra: { ...post.extra, excerpt_only: false } } : post);
    } catch (error) {
      // A post deleted or hidden since the search, or one that needs a login, still has its excerpt; anything
      // that may pass (rate limits, outages) fails the attempt so the job is retried with full texts.
      if (!(error instanceof JobError) || !error.permanent) throw error;
      ctx.log.warn('discourse_full_post_unreadable', { forum, post_id: post.extra.post_id, error });
      full.push(post);
    }
  }
  return full;
}
