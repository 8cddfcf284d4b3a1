// Bluesky posts, through app.bsky.feed.searchPosts (newest first). The search needs a logged-in account: a
// session is created once per worker process with an app password, then reused and refreshed as it expires.
import { JobError, permanent } from '../errors.ts';
import type { ScrapedPost } from '../model/post.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { list, record, text, toDate, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

// The searchPosts lexicon allows 1-100 posts a page.
const MAX_PAGE_SIZE = 100;
const MAX_QUERY_LENGTH = 300;
/** An access token this close to its expiry is renewed before use rather than sent to be refused. */
const EXPIRY_MARGIN_MS = 60_000;
const APP_PASSWORDS_PAGE = 'https://bsky.app/settings/app-passwords';

interface Credentials {
  handle: string;
  password: string;
}

interface Session {
  accessJwt: string;
  refreshJwt: string;
  /** From the access token's `exp` claim; null when it cannot be read. */
  expiresAt: number | null;
}

export interface SearchPage {
  posts: ScrapedPost[];
  cursor: string | null;
}

export function createSource({ env }: SourceSetup): Source {
  const handle = env.optional('BLUESKY_HANDLE')?.replace(/^@/, '') ?? null;
  const password = env.optional('BLUESKY_APP_PASSWORD');
  const sessions = handle && password ? new SessionCache({ handle, password }) : null;
  return {
    name: 'bluesky',
    defaultBaseUrl: 'https://bsky.social',
    description: 'Bluesky posts that match the query, newest first (needs a Bluesky account)',
    settings: [
      { name: 'BLUESKY_HANDLE', description: 'Handle of the Bluesky account the search runs as, e.g. acme-feedback.bsky.social', required: true },
      { name: 'BLUESKY_APP_PASSWORD', description: `An app password of that account (${APP_PASSWORDS_PAGE}), not its login password`, required: true, secret: true },
    ],
    // Bluesky's published limits: 3,000 requests per 5 minutes per IP address; createSession has its own 30 per
    // 5 minutes per account, which caching the session keeps far away (docs.bsky.app, "Rate Limits", 2024).
    rateLimit: { requests: 3_000, perMs: 300_000, concurrency: 1 },
    missingSettings: () => {
      const missing = [handle ? null : 'BLUESKY_HANDLE', password ? null : 'BLUESKY_APP_PASSWORD'].filter(Boolean);
      if (missing.length === 0) return null;
      return `set ${missing.join(' and ')}: Bluesky's search needs a logged-in account (the handle, and an app password from ${APP_PASSWORDS_PAGE})`;
    },
    validateQuery,
    scrape: (ctx) => scrapeSearch(ctx, sessions),
  };
}

export function validateQuery(query: string): string | null {
  return queryProblem(query, { expected: 'the words to search Bluesky posts for, such as "acme outage"', maxLength: MAX_QUERY_LENGTH });
}

async function* scrapeSearch(ctx: ScrapeContext, sessions: SessionCache | null): AsyncGenerator<ScrapedPage> {
  if (!sessions) throw permanent('upstream_login_required', 'set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD: Bluesky\'s search needs a logged-in account');
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  // `until` is exclusive; a second past this page's newest post reads that page, and all older, again.
  const until = resumeUntil(ctx.resumeFrom);
  let cursor: string | null = null;
  let wanted = ctx.limit;
  for (let page = 1; ; page++) {
    const found: SearchPage = await searchPage(ctx, sessions, cursor, Math.min(MAX_PAGE_SIZE, Math.max(1, wanted)), until);
    const taken = await ctx.take(found.posts);
    wanted -= taken.added;
    const newestHere = found.posts[0]?.publishedAt;
    // Search pages often hold fewer posts than asked for, so how many pages a limit takes is not known.
    yield { posts: taken.posts, page, pagesPlanned: null, resumeAt: newestHere ? { until: new Date(newestHere.getTime() + 1_000).toISOString() } : null };
    if (!found.cursor || found.posts.length === 0 || !taken.more) break;
    cursor = found.cursor;
  }
}

function resumeUntil(resumeFrom: unknown): string | null {
  const value = record(resumeFrom).until;
  return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : null;
}

async function searchPage(ctx: ScrapeContext, sessions: SessionCache, cursor: string | null, size: number, until: string | null): Promise<SearchPage> {
  const params = new URLSearchParams({ q: ctx.query.trim(), sort: 'latest', limit: String(size) });
  if (until) params.set('until', until);
  if (cursor) params.set('cursor', cursor);
  const url = `${ctx.baseUrl}/xrpc/app.bsky.feed.searchPosts?${params}`;
  let session = await sessions.current(ctx);
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await ctx.http.getJson(url, { signal: ctx.signal, headers: { authorization: `Bearer ${session.accessJwt}` } });
      return parseSearchResponse(response.json);
    } catch (error) {
      if (!(error instanceof JobError) || error.code !== 'upstream_login_required') throw error;
      if (attempt > 1) {
        throw permanent('upstream_login_required', `Bluesky refused the search even with a fresh session for BLUESKY_HANDLE "${sessions.handle}": check that the account is active (not deactivated or suspended)`, error);
      }
      // An access token lives about two hours; a refused one is renewed once before giving up.
      session = await sessions.renew(ctx, session);
    }
  }
}

export function parseSearchResponse(json: unknown): SearchPage {
  const body = record(json);
  if (!Array.isArray(body.posts)) {
    throw permanent('upstream_bad_response', 'Bluesky\'s searchPosts answer has no "posts" list: the API changed; update lib/sources/bluesky.ts');
  }
  const posts = body.posts.map((raw): ScrapedPost => {
    const view = record(raw);
    const author = record(view.author);
    const post = record(view.record);
    const uri = text(view.uri);
    const did = text(author.did);
    const publishedAt = sortDate(post.createdAt, view.indexedAt);
    if (!uri || !did || !publishedAt) {
      throw permanent('upstream_bad_response', 'Bluesky\'s searchPosts lists a post without uri, author did or dates: the API changed; update lib/sources/bluesky.ts');
    }
    const handle = text(author.handle);
    // "handle.invalid" marks an account whose handle no longer resolves; its profile is still reachable by DID.
    const profile = handle && handle !== 'handle.invalid' ? handle : did;
    return {
      externalId: uri,
      url: `https://bsky.app/profile/${profile}/post/${uri.split('/').pop()}`,
      author: profile,
      title: null,
      text: text(post.text) ?? '',
      rating: toNumber(view.likeCount),
      language: text(list(post.langs)[0]),
      publishedAt,
      reply: null,
      extra: {
        did,
        display_name: text(author.displayName),
        replies: toNumber(view.replyCount),
        reposts: toNumber(view.repostCount),
      },
    };
  });
  return { posts, cursor: text(body.cursor) };
}

/**
 * createdAt is set by the poster's app and can lie in the future; Bluesky itself sorts by the earlier of
 * createdAt and indexedAt, and so does this, or one future-dated post would hold back every later incremental run.
 */
function sortDate(createdAt: unknown, indexedAt: unknown): Date | null {
  const created = toDate(createdAt);
  const indexed = toDate(indexedAt);
  if (created && indexed) return created < indexed ? created : indexed;
  return created ?? indexed;
}

/** One session per upstream (base URL) for the whole worker process, shared by every job. */
class SessionCache {
  /** A login or renewal under way, and the session it replaces: every job needing a session meanwhile waits for it. */
  private readonly pending = new Map<string, { session: Promise<Session>; replaces: Session | null }>();
  private readonly settled = new Map<string, Session>();

  constructor(private readonly credentials: Credentials) {}

  get handle(): string {
    return this.credentials.handle;
  }

  async current(ctx: ScrapeContext): Promise<Session> {
    const known = this.pending.get(ctx.baseUrl)?.session ?? this.settled.get(ctx.baseUrl);
    const session = await (known ?? this.track(ctx.baseUrl, this.create(ctx), null));
    const expiring = session.expiresAt !== null && session.expiresAt - Date.now() < EXPIRY_MARGIN_MS;
    return expiring ? this.renew(ctx, session) : session;
  }

  /** Refreshes `stale`, or logs in again when the refresh token is refused too, unless another job already did. */
  renew(ctx: ScrapeContext, stale: Session): Promise<Session> {
    const inFlight = this.pending.get(ctx.baseUrl);
    if (inFlight?.replaces === stale) return inFlight.session;
    const latest = this.settled.get(ctx.baseUrl);
    if (latest && latest !== stale) return Promise.resolve(latest);
    const renewed = this.refresh(ctx, stale).catch((error: unknown) => {
      if (error instanceof JobError && error.permanent) return this.create(ctx);
      throw error;
    });
    return this.track(ctx.baseUrl, renewed, stale);
  }

  private track(baseUrl: string, session: Promise<Session>, replaces: Session | null): Promise<Session> {
    const entry = { session, replaces };
    this.pending.set(baseUrl, entry);
    session
      .then((value) => this.settled.set(baseUrl, value), () => this.settled.delete(baseUrl))
      .finally(() => {
        if (this.pending.get(baseUrl) === entry) this.pending.delete(baseUrl);
      });
    return session;
  }

  private async create(ctx: ScrapeContext): Promise<Session> {
    try {
      const { json } = await ctx.http.getJson(`${ctx.baseUrl}/xrpc/com.atproto.server.createSession`, {
        signal: ctx.signal,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identifier: this.credentials.handle, password: this.credentials.password }),
      });
      return readSession(json, 'createSession');
    } catch (error) {
      if (error instanceof JobError && error.code === 'upstream_login_required') {
        throw permanent(
          'upstream_login_required',
          `Bluesky refused the login of BLUESKY_HANDLE "${this.credentials.handle}" (createSession answered HTTP 401): check BLUESKY_HANDLE and set BLUESKY_APP_PASSWORD to a valid app password (${APP_PASSWORDS_PAGE})`,
          error,
        );
      }
      throw error;
    }
  }

  private async refresh(ctx: ScrapeContext, stale: Session): Promise<Session> {
    const { json } = await ctx.http.getJson(`${ctx.baseUrl}/xrpc/com.atproto.server.refreshSession`, {
      signal: ctx.signal,
      method: 'POST',
      headers: { authorization: `Bearer ${stale.refreshJwt}` },
    });
    return readSession(json, 'refreshSession');
  }
}

function readSession(json: unknown, call: string): Session {
  const body = record(json);
  const accessJwt = text(body.accessJwt);
  const refreshJwt = text(body.refreshJwt);
  if (!accessJwt || !refreshJwt) {
    throw permanent('upstream_bad_response', `Bluesky's ${call} answer has no accessJwt or refreshJwt: the API changed; update lib/sources/bluesky.ts`);
  }
  return { accessJwt, refreshJwt, expiresAt: jwtExpiry(accessJwt) };
}

/** The `exp` claim of a JWT in milliseconds; tokens are only read here, never verified (the server does that). */
export function jwtExpiry(jwt: string): number | null {
  try {
    const claims = record(JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')));
    const exp = toNumber(claims.exp);
    return exp === null ? null : exp * 1000;
  } catch {
    return null;
  }
}
