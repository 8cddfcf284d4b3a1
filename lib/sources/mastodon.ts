// Mastodon statuses about the query, from one or more instances: the hashtag timeline (public) and, with a user
// token, the full-text status search of the token's own instance. The same status federates to many instances
// under many local ids, so statuses are told apart by their ActivityPub `uri`.
import { JobError, permanent } from '../errors.ts';
import type { HttpResponse } from '../http/client.ts';
import type { ScrapedPost } from '../model/post.ts';
import { htmlToText } from '../scrape/html-text.ts';
import { linkWithRel, onOrigin } from '../scrape/link-header.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { list, record, text, toDate, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

// Both endpoints serve at most 40 statuses a page.
const MAX_PER_PAGE = 40;
const MAX_QUERY_LENGTH = 200;

export interface MastodonOptions {
  /** Instance origins; empty means the source's base URL alone. */
  instances: string[];
  /** A user token of an account on the first instance; sent to that instance only. */
  token: string | null;
}

interface Feed {
  instance: string;
  kind: 'search' | 'hashtag';
  url: string;
  authorization: string | null;
}

export function createSource({ env }: SourceSetup): Source {
  const instances = env.httpOrigins('MASTODON_INSTANCES', 'instance origins', 'https://mastodon.social,https://fosstodon.org', { assumeHttps: true });
  return createMastodonSource({ instances, token: env.optional('MASTODON_ACCESS_TOKEN') });
}

export function createMastodonSource(options: MastodonOptions): Source {
  return {
    name: 'mastodon',
    defaultBaseUrl: 'https://mastodon.social',
    description: 'Mastodon statuses with the query as a hashtag, and full-text search results with a token, across instances',
    settings: [
      { name: 'MASTODON_INSTANCES', description: 'comma-separated instance origins to read (default: https://mastodon.social)' },
      {
        name: 'MASTODON_ACCESS_TOKEN',
        description: 'a user token (scope read:search) of an account on the first instance: adds its full-text status search to the hashtag timelines',
        secret: true,
      },
    ],
    // docs.joinmastodon.org/api/rate-limits (2024): 300 requests per 5 minutes per account, or per IP address
    // without a token, on every endpoint; answered with 429 and x-ratelimit-* headers when used up.
    rateLimit: { requests: 300, perMs: 300_000, concurrency: 1 },
    missingSettings: () => null,
    validateQuery: (query) => validateQuery(query, options.token !== null),
    scrape: (ctx) => scrapeStatuses(ctx, options),
  };
}

export function validateQuery(query: string, canSearch: boolean): string | null {
  const problem = queryProblem(query, { expected: 'the words or hashtag to look for on Mastodon, such as "vibe tracker" or "#vibetracker"', maxLength: MAX_QUERY_LENGTH });
  if (problem) return problem;
  const q = query.trim();
  if (!hashtagOf(q) && !canSearch) {
    return `query "${q}" has no letters or digits to use as a hashtag, and full-text search needs a token: use a word as the query, or set MASTODON_ACCESS_TOKEN`;
  }
  return null;
}

/** The hashtag a query stands for: "Vibe Tracker!" and "#vibe-tracker" become "VibeTracker" and "vibetracker". */
export function hashtagOf(query: string): string {
  return query.normalize('NFC').replace(/[^\p{L}\p{M}\p{N}_]+/gu, '');
}

async function* scrapeStatuses(ctx: ScrapeContext, options: MastodonOptions): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query, options.token !== null);
  if (problem) throw permanent('invalid_query', problem);
  const instances = options.instances.length > 0 ? options.instances : [ctx.baseUrl];
  const hashtag = hashtagOf(ctx.query.trim());
  const perPage = Math.min(MAX_PER_PAGE, ctx.limit);
  const feeds: Feed[] = instances.flatMap((instance, index) => {
    const authorization = index === 0 && options.token ? `Bearer ${options.token}` : null;
    const search = `${instance}/api/v2/search?${new URLSearchParams({ q: ctx.query.trim(), type: 'statuses', limit: String(perPage) })}`;
    const timeline = `${instance}/api/v1/timelines/tag/${encodeURIComponent(hashtag)}?limit=${perPage}`;
    return [
      ...(authorization ? [{ instance, kind: 'search' as const, url: search, authorization }] : []),
      ...(hashtag ? [{ instance, kind: 'hashtag' as const, url: timeline, authorization }] : []),
    ];
  });
  const meta = { instances: instances.map((instance) => new URL(instance).host), hashtag: hashtag || null, full_text_search: options.token !== null };
  const seen = new Set<string>();
  let page = 0;

  // Feeds take turns a page at a time, so a busy hashtag on one instance cannot use up the limit alone.
  while (feeds.length > 0) {
    for (const feed of [...feeds]) {
      const response = await fetchFeed(feed, ctx);
      const statuses = feed.kind === 'search' ? record(response.json).statuses : response.json;
      if (!Array.isArray(statuses)) throw formatChanged(response.url, feed.kind === 'search' ? 'the answer has no "statuses" array' : 'the answer is not an array');
      const host = new URL(feed.instance).host;
      const unseen = statuses.map((status) => statusToPost(status, host, response.url)).filter((post) => !seen.has(post.externalId));
      for (const post of unseen) seen.add(post.externalId);
      const taken = await ctx.take(unseen);
      yield { posts: taken.posts, page: ++page, pagesPlanned: null, meta };
      if (taken.spent) return;
      const next = statuses.length === 0 || !taken.more ? null : nextPage(feed, response, statuses);
      // A server that ignores max_id would hand back the same page for ever.
      if (next && next !== feed.url) feed.url = next;
      else feeds.splice(feeds.indexOf(feed), 1);
    }
  }
}

/**
 * Timelines say where the next page is in a Link header (and leave it out after the last page); the search
 * answer has no Link header but takes max_id, which it turns into "before the time of that id".
 */
function nextPage(feed: Feed, response: HttpResponse, statuses: unknown[]): string | null {
  if (feed.kind === 'hashtag') {
    const next = linkWithRel(response.headers['link'], 'next', response.url);
    return next ? onOrigin(next, feed.instance) : null;
  }
  const lastId = record(statuses.at(-1)).id;
  if (typeof lastId !== 'string' && typeof lastId !== 'number') return null;
  const url = new URL(feed.url);
  url.searchParams.set('max_id', String(lastId));
  return url.href;
}

async function fetchFeed(feed: Feed, ctx: ScrapeContext): Promise<HttpResponse & { json: unknown }> {
  try {
    return await ctx.http.getJson(feed.url, {
      signal: ctx.signal,
      headers: feed.authorization ? { authorization: feed.authorization } : {},
    });
  } catch (error) {
    if (!(error instanceof JobError)) throw error;
    const host = new URL(feed.instance).host;
    if (error.code === 'upstream_login_required') {
      throw permanent(
        'upstream_login_required',
        feed.authorization
          ? `${host} refused MASTODON_ACCESS_TOKEN (HTTP 401): it is wrong or revoked, or belongs to an account on another server (it is sent only to the first of MASTODON_INSTANCES); create a new one with the read:search scope under Preferences > Development, or unset it`
          : `${host} shows its hashtag timelines only to signed-in users (HTTP 401): put an instance that does first in MASTODON_INSTANCES with MASTODON_ACCESS_TOKEN set to a token of an account there, or remove ${host} from MASTODON_INSTANCES`,
        error,
      );
    }
    if (error.code === 'upstream_bad_response' && feed.kind === 'hashtag' && !feed.authorization) {
      // Mastodon answers 422 "This method requires an authenticated user" when an instance hides timelines from visitors.
      throw permanent(
        'upstream_bad_response',
        `${error.message}. If ${host} shows its hashtag timelines only to signed-in users, put it first in MASTODON_INSTANCES with MASTODON_ACCESS_TOKEN set to a token of an account there, or remove it from MASTODON_INSTANCES`,
        error,
      );
    }
    throw error;
  }
}

export function statusToPost(raw: unknown, instanceHost: string, pageUrl: string): ScrapedPost {
  const outer = record(raw);
  // A boost wraps the boosted status, which is the post worth storing.
  const status = outer.reblog && typeof outer.reblog === 'object' ? record(outer.reblog) : outer;
  const uri = text(status.uri);
  const publishedAt = toDate(status.created_at);
  if (!uri || !publishedAt) throw formatChanged(pageUrl, 'a status has no uri or created_at');
  const favourites = toNumber(status.favourites_count);
  const reblogs = toNumber(status.reblogs_count);
  return {
    externalId: uri,
    url: text(status.url) ?? uri,
    author: text(record(status.account).acct),
    title: null,
    text: htmlToText(typeof status.content === 'string' ? status.content : ''),
    // Favourites and boosts are Mastodon's two ways to approve of a post. Both are counted as the answering
    // instance knows them, so a federated copy may lag the origin's counts.
    rating: favourites === null && reblogs === null ? null : (favourites ?? 0) + (reblogs ?? 0),
    language: text(status.language),
    publishedAt,
    reply: null,
    extra: {
      instance: instanceHost,
      replies_count: toNumber(status.replies_count),
      reblogs_count: reblogs,
      favourites_count: favourites,
      tags: list(status.tags).flatMap((tag) => text(record(tag).name) ?? []),
      content_warning: text(status.spoiler_text),
    },
  };
}

function formatChanged(pageUrl: string, what: string): JobError {
  const url = new URL(pageUrl);
  return permanent('upstream_bad_response', `the Mastodon answer from ${url.host}${url.pathname} could not be read (${what}): the API changed or this is not a Mastodon server; check MASTODON_INSTANCES`);
}
