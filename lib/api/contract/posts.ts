// The /posts routes as the API promises them; lib/api/posts.ts serves them.
import { STATS_GROUPS, STATS_INTERVALS } from '../../db/post-stats.ts';
import { ApiError } from '../../errors.ts';
import { SENTIMENT_LABELS } from '../../model/post.ts';
import { choiceParam, commaList, integerParam, opaqueParam, postSourceList, textParam, timeParam } from './params.ts';
import { route } from './route.ts';
import { ref } from './shapes.ts';

export const SENTIMENT_CHOICES = [...SENTIMENT_LABELS, 'unscored'] as const;

/** The filters every /posts route takes, in the order they are checked. */
export const POST_FILTER = {
  source: postSourceList('sources, comma-separated; also a legacy-<name> of imported posts'),
  query: textParam({ trim: false, description: 'the tracked query the posts were scraped for' }),
  q: textParam({ trim: true, description: 'full-text search in title and text' }),
  sentiment: commaList({
    description: 'sentiment labels, comma-separated; unscored for posts no scorer judged',
    codes: (name) => [`invalid_${name}`],
    items: () => ({ type: 'string', enum: [...SENTIMENT_CHOICES] }),
    item(entry, name) {
      if (!(SENTIMENT_CHOICES as readonly string[]).includes(entry)) {
        throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be one or more of ${SENTIMENT_CHOICES.join(', ')}, comma-separated`);
      }
      return entry as (typeof SENTIMENT_CHOICES)[number];
    },
  }),
  rating: commaList({
    description: "the upstream's ratings, comma-separated (Trustpilot stars are 1 to 5)",
    codes: (name) => [`invalid_${name}`],
    items: () => ({ type: 'integer', minimum: 0, maximum: 9_999_999 }),
    item(entry, name) {
      if (!/^\d{1,7}$/.test(entry)) throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be one or more whole numbers, comma-separated (Trustpilot stars are 1 to 5)`);
      return Number(entry);
    },
  }),
  from: timeParam('published at or after; a date alone is midnight UTC'),
  to: timeParam('published before'),
};

export const listPosts = route({
  method: 'get',
  path: '/posts',
  role: 'read',
  tag: 'posts',
  summary: 'Posts, newest first, filtered; keyset pages through `next`',
  query: {
    ...POST_FILTER,
    limit: integerParam({ min: 1, max: 200, default: 50, description: 'posts a page' }),
    before: opaqueParam({ code: 'invalid_cursor', expected: 'the `next` value of a previous /posts page', maxLength: 200, description: 'the `next` of the page before' }),
  },
  responses: { 200: { description: 'a page of posts', json: ref('PostPage') } },
  errors: ['invalid_range', 'busy'],
});

export const exportPosts = route({
  method: 'get',
  path: '/posts/export',
  role: 'read',
  tag: 'posts',
  summary: 'Every post the filters select, streamed as CSV or NDJSON',
  query: {
    format: choiceParam(['csv', 'ndjson'], { default: 'csv', expected: 'csv or ndjson', description: 'CSV (RFC 4180, formula-safe) or one JSON post a line' }),
    ...POST_FILTER,
  },
  responses: {
    200: {
      description: 'the posts, as an attachment',
      content: { 'text/csv': { type: 'string' }, 'application/x-ndjson': { type: 'string', description: 'one Post a line' } },
      headers: { 'Content-Disposition': 'attachment; filename="posts-<UTC time>.csv" (or .ndjson)' },
    },
  },
  errors: ['invalid_range', 'busy'],
});

export const postStats = route({
  method: 'get',
  path: '/posts/stats',
  role: 'read',
  tag: 'posts',
  summary: 'Counts, average rating and sentiment shares per interval, overall or per group',
  query: {
    interval: choiceParam(STATS_INTERVALS, { default: 'day', description: 'the width of a bucket' }),
    group_by: choiceParam([...STATS_GROUPS, 'none'], { emptyMeans: 'none', expected: `one of ${STATS_GROUPS.join(', ')} or none`, description: 'figures per group as well' }),
    tz: opaqueParam({ code: 'invalid_tz', expected: 'an IANA time zone such as UTC, Europe/Paris or America/New_York', maxLength: 64, default: 'UTC', description: 'where days, weeks and months begin' }),
    ...POST_FILTER,
  },
  responses: { 200: { description: 'every bucket of the range, empty ones included', json: ref('PostStats') } },
  errors: ['invalid_range', 'too_many_buckets', 'busy'],
});

export const POST_ROUTES = [listPosts, exportPosts, postStats];
