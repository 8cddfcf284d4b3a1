// Reddit posts matching a search, newest first. With an app's client id and secret it reads the OAuth API
// (app-only token); without them it reads the public search feed, which lacks scores and full text.
// Anonymous JSON (www.reddit.com/search.json) answers 403 or an HTML page since 2026, so it is never called.
import { JobError, permanent } from '../errors.ts';
import type { HttpClient } from '../http/client.ts';
import type { ScrapedPost } from '../model/post.ts';
import { type FeedEntry, parseFeed } from '../scrape/feed.ts';
import { decodeEntities, htmlToText } from '../scrape/html-text.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { fromUnixSeconds, list, record, text, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

const PUBLIC_ORIGIN = 'https://www.reddit.com';
const API_PAGE_SIZE = 100;
const FEED_PAGE_SIZE = 100;
const MAX_QUERY_LENGTH = 512;
/** A token is renewed this long before Reddit says it expires, so no request carries one that lapses in flight. */
const TOKEN_MARGIN_MS = 60_000;

export function createSource({ env }: SourceSetup): Source {
  const clientId = env.optional('REDDIT_CLIENT_ID');
  const clientSecret = env.optional('REDDIT_CLIENT_SECRET');
  const wwwBaseUrl = env.httpUrl('REDDIT_WWW_BASE_URL') ?? PUBLIC_ORIGIN;
  const tokens = clientId && clientSecret ? new TokenCache({ clientId, clientSecret }, wwwBaseUrl) : null;
  const [unset, set] = clientId && !clientSecret ? ['REDDIT_CLIENT_SECRET', 'REDDIT_CLIENT_ID'] : clientSecret && !clientId ? ['REDDIT_CLIENT_ID', 'REDDIT_CLIENT_SECRET'] : [];
  return {
    name: 'reddit',
    defaultBaseUrl: 'https://oauth.reddit.com',
    description: 'Reddit posts matching a search, newest first (the OAuth API with credentials, else the public feed)',
    settings: [
      { name: 'REDDIT_CLIENT_ID', description: 'Client id of a Reddit app (https://www.reddit.com/prefs/apps); with the secret, posts come from the API with scores and full text' },
      { name: 'REDDIT_CLIENT_SECRET', description: 'Secret of that Reddit app; without both, the public search feed is read and posts are marked partial', secret: true },
      { name: 'REDDIT_WWW_BASE_URL', description: 'Origin of the token endpoint and of the public search feed; default https://www.reddit.com (SOURCE_BASE_URL_REDDIT moves the API, oauth.reddit.com)' },
    ],
    // Reddit's Data API Wiki (2023): 100 queries per minute per OAuth client id. The feed has no published
    // figure; 10 a minute keeps an anonymous reader clear of its bot defences.
    rateLimit: tokens ? { requests: 100, perMs: 60_000, concurrency: 1 } : { requests: 10, perMs: 60_000, concurrency: 1 },
    missingSettings: () =>
      unset
        ? `${unset} is not set while ${set} is: set both (from a "script" or "web" app at https://www.reddit.com/prefs/apps) to use the API, or neither to read the public search feed`
        : null,
    validateQuery,
    scrape: (ctx) => (tokens ? scrapeApi(ctx, tokens) : scrapeFeed(ctx, wwwBaseUrl)),
  };
}

export function validateQuery(query: string): string | null {
  return queryProblem(query, { expected: 'a Reddit search such as "ovhcloud" or "subreddit:sysadmin outage"', maxLength: MAX_QUERY_LENGTH, whose: " (Reddit's limit)" });
}

async function* scrapeApi(ctx: ScrapeContext, tokens: TokenCache): AsyncGenerator<ScrapedPage> {
  const query = checkedQuery(ctx.query);
  let after: string | null = null;
  for (let page = 1; ; page++) {
    const params = new URLSearchParams({ q: query, sort: 'new', type: 'link', limit: String(API_PAGE_SIZE), raw_json: '1' });
    if (after) params.set('after', after);
    const { posts, after: next } = parseListing(await searchWithToken(ctx, tokens, `${ctx.baseUrl}/search?${params}`));
    const taken = await ctx.take(posts);
    yield { posts: taken.posts, page, pagesPlanned: null };
    if (!next || next === after || posts.length === 0 || !taken.more) break;
    after = next;
  }
}

async function* scrapeFeed(ctx: ScrapeContext, wwwBaseUrl: string): AsyncGenerator<ScrapedPage> {
  const query = checkedQuery(ctx.query);
  const seen = new Set<string>();
  let after: string | null = null;
  for (let page = 1; ; page++) {
    const params = new URLSearchParams({ q: query, sort: 'new', limit: String(FEED_PAGE_SIZE) });
    if (after) params.set('after', after);
    const response = await withUserAgentHint(() =>
      ctx.http.getText(`${wwwBaseUrl}/search.rss?${params}`, { signal: ctx.signal, accept: 'application/atom+xml, application/xml;q=0.9, */*;q=0.1' }),
    );
    const posts = parseSearchFeed(response.body, response.url).filter((post) => !seen.has(post.externalId));
    for (const post of posts) seen.add(post.externalId);
    const taken = await ctx.take(posts);
    yield { posts: taken.posts, page, pagesPlanned: null };
    // The feed carries no "after" cursor; the last entry's fullname is one. An answer with nothing new is the end.
    if (posts.length === 0 || !taken.more) break;
    after = posts[posts.length - 1]!.externalId;
  }
}

function checkedQuery(query: string): string {
  const problem = validateQuery(query);
  if (problem) throw permanent('invalid_query', problem);
  return query.trim();
}

/** A Listing of t3 (post) children and the cursor to the next page. */
export function parseListing(json: unknown): { posts: ScrapedPost[]; after: string | null } {
  const data = record(record(json).data);
  if (!Array.isArray(data.children)) {
    throw permanent('upstream_bad_response', 'Reddit answered the search with JSON that is not a Listing (no data.children): the API changed; update lib/sources/reddit.ts');
  }
  const posts = list(data.children).flatMap((child) => {
    const c = record(child);
    const post = c.kind === 't3' ? fromApiPost(record(c.data)) : null;
    return post ? [post] : [];
  });
  return { posts, after: text(data.after) };
}

function fromApiPost(p: Record<string, unknown>): ScrapedPost | null {
  const name = text(p.name);
  const permalink = text(p.permalink);
  const publishedAt = fromUnixSeconds(p.created_utc);
  if (!name || !permalink || !publishedAt) return null;
  // raw_json=1 stops Reddit escaping &, < and > in these fields; older answers (and mirrors) still escape them.
  const link = text(p.url);
  return {
    externalId: name,
    url: `${PUBLIC_ORIGIN}${permalink}`,
    author: text(p.author),
    title: decodeEntities(text(p.title)) || null,
    text: decodeEntities(text(p.selftext)).replace(/[ \t]+(?=\n|$)/g, ''),
    rating: toNumber(p.score),
    language: null,
    publishedAt,
    reply: null,
    extra: {
      subreddit: text(p.subreddit),
      num_comments: toNumber(p.num_comments),
      url: link ? decodeEntities(link) : null,
      over_18: typeof p.over_18 === 'boolean' ? p.over_18 : null,
      partial: false,
    },
  };
}

/** Posts of Reddit's Atom search feed, newest first; score and comment counts are not in it. */
export function parseSearchFeed(xml: string, feedUrl: string): ScrapedPost[] {
  const feed = parseFeed(xml);
  if (!feed) {
    const url = new URL(feedUrl);
    const blocked = /blocked|whoa there|too many requests|network security/i.test(xml);
    throw permanent(
      blocked ? 'upstream_blocked' : 'upstream_bad_response',
      blocked
        ? `Reddit answered ${url.host}${url.pathname} with a block page instead of the search feed: it takes this worker for a bot; set REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET to use the API, or lower RATE_LIMIT_REDDIT`
        : `Reddit answered ${url.host}${url.pathname} with something that is not a feed: the feed changed; check REDDIT_WWW_BASE_URL and lib/sources/reddit.ts`,
    );
  }
  return feed.entries.flatMap((entry) => {
    const post = entry.id?.startsWith('t3_') ? fromFeedEntry(entry) : null;
    return post ? [post] : [];
  });
}

function fromFeedEntry(entry: FeedEntry): ScrapedPost | null {
  if (!entry.id || !entry.link || !entry.publishedAt) return null;
  const { body, link } = splitFeedContent(entry.html ?? '');
  const subreddit = entry.categories[0]?.term ?? null;
  return {
    externalId: entry.id,
    url: entry.link,
    author: entry.author?.replace(/^\/?u\//, '') ?? null,
    title: entry.title,
    text: body,
    rating: null,
    language: null,
    publishedAt: entry.publishedAt,
    reply: null,
    extra: { subreddit, num_comments: null, url: link, over_18: null, partial: true },
  };
}

/**
 * An entry's content is the post body (a <div class="md">, self posts only) followed by a "submitted by /u/x
 * [link] [comments]" footer whose [link] anchor holds the link target.
 */
function splitFeedContent(html: string): { body: string; link: string | null } {
  const md = /<div class="md">([\s\S]*?)<\/div>\s*<!-- SC_ON -->/.exec(html)?.[1] ?? /<div class="md">([\s\S]*)<\/div>/.exec(html)?.[1] ?? '';
  const link = /<a href="([^"]+)">\[link\]<\/a>/.exec(html)?.[1];
  return { body: htmlToText(md), link: link ? decodeEntities(link) : null };
}

async function searchWithToken(ctx: ScrapeContext, tokens: TokenCache, url: string): Promise<unknown> {
  const send = (token: string) =>
    withUserAgentHint(() => ctx.http.getJson(url, { signal: ctx.signal, headers: { authorization: `bearer ${token}` } }));
  const cached = await tokens.get(ctx.http, ctx.signal);
  try {
    return (await send(cached)).json;
  } catch (error) {
    if (!isLoginRequired(error)) throw error;
    // A token can be revoked before it expires: one fresh token, then the 401 stands.
    tokens.forget();
  }
  const renewed = await tokens.get(ctx.http, ctx.signal);
  try {
    return (await send(renewed)).json;
  } catch (error) {
    if (!isLoginRequired(error)) throw error;
    throw permanent('upstream_login_required', 'Reddit refused a fresh app token for the search (HTTP 401): check that the app of REDDIT_CLIENT_ID is not suspended and that REDDIT_CLIENT_SECRET is current', error);
  }
}

const isLoginRequired = (error: unknown) => error instanceof JobError && error.code === 'upstream_login_required';

/** Reddit answers 403 to clients without a descriptive User-Agent, as well as to blocked addresses. */
async function withUserAgentHint<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof JobError) || error.code !== 'upstream_blocked') throw error;
    throw permanent(
      'upstream_blocked',
      `${error.message}; Reddit also refuses generic User-Agents: set HTTP_USER_AGENT to something like "server:vibe-tracker:0.1 (by /u/<your reddit user>)"`,
      error,
    );
  }
}

interface Token {
  value: string;
  expiresAt: number;
}

/** One app-only token per process, shared by every job until shortly before it expires. */
class TokenCache {
  private current: Token | null = null;

  constructor(
    private readonly credentials: { clientId: string; clientSecret: string },
    private readonly wwwBaseUrl: string,
  ) {}

  async get(http: HttpClient, signal: AbortSignal): Promise<string> {
    if (!this.current || this.current.expiresAt <= Date.now()) this.current = await this.request(http, signal);
    return this.current.value;
  }

  forget(): void {
    this.current = null;
  }

  private async request(http: HttpClient, signal: AbortSignal): Promise<Token> {
    const { clientId, clientSecret } = this.credentials;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    let response;
    try {
      response = await withUserAgentHint(() =>
        http.getJson(`${this.wwwBaseUrl}/api/v1/access_token`, {
          signal,
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        }),
      );
    } catch (error) {
      if (!isLoginRequired(error)) throw error;
      throw permanent('upstream_login_required', 'Reddit refused the app credentials (HTTP 401 from /api/v1/access_token): check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET against https://www.reddit.com/prefs/apps', error);
    }
    const json = record(response.json);
    const value = text(json.access_token);
    if (!value) {
      const reason = text(json.error) ?? 'no access_token in the answer';
      throw permanent('upstream_login_required', `Reddit gave no app token (${reason}): check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET against https://www.reddit.com/prefs/apps`);
    }
    const lifetimeMs = (toNumber(json.expires_in) ?? 3600) * 1000;
    return { value, expiresAt: Date.now() + lifetimeMs - Math.min(TOKEN_MARGIN_MS, lifetimeMs / 2) };
  }
}
