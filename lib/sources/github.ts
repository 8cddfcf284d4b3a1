// GitHub issues and pull requests that mention the query, newest first, through the REST search API
// (GET /search/issues, API version 2022-11-28). Bodies are markdown and kept as such.
import { JobError, permanent } from '../errors.ts';
import type { HttpResponse } from '../http/client.ts';
import type { ScrapedPost } from '../model/post.ts';
import { linkWithRel, onOrigin } from '../scrape/link-header.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { list, record, text, toDate, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

const API_VERSION = '2022-11-28';
const MAX_PER_PAGE = 100;
// The search API serves only the first 1,000 results of a query and answers 422 to a page past them.
const SEARCH_RESULT_CAP = 1_000;
// GitHub counts the query without its qualifiers (repo:, is:, label:...) against this.
const MAX_QUERY_LENGTH = 256;
const QUALIFIER = /(?:^|\s)-?[a-z][a-z_-]*:(?:"[^"]*"|\S+)/gi;

export interface SearchResults {
  totalCount: number;
  incomplete: boolean;
  posts: ScrapedPost[];
}

export function createSource({ env }: SourceSetup): Source {
  return createGithubSource({ token: env.optional('GITHUB_TOKEN') });
}

export function createGithubSource({ token }: { token: string | null }): Source {
  return {
    name: 'github',
    defaultBaseUrl: 'https://api.github.com',
    description: 'GitHub issues and pull requests mentioning the query, newest first (REST search API)',
    settings: [
      {
        name: 'GITHUB_TOKEN',
        description: 'a GitHub token (no scopes needed for public repositories): raises the search limit from 10 to 30 requests a minute',
        secret: true,
      },
    ],
    // docs.github.com/en/rest/search/search#rate-limit (API 2022-11-28): 30 search requests a minute per user with
    // a token, 10 per IP address without; requests to one host go one at a time.
    rateLimit: { requests: token ? 30 : 10, perMs: 60_000, concurrency: 1 },
    missingSettings: () => null,
    validateQuery,
    scrape: (ctx) => scrapeIssues(ctx, token),
  };
}

export function validateQuery(query: string): string | null {
  const problem = queryProblem(query, { expected: 'the words to search GitHub issues and pull requests for, optionally with qualifiers such as "repo:owner/name"' });
  if (problem) return problem;
  const words = query.trim().replace(QUALIFIER, ' ').trim();
  if (words.length > MAX_QUERY_LENGTH) {
    return `query must be at most ${MAX_QUERY_LENGTH} characters without its qualifiers (GitHub's limit), got ${words.length}`;
  }
  return null;
}

async function* scrapeIssues(ctx: ScrapeContext, token: string | null): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  const perPage = Math.min(MAX_PER_PAGE, ctx.limit);
  // Created-time qualifiers bound the search to what this pass needs: newer than where it stops, and no newer than
  // where an earlier run was cut short. They also reach past the 1,000 results one search serves.
  const createdBefore = resumeTime(ctx.resumeFrom);
  const bounds = [
    ctx.since ? `created:>=${isoSeconds(ctx.since.publishedAt)}` : null,
    createdBefore ? `created:<=${createdBefore}` : null,
  ].filter((bound) => bound !== null);
  const q = [ctx.query.trim(), ...bounds].join(' ');
  let url: string | null = `${ctx.baseUrl}/search/issues?${new URLSearchParams({ q, sort: 'created', order: 'desc', per_page: String(perPage) })}`;
  let read = 0;

  for (let page = 1; url; page++) {
    const response = await fetchSearchPage(url, ctx, token);
    const results = parseSearchResults(response.json, response.url);
    read += results.posts.length;
    const capped = results.totalCount > SEARCH_RESULT_CAP;
    const reachable = Math.min(results.totalCount, SEARCH_RESULT_CAP, ctx.limit);
    const taken = await ctx.take(results.posts);
    const newestHere = results.posts[0]?.publishedAt;
    yield {
      posts: taken.posts,
      page,
      pagesPlanned: Math.max(1, Math.ceil(reachable / perPage)),
      meta: { total_count: results.totalCount, results_capped: capped, incomplete_results: results.incomplete },
      resumeAt: newestHere ? { created_before: isoSeconds(newestHere) } : null,
    };
    if (results.posts.length === 0 || !taken.more) break;
    if (read >= SEARCH_RESULT_CAP) {
      ctx.log.info('github_search_cap_reached', { total_count: results.totalCount, read });
      break;
    }
    const next = linkWithRel(response.headers['link'], 'next', response.url);
    url = next ? onOrigin(next, ctx.baseUrl) : null;
  }
}

/** GitHub's search qualifiers take times to the second, in UTC. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function resumeTime(resumeFrom: unknown): string | null {
  const value = record(resumeFrom).created_before;
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value) ? value : null;
}

async function fetchSearchPage(url: string, ctx: ScrapeContext, token: string | null): Promise<HttpResponse & { json: unknown }> {
  const options = {
    signal: ctx.signal,
    accept: 'application/vnd.github+json',
    headers: { 'x-github-api-version': API_VERSION, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  };
  // A 403 that reports a used-up quota (x-ratelimit-remaining: 0, or a secondary limit's Retry-After) is a wait
  // the client already handles; one that reaches here is a refusal.
  try {
    return await ctx.http.getJson(url, options);
  } catch (error) {
    if (!(error instanceof JobError)) throw error;
    if (error.code === 'upstream_login_required') throw tokenRefused(token, error);
    if (error.code !== 'upstream_blocked') throw error;
    throw permanent(
      'upstream_blocked',
      `GitHub refused the search (HTTP 403) without announcing a rate limit: ${
        token ? 'GITHUB_TOKEN may lack access or be suspended' : 'this IP address may be blocked'
      }; wait an hour, lower RATE_LIMIT_GITHUB${token ? '' : ' or set GITHUB_TOKEN'}`,
      error,
    );
  }
}

function tokenRefused(token: string | null, cause: JobError): JobError {
  if (!token) return cause;
  return permanent(
    'upstream_login_required',
    'GitHub refused GITHUB_TOKEN (HTTP 401): it is wrong, expired or revoked; create a new token (public repositories need no scopes) or unset GITHUB_TOKEN to search without one at 10 requests a minute',
    cause,
  );
}

export function parseSearchResults(json: unknown, pageUrl: string): SearchResults {
  const body = record(json);
  if (!Array.isArray(body.items)) throw formatChanged(pageUrl, 'the answer has no "items" array');
  return {
    totalCount: toNumber(body.total_count) ?? body.items.length,
    incomplete: body.incomplete_results === true,
    posts: body.items.map((item) => issueToPost(item, pageUrl)),
  };
}

export function issueToPost(raw: unknown, pageUrl: string): ScrapedPost {
  const item = record(raw);
  const id = toNumber(item.id);
  const url = text(item.html_url);
  const publishedAt = toDate(item.created_at);
  if (id === null || !url || !publishedAt) throw formatChanged(pageUrl, 'an item has no id, html_url or created_at');
  const reactions = record(item.reactions);
  return {
    externalId: String(id),
    url,
    author: text(record(item.user).login),
    title: text(item.title),
    text: (typeof item.body === 'string' ? item.body : '').replace(/\r\n?/g, '\n').trim(),
    rating: toNumber(reactions.total_count),
    language: null,
    publishedAt,
    reply: null,
    extra: {
      number: toNumber(item.number),
      state: text(item.state),
      comments: toNumber(item.comments),
      repository: repositoryOf(item),
      is_pull_request: item.pull_request !== undefined && item.pull_request !== null,
      labels: list(item.labels).flatMap((label) => text(record(label).name) ?? []),
    },
  };
}

/** "owner/name" from repository_url; results from before 2014 lack that field, so html_url is the fallback. */
function repositoryOf(item: Record<string, unknown>): string | null {
  const api = /\/repos\/([^/]+\/[^/]+)\/?$/.exec(text(item.repository_url) ?? '')?.[1];
  if (api) return api;
  return /^https?:\/\/[^/]+\/([^/]+\/[^/]+)\/(?:issues|pull|discussions)\//.exec(text(item.html_url) ?? '')?.[1] ?? null;
}

function formatChanged(pageUrl: string, what: string): JobError {
  const url = new URL(pageUrl);
  return permanent('upstream_bad_response', `GitHub's search answer from ${url.host}${url.pathname} could not be read (${what}): the API changed; update lib/sources/github.ts`);
}
