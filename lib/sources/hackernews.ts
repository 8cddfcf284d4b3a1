// Hacker News stories and comments that mention the query, newest first, from the Algolia HN Search API.
import { permanent } from '../errors.ts';
import type { ScrapedPost } from '../model/post.ts';
import { htmlToText } from '../scrape/html-text.ts';
import { queryProblem } from '../scrape/query-checks.ts';
import { fromUnixSeconds, list, record, text, toDate, toNumber } from '../scrape/values.ts';
import type { ScrapeContext, ScrapedPage, Source, SourceSetup } from './types.ts';

const PAGE_SIZE = 100;
// Algolia refuses queries longer than 512 bytes.
const MAX_QUERY_BYTES = 512;

interface AlgoliaResponse {
  hits?: unknown;
  nbHits?: unknown;
}

export function createSource(_setup: SourceSetup): Source {
  return createHackerNewsSource({ pageSize: PAGE_SIZE });
}

export function createHackerNewsSource(options: { pageSize: number }): Source {
  return {
    name: 'hackernews',
    defaultBaseUrl: 'https://hn.algolia.com',
    description: 'Hacker News stories and comments that mention the query, newest first (Algolia HN Search API)',
    settings: [],
    // hn.algolia.com/api publishes 10,000 requests per hour per IP address; spread evenly that is 25 every 9 s.
    rateLimit: { requests: 25, perMs: 9_000, concurrency: 2 },
    missingSettings: () => null,
    validateQuery,
    scrape: (ctx) => scrapeHackerNews(ctx, options.pageSize),
  };
}

export function validateQuery(query: string): string | null {
  return queryProblem(query, { expected: 'the words to look for on Hacker News, such as "duckdb" or "acme cloud"', maxBytes: MAX_QUERY_BYTES });
}

/**
 * Pages through time windows rather than with `page=`: Algolia stops at 1,000 hits per query (nbPages x
 * hitsPerPage, as of 2024), and a window that ends at the oldest hit seen so far is not shifted by items posted
 * meanwhile. The window includes that oldest second, since hits sharing it may have been cut off; the ones
 * already seen are dropped. If a whole page falls into one second, the next window starts below it, skipping
 * the rest of that second: more than a page of matching items in one second is not worth a second mechanism.
 */
async function* scrapeHackerNews(ctx: ScrapeContext, pageSize: number): AsyncGenerator<ScrapedPage> {
  const problem = validateQuery(ctx.query);
  if (problem) throw permanent('invalid_query', problem);
  const hitsPerPage = Math.min(pageSize, ctx.limit);
  const sinceSeconds = ctx.since ? Math.floor(ctx.since.publishedAt.getTime() / 1000) : null;
  const seen = new Set<string>();
  // A window's upper bound is also where a run cut short in it resumes: the window is read again, whole.
  let upToSeconds: number | null = resumeSeconds(ctx.resumeFrom);
  let pagesPlanned: number | null = null;

  for (let page = 1; ; page++) {
    const url = searchUrl(ctx, hitsPerPage, sinceSeconds, upToSeconds);
    const response = await ctx.http.getJson<AlgoliaResponse>(url, { signal: ctx.signal });
    const hits = parseHits(response.json, response.url);
    if (page === 1) {
      const total = toNumber(response.json.nbHits);
      pagesPlanned = Math.max(1, Math.ceil(Math.min(ctx.limit, total ?? ctx.limit) / hitsPerPage));
    }
    const unseen = hits.filter((post) => !seen.has(post.externalId));
    for (const post of unseen) seen.add(post.externalId);
    const taken = await ctx.take(unseen);
    const lastPage = hits.length < hitsPerPage;
    yield { posts: taken.posts, page, pagesPlanned: lastPage || !taken.more ? page : pagesPlanned, resumeAt: upToSeconds === null ? null : { up_to_s: upToSeconds } };
    if (lastPage || !taken.more) break;
    const oldest = Math.floor(Math.min(...hits.map((post) => post.publishedAt.getTime())) / 1000);
    upToSeconds = unseen.length > 0 ? oldest : oldest - 1;
  }
}

function resumeSeconds(resumeFrom: unknown): number | null {
  const value = record(resumeFrom).up_to_s;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

function searchUrl(ctx: ScrapeContext, hitsPerPage: number, sinceSeconds: number | null, upToSeconds: number | null): string {
  const filters = [
    sinceSeconds !== null ? `created_at_i>=${sinceSeconds}` : null,
    upToSeconds !== null ? `created_at_i<=${upToSeconds}` : null,
  ].filter((filter) => filter !== null);
  const params = new URLSearchParams({ query: ctx.query.trim(), tags: '(story,comment)', hitsPerPage: String(hitsPerPage) });
  if (filters.length > 0) params.set('numericFilters', filters.join(','));
  return `${ctx.baseUrl}/api/v1/search_by_date?${params}`;
}

export function parseHits(body: unknown, responseUrl: string): ScrapedPost[] {
  const hits = record(body).hits;
  if (!Array.isArray(hits)) {
    throw permanent('upstream_bad_response', `${new URL(responseUrl).host} answered without a "hits" list: the HN Search API changed; update lib/sources/hackernews.ts`);
  }
  return hits.map((raw) => toPost(record(raw), responseUrl));
}

const ITEM_TYPES = ['story', 'comment', 'poll', 'pollopt', 'job'];

/**
 * Comments are titled "Re: <story title>" so a list of posts tells them from the story itself. Link stories
 * have no text of their own; their text is the address they link to.
 */
function toPost(hit: Record<string, unknown>, responseUrl: string): ScrapedPost {
  const id = text(hit.objectID);
  const publishedAt = fromUnixSeconds(hit.created_at_i) ?? toDate(hit.created_at);
  if (!id || !publishedAt) {
    throw permanent('upstream_bad_response', `${new URL(responseUrl).host} sent a hit without objectID or created_at: the HN Search API changed; update lib/sources/hackernews.ts`);
  }
  const tags = list(hit._tags);
  const type = ITEM_TYPES.find((tag) => tags.includes(tag)) ?? (hit.comment_text != null ? 'comment' : 'story');
  const storyTitle = text(hit.story_title);
  const title = type === 'comment' ? (storyTitle ? `Re: ${storyTitle}` : null) : text(hit.title);
  const linkUrl = text(hit.url) ?? text(hit.story_url);
  const body = htmlToText(text(hit.comment_text) ?? text(hit.story_text));
  return {
    externalId: id,
    url: `https://news.ycombinator.com/item?id=${encodeURIComponent(id)}`,
    author: text(hit.author),
    title,
    text: body || (type === 'comment' ? '' : linkUrl ?? title ?? ''),
    rating: toNumber(hit.points),
    language: null,
    publishedAt,
    reply: null,
    extra: {
      type,
      story_id: toNumber(hit.story_id) ?? (type === 'comment' ? null : toNumber(id)),
      parent_id: toNumber(hit.parent_id),
      num_comments: toNumber(hit.num_comments),
      link_url: linkUrl,
    },
  };
}
