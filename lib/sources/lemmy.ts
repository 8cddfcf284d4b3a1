// Lemmy posts, through each configured instance's public search API (/api/v3/search, newest first). Instances
// federate, so one post can come back from several of them: it is kept once, under its ActivityPub id.
import { JobError, permanent } from '../errors.ts';
import type { ScrapedPost } from '../model/post.ts';
import { decodeEntities } from '../scrape/html-text.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { record, text, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

// The API refuses a larger `limit` (Lemmy 0.19, SearchForm: "limit max 50").
const MAX_PAGE_SIZE = 50;
const MAX_QUERY_LENGTH = 200;

export function createSource({ env }: SourceSetup): Source {
  const instances = env.httpOrigins('LEMMY_INSTANCES', 'instance addresses', 'https://lemmy.world');
  return {
    name: 'lemmy',
    defaultBaseUrl: 'https://lemmy.world',
    description: 'Lemmy posts that match the query, newest first, from one or more instances',
    settings: [
      { name: 'LEMMY_INSTANCES', description: 'Comma-separated instance addresses to search (default: SOURCE_BASE_URL_LEMMY, else https://lemmy.world)' },
    ],
    // Lemmy's default rate_limit.search: 60 searches per 600 s per IP (config/defaults.hjson, 0.18-0.19).
    rateLimit: { requests: 60, perMs: 600_000, concurrency: 1 },
    missingSettings: () => null,
    validateQuery,
    scrape: (ctx) => scrapeInstances(ctx, instances.length > 0 ? instances : [ctx.baseUrl]),
  };
}

export function validateQuery(query: string): string | null {
  return queryProblem(query, { expected: 'the words to search Lemmy posts for, such as "acme outage"', maxLength: MAX_QUERY_LENGTH });
}

/**
 * Instances are read one after another, each with a fair share of what the budget leaves, so one busy instance
 * cannot use it all; an instance left at its share counts as a run cut short, which the next run carries on.
 */
async function* scrapeInstances(ctx: ScrapeContext, instances: string[]): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  const seen = new Set<string>();
  let kept = 0;
  let pageNumber = 0;

  for (const [index, instance] of instances.entries()) {
    const share = Math.ceil((ctx.limit - kept) / (instances.length - index));
    // The page size stays the same from page to page: Lemmy pages by offset (page × limit).
    const pageSize = Math.min(MAX_PAGE_SIZE, share);
    let keptHere = 0;
    for (let page = 1; keptHere < share; page++) {
      const found = await searchPosts(ctx, instance, page, pageSize);
      const unseen = found.posts.filter((post) => !seen.has(post.externalId));
      for (const post of unseen) seen.add(post.externalId);
      const taken = await ctx.take(unseen, { atMost: share - keptHere });
      keptHere += taken.added;
      yield { posts: taken.posts, page: ++pageNumber, pagesPlanned: null, meta: { instances: instances.map((i) => new URL(i).host) } };
      if (taken.spent) return;
      if (found.listed < pageSize || !taken.more) break;
    }
    kept += keptHere;
  }
}

async function searchPosts(ctx: ScrapeContext, instance: string, page: number, pageSize: number): Promise<SearchPage> {
  const params = new URLSearchParams({ q: ctx.query.trim(), type_: 'Posts', sort: 'New', listing_type: 'All', limit: String(pageSize), page: String(page) });
  try {
    const { json } = await ctx.http.getJson(`${instance}/api/v3/search?${params}`, { signal: ctx.signal });
    return parseSearchResponse(json, instance);
  } catch (error) {
    throw explainFailure(error, instance);
  }
}

function explainFailure(error: unknown, instance: string): unknown {
  if (!(error instanceof JobError)) return error;
  if (error.code === 'upstream_login_required') {
    return permanent('upstream_login_required', `the Lemmy instance ${instance} is private (its search asked for a login): remove it from LEMMY_INSTANCES`, error);
  }
  if (error.code === 'upstream_not_found') {
    return permanent('upstream_not_found', `${instance} has no /api/v3/search (HTTP 404): it is not a Lemmy instance, or one too old or too new for API v3; fix LEMMY_INSTANCES`, error);
  }
  return error;
}

export interface SearchPage {
  posts: ScrapedPost[];
  /** Posts the page listed, deleted and removed ones included: a page shorter than asked for is the last. */
  listed: number;
}

export function parseSearchResponse(json: unknown, instance: string): SearchPage {
  const body = record(json);
  const instanceHost = new URL(instance).host;
  if (!Array.isArray(body.posts)) {
    throw permanent('upstream_bad_response', `${instanceHost}/api/v3/search has no "posts" list: the Lemmy API changed or this is not a Lemmy instance; check LEMMY_INSTANCES`);
  }
  const posts = body.posts.flatMap((raw): ScrapedPost[] => {
    const view = record(raw);
    const post = record(view.post);
    const creator = record(view.creator);
    const community = record(view.community);
    const counts = record(view.counts);
    const apId = text(post.ap_id);
    const publishedAt = lemmyDate(post.published);
    if (!apId || !publishedAt) {
      throw permanent('upstream_bad_response', `${instanceHost}/api/v3/search lists a post without ap_id or published: the Lemmy API changed`);
    }
    if (post.deleted === true || post.removed === true) return [];
    return [{
      externalId: apId,
      url: apId,
      author: federatedName(creator, instanceHost),
      // Lemmy 0.18 stored titles and bodies HTML-escaped ("&amp;", LemmyNet/lemmy#3987, 2023), and text that
      // arrived by federation can still carry "&lt;" or "&quot;" (lemmy#3938).
      title: decodeEntities(text(post.name)) || null,
      text: decodeEntities(text(post.body)),
      rating: toNumber(counts.score),
      language: null,
      publishedAt,
      reply: null,
      extra: {
        community: federatedName(community, instanceHost),
        comments: toNumber(counts.comments),
        upvotes: toNumber(counts.upvotes),
        downvotes: toNumber(counts.downvotes),
        instance: instanceHost,
        link_url: text(post.url),
        nsfw: post.nsfw === true,
      },
    }];
  });
  return { posts, listed: body.posts.length };
}

/** "name@host", the host taken from the actor's ActivityPub id (where it lives, not where it was found). */
function federatedName(actor: Record<string, unknown>, fallbackHost: string): string | null {
  const name = text(actor.name);
  if (!name) return null;
  let host = fallbackHost;
  try {
    host = new URL(text(actor.actor_id) ?? '').host || fallbackHost;
  } catch {
    // An actor without a usable actor_id is local to the instance that answered.
  }
  return `${name}@${host}`;
}

/** Lemmy 0.19 sends ISO times with "Z"; 0.18 and older send them without a zone, meaning UTC. */
export function lemmyDate(value: unknown): Date | null {
  const raw = text(value);
  if (!raw) return null;
  const zoned = /(?:[zZ]|[+-]\d{2}:?\d{2})$/.test(raw) ? raw : `${raw}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? null : date;
}
