// Repeated runs of one (source, query) against fake upstreams whose timeline grows between runs, one per family
// of source: Trustpilot's numbered HTML pages, GitHub's API with Link cursors and created-time bounds, and Reddit's
// search feed with an `after` cursor. Posts and pages here are synthetic, built by the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../lib/model/job.ts';
import { type FakeRequest, type FakeUpstream, type Reply, startFakeUpstream } from './helpers/fake-upstream.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';

interface TimelinePost {
  id: string;
  at: Date;
}

/** A newest-first listing that grows: publish() adds posts newer than every one before. */
class Timeline {
  readonly posts: TimelinePost[] = [];
  private clock = Date.parse('2026-11-01T08:00:00Z');
  private serial = 0;

  /** Ids are the prefix and a number from `base` up, so numeric ids (GitHub's) of two timelines never meet. */
  constructor(readonly prefix: string, private readonly base: number) {}

  publish(count: number): TimelinePost[] {
    const added: TimelinePost[] = [];
    for (let i = 0; i < count; i++) {
      this.clock += 60_000;
      added.push({ id: `${this.prefix}${this.base + ++this.serial}`, at: new Date(this.clock) });
    }
    this.posts.unshift(...added.reverse());
    return added;
  }

  /** The ids of every post published after the first `before` ones. */
  idsAfter(before: number): string[] {
    return this.posts.slice(0, this.posts.length - before).map((post) => post.id).sort();
  }
}

interface Family {
  name: string;
  source: string;
  env(upstream: FakeUpstream): Record<string, string>;
  serve(upstream: FakeUpstream, timeline: Timeline, query: string): void;
  /** How an upstream id is stored as external_id. */
  externalId(id: string): string;
}

const PAGE = 20;

const trustpilot: Family = {
  name: 'Trustpilot (numbered HTML pages)',
  source: 'trustpilot',
  env: (upstream) => ({ SOURCE_BASE_URL_TRUSTPILOT: upstream.baseUrl, RATE_LIMIT_TRUSTPILOT: '1000/1/4' }),
  externalId: (id) => id,
  serve(upstream, timeline, query) {
    upstream.on('GET', `/review/${query}`, (req) => {
      const page = Number(req.query.get('page') ?? 1);
      const totalPages = Math.max(1, Math.ceil(timeline.posts.length / PAGE));
      if (page > totalPages) return { status: 404, body: 'no such page' };
      const reviews = timeline.posts.slice((page - 1) * PAGE, page * PAGE).map((post) => ({
        id: post.id,
        title: `Review ${post.id}`,
        text: `Synthetic review ${post.id}`,
        rating: 4,
        language: 'en',
        dates: { publishedDate: post.at.toISOString() },
        consumer: { displayName: 'A reviewer' },
      }));
      const data = {
        props: {
          pageProps: {
            businessUnit: { identifyingName: query, displayName: 'Acme' },
            reviews,
            filters: { pagination: { currentPage: page, totalPages, perPage: PAGE, totalCount: timeline.posts.length } },
          },
        },
      };
      return { headers: { 'content-type': 'text/html' }, body: `<html><body><script id="__NEXT_DATA__" type="application/json">${JSON.stringify(data)}</script></body></html>` };
    });
  },
};

const github: Family = {
  name: 'GitHub (API pages with Link cursors and created-time bounds)',
  source: 'github',
  env: (upstream) => ({ SOURCE_BASE_URL_GITHUB: upstream.baseUrl, RATE_LIMIT_GITHUB: '1000/1' }),
  externalId: (id) => String(Number(id.replace(/\D/g, ''))),
  serve(upstream, timeline, query) {
    upstream.on('GET', '/search/issues', (req) => {
      const q = req.query.get('q') ?? '';
      if (!q.startsWith(query)) return { status: 422, body: '{"message":"unexpected query"}' };
      const from = /created:>=(\S+)/.exec(q)?.[1];
      const to = /created:<=(\S+)/.exec(q)?.[1];
      const matching = timeline.posts.filter((post) => (!from || post.at >= new Date(from)) && (!to || post.at <= new Date(to)));
      const perPage = Number(req.query.get('per_page') ?? 30);
      const page = Number(req.query.get('page') ?? 1);
      const items = matching.slice((page - 1) * perPage, page * perPage).map((post) => ({
        id: Number(post.id.replace(/\D/g, '')),
        number: Number(post.id.replace(/\D/g, '')),
        html_url: `https://github.com/acme/app/issues/${post.id}`,
        created_at: post.at.toISOString().replace('.000Z', 'Z'),
        title: `Issue ${post.id}`,
        body: 'synthetic',
        state: 'open',
        user: { login: 'someone' },
      }));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (page * perPage < matching.length) {
        const next = new URLSearchParams(req.query);
        next.set('page', String(page + 1));
        headers.link = `<${upstream.baseUrl}/search/issues?${next}>; rel="next"`;
      }
      return { headers, body: JSON.stringify({ total_count: matching.length, incomplete_results: false, items }) };
    });
  },
};

const redditFeed: Family = {
  name: 'Reddit (search feed with an after cursor, no resume position)',
  source: 'reddit',
  env: (upstream) => ({ REDDIT_WWW_BASE_URL: upstream.baseUrl, RATE_LIMIT_REDDIT: '1000/1' }),
  externalId: (id) => `t3_${id}`,
  serve(upstream, timeline) {
    upstream.on('GET', '/search.rss', (req: FakeRequest): Reply => {
      const limit = Number(req.query.get('limit') ?? 25);
      const after = req.query.get('after');
      const start = after ? timeline.posts.findIndex((post) => `t3_${post.id}` === after) + 1 : 0;
      const entries = timeline.posts.slice(start, start + limit).map((post) => `
  <entry>
    <author><name>/u/someone</name></author>
    <category term="acme" label="r/acme"/>
    <content type="html">&lt;div class="md"&gt;&lt;p&gt;Post ${post.id}&lt;/p&gt;&lt;/div&gt;</content>
    <id>t3_${post.id}</id>
    <link href="https://www.reddit.com/r/acme/comments/${post.id}/"/>
    <published>${post.at.toISOString()}</published>
    <title>Post ${post.id}</title>
  </entry>`);
      return {
        headers: { 'content-type': 'application/atom+xml; charset=UTF-8' },
        body: `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>search results</title>${entries.join('')}</feed>`,
      };
    });
  },
};

const FAMILIES = [trustpilot, github, redditFeed];

describe('incremental runs never skip a post published after the first run', () => {
  let upstream: FakeUpstream;
  let capped: Pipeline;
  let uncapped: Pipeline;

  before(async () => {
    upstream = await startFakeUpstream();
    const env = Object.assign({}, ...FAMILIES.map((family) => family.env(upstream))) as Record<string, string>;
    capped = await startPipeline('incremental_capped', { ...env, SCRAPE_MAX_NEW_POSTS: '20' });
    uncapped = await startPipeline('incremental_uncapped', env);
  });
  after(async () => {
    await capped?.close();
    await uncapped?.close();
    await upstream?.close();
  });

  async function storedIds(pipeline: Pipeline, source: string, query: string): Promise<string[]> {
    const rows = await pipeline.services.sql<{ external_id: string }[]>`select external_id from posts where source = ${source} and query = ${query}`;
    return rows.map((row) => row.external_id).sort();
  }

  const completed = (job: Job) => {
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    return job.result as { inserted: number; reached_mark: boolean | null; stopped_by: string | null; incremental: boolean };
  };

  for (const [index, family] of FAMILIES.entries()) {
    describe(family.name, () => {
      test('capped later runs stop short of the mark, say so, and converge to every post published since the first run', async () => {
        const query = family.source === 'trustpilot' ? `capped${index}.example` : `capped${index}`;
        const timeline = new Timeline('c', 100_000 * (index + 1));
        family.serve(upstream, timeline, query);
        timeline.publish(30);
        const first = completed(await capped.scrape(family.source, query, { limit: 20 }));
        assert.equal(first.inserted, 20);
        assert.equal(first.reached_mark, null, 'a first run has no mark to reach');

        timeline.publish(45);
        const results = [];
        for (let run = 0; run < 6; run++) results.push(completed(await capped.scrape(family.source, query, { limit: 20 })));
        const expected = timeline.idsAfter(10).map(family.externalId).sort();
        assert.deepEqual(await storedIds(capped, family.source, query), expected, 'every post newer than the first run\'s oldest is stored');
        assert.equal(results[0]!.inserted, 20);
        assert.equal(results[0]!.reached_mark, false);
        assert.equal(results[0]!.stopped_by, 'max_new_posts');
        const caughtUp = results.findIndex((result) => result.reached_mark === true);
        assert.ok(caughtUp >= 1 && caughtUp <= 3, `caught up on run ${caughtUp + 2}: ${JSON.stringify(results)}`);
        assert.equal(results.slice(0, caughtUp + 1).reduce((sum, result) => sum + result.inserted, 0), 45);
        for (const later of results.slice(caughtUp + 1)) {
          assert.equal(later.inserted, 0);
          assert.equal(later.reached_mark, true);
        }
      });

      test('posts that keep arriving while capped runs catch up are not skipped either', async () => {
        const query = family.source === 'trustpilot' ? `growing${index}.example` : `growing${index}`;
        const timeline = new Timeline('g', 100_000 * (index + 4));
        family.serve(upstream, timeline, query);
        timeline.publish(25);
        completed(await capped.scrape(family.source, query, { limit: 5 }));
        for (let run = 0; run < 12; run++) {
          timeline.publish(run < 6 ? 17 : 0);
          completed(await capped.scrape(family.source, query, { limit: 5 }));
        }
        assert.deepEqual(await storedIds(capped, family.source, query), timeline.idsAfter(20).map(family.externalId).sort());
      });

      test('with the default cap, one later run reads everything new down to the mark', async () => {
        const query = family.source === 'trustpilot' ? `whole${index}.example` : `whole${index}`;
        const timeline = new Timeline('w', 100_000 * (index + 7));
        family.serve(upstream, timeline, query);
        timeline.publish(30);
        completed(await uncapped.scrape(family.source, query, { limit: 20 }));
        timeline.publish(45);
        const second = completed(await uncapped.scrape(family.source, query, { limit: 20 }));
        assert.equal(second.inserted, 45);
        assert.equal(second.reached_mark, true);
        assert.equal(second.stopped_by, null);
        assert.deepEqual(await storedIds(uncapped, family.source, query), timeline.idsAfter(10).map(family.externalId).sort());
      });
    });
  }

  test('a Trustpilot run that resumes reads from the page the cut-short run stopped at, not from page 1 down', async () => {
    const query = 'resume.example';
    const timeline = new Timeline('r', 1_000_000);
    trustpilot.serve(upstream, timeline, query);
    timeline.publish(30);
    completed(await capped.scrape('trustpilot', query, { limit: 20 }));
    timeline.publish(100);
    completed(await capped.scrape('trustpilot', query, { limit: 20 }));
    const before = upstream.requests.length;
    completed(await capped.scrape('trustpilot', query, { limit: 20 }));
    const pages = upstream.requests.slice(before).filter((req) => req.path === `/review/${query}`).map((req) => Number(req.query.get('page')));
    // Page 1 for the newest posts (nothing new above the gap), then page 1 again, where the last run was cut, and 2.
    assert.deepEqual(pages, [1, 1, 2]);
  });
});
