// One fake upstream per source, each replaying that source's recorded answers from test/fixtures/ (SOURCES.md and
// each folder's PROVENANCE.md say where they come from), so a whole scrape of every source runs with no network.
// The demo (npm run demo, scripts/start-docker.sh --demo) and the compose stack test serve these; the source
// tests serve the same files with handlers of their own for the cases they check.
import { gzipSync } from 'node:zlib';
import { type FakeUpstream, type Reply, fixture, startFakeUpstream } from './fake-upstream.ts';
import { serveBt } from './trustpilot-upstream.ts';

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const json = (body: string, headers: Record<string, string> = {}): Reply => ({ headers: { ...JSON_TYPE, ...headers }, body });

/** The query each source's recording answers, and what it finds. */
export const RECORDED_QUERIES: Record<string, string> = {
  bluesky: 'acme',
  discourse: 'maker',
  github: 'sesame',
  'google-news': 'ovhcloud',
  hackernews: 'nodejs',
  lemmy: 'acme',
  mastodon: 'hoot',
  reddit: 'ovhcloud',
  stackoverflow: 'duckdb',
  trustpilot: 'bt.com',
};

/** Settings a source needs before it scrapes at all: made up, as the fake upstream accepts anything. */
const CREDENTIALS: Record<string, Record<string, string>> = {
  bluesky: { BLUESKY_HANDLE: 'demo.bsky.social', BLUESKY_APP_PASSWORD: 'demo-demo-demo-demo' },
};

type Serve = (upstream: FakeUpstream) => void;

const SERVE: Record<string, Serve> = {
  bluesky(upstream) {
    upstream.on('POST', '/xrpc/com.atproto.server.createSession', () => json(fixture('bluesky/create-session-synthetic.json')));
    upstream.on('POST', '/xrpc/com.atproto.server.refreshSession', () => json(fixture('bluesky/refresh-session-synthetic.json')));
    upstream.on('GET', '/xrpc/app.bsky.feed.searchPosts', (req) =>
      json(fixture(req.query.get('cursor') === '3' ? 'bluesky/search-posts-page2-synthetic.json' : 'bluesky/search-posts-page1-synthetic.json')),
    );
  },
  discourse(upstream) {
    const pages: Record<string, string> = { '1': 'discourse/forum-makerdao-search-2021-12.json', '2': 'discourse/search-page2-synthetic.json' };
    const posts: Record<string, string> = { '49886': 'discourse/post-49886-synthetic.json', '23344': 'discourse/post-23344-synthetic.json' };
    upstream.on('GET', '/search.json', (req) => {
      const page = pages[req.query.get('page') ?? '1'];
      return page ? json(fixture(page)) : { status: 400, body: '{"errors":["page parameter must not be greater than 10"]}' };
    });
    // Posts without a recorded full text get a short one, as the Discourse tests give them.
    upstream.on('GET', /^\/posts\/\d+\.json$/, (req) => {
      const id = /(\d+)\.json$/.exec(req.path)![1]!;
      return json(posts[id] ? fixture(posts[id]) : JSON.stringify({ id: Number(id), cooked: `<p>Full text of post ${id}.</p>`, raw: `Full text of post ${id}.` }));
    });
  },
  github(upstream) {
    // The octokit recording's search (exchange #3), then the synthetic page 2, then PyGithub's recorded body.
    const exchanges = JSON.parse(fixture('github/octokit-search-issues-raw-2022-07.json')) as { method: string; path: string; response: unknown }[];
    const first = JSON.stringify(exchanges.find((exchange) => exchange.method === 'get' && exchange.path.startsWith('/search/issues'))!.response);
    const last = fixture('github/pygithub-search-issues-2014-03.txt').split('\n')[9]!;
    upstream.on('GET', '/search/issues', (req) => {
      const page = req.query.get('page');
      // The next page's link names the host the client asked for (the compose network's name, in a container).
      const origin = req.headers.host ? `http://${req.headers.host}` : upstream.baseUrl;
      const next = (n: number) => ({ link: `<${origin}/search/issues?q=${encodeURIComponent(req.query.get('q') ?? '')}&page=${n}>; rel="next"` });
      if (!page) return json(first, next(2));
      return page === '2' ? json(fixture('github/search-page2-synthetic.json'), next(3)) : json(last);
    });
  },
  'google-news'(upstream) {
    upstream.on('GET', '/rss/search', () => ({ headers: { 'content-type': 'application/xml; charset=UTF-8' }, body: fixture('google-news/search-ovhcloud-synthetic.xml') }));
  },
  hackernews(upstream) {
    const { hits } = JSON.parse(fixture('hackernews/search-by-date-nodejs-2017-09.json')) as { hits: unknown[] };
    upstream.on('GET', '/api/v1/search_by_date', (req) => {
      // A repeated scrape asks only for what is newer than its newest post: the recording has nothing newer.
      if (/created_at_i>/.test(req.query.get('numericFilters') ?? '')) return json(JSON.stringify({ hits: [], nbHits: 0, page: 0, nbPages: 0 }));
      const hitsPerPage = Number(req.query.get('hitsPerPage') ?? 20);
      const page = Number(req.query.get('page') ?? 0);
      return json(JSON.stringify({ hits: hits.slice(page * hitsPerPage, (page + 1) * hitsPerPage), nbHits: hits.length, page, nbPages: Math.ceil(hits.length / hitsPerPage), hitsPerPage }));
    });
  },
  lemmy(upstream) {
    upstream.on('GET', '/api/v3/search', (req) =>
      json(Number(req.query.get('page') ?? 1) <= 1 ? fixture('lemmy/search-posts-lemmy-world-0.19-synthetic.json') : JSON.stringify({ type_: 'Posts', posts: [], comments: [], communities: [], users: [] })),
    );
  },
  mastodon(upstream) {
    upstream.on('GET', /^\/api\/v1\/timelines\/tag\//, (req) => json(req.query.get('max_id') ? '[]' : fixture('mastodon/tag-timeline-page2-synthetic.json')));
  },
  reddit(upstream) {
    // Without REDDIT_CLIENT_ID the source reads the public search feed (REDDIT_WWW_BASE_URL), page by page.
    upstream.on('GET', '/search.rss', (req) => {
      const after = req.query.get('after');
      const body = !after
        ? fixture('reddit/search-rss-synthetic.xml')
        : after === 't3_synthrss3'
          ? fixture('reddit/search-rss-page2-synthetic.xml')
          : '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>search results</title></feed>';
      return { headers: { 'content-type': 'application/atom+xml; charset=UTF-8' }, body };
    });
  },
  stackoverflow(upstream) {
    const items = fixture('stackoverflow/so-questions-duckdb-items-2023-03.ndjson').split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as unknown);
    upstream.on('GET', '/2.3/search/advanced', (req) => {
      const page = Number(req.query.get('page') ?? 1);
      const pageSize = Number(req.query.get('pagesize') ?? 30);
      const wrapper = { items: items.slice((page - 1) * pageSize, page * pageSize), has_more: page * pageSize < items.length, quota_max: 300, quota_remaining: 300 - page };
      // Stack Exchange always answers gzipped.
      return { headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(wrapper)) };
    });
  },
  trustpilot(upstream) {
    serveBt(upstream);
  },
};

export const RECORDED_SOURCES = Object.keys(SERVE).sort();

export interface RecordedUpstreams {
  /** Source name → the fake upstream serving it. */
  upstreams: Record<string, FakeUpstream>;
  /** SOURCE_BASE_URL_<NAME> for each (and REDDIT_WWW_BASE_URL), plus the made-up credentials some sources need. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface RecordedOptions {
  /** Where to listen (127.0.0.1 by default; 0.0.0.0 in a container). */
  host?: string;
  /** Source i (in name order) listens on basePort + i; 0 (the default) picks free ports. */
  basePort?: number;
  /** The origin the app reaches them by, when it is not where they listen (http://upstream on a compose network). */
  publicOrigin?: string;
  /** Every answer waits this long: time for a test to act while jobs run. */
  delayMs?: number;
  sources?: string[];
}

export function baseUrlVariable(source: string): string {
  return `SOURCE_BASE_URL_${source.toUpperCase().replaceAll('-', '_')}`;
}

/** The port source `name` listens on when started with `basePort`. */
export function recordedPort(name: string, basePort: number): number {
  return basePort + RECORDED_SOURCES.indexOf(name);
}

/**
 * The app's settings for `name` served at `origin`: its base URL, the made-up credentials it needs, and a rate
 * limit lifted from the site's published one (the fake upstream may be asked as fast as it answers).
 */
export function recordedEnv(name: string, origin: string): Record<string, string> {
  const upper = name.toUpperCase().replaceAll('-', '_');
  return {
    [baseUrlVariable(name)]: origin,
    [`RATE_LIMIT_${upper}`]: '1000/1/4',
    ...(name === 'reddit' ? { REDDIT_WWW_BASE_URL: origin } : {}),
    ...(name === 'discourse' ? { DISCOURSE_SEARCHES_PER_MINUTE: '6000' } : {}),
    ...CREDENTIALS[name],
  };
}

/** recordedEnv of every source, served from basePort on at `origin` (http://upstream on a compose network). */
export function allRecordedEnv(origin: string, basePort: number): Record<string, string> {
  return Object.assign({}, ...RECORDED_SOURCES.map((name) => recordedEnv(name, `${origin}:${recordedPort(name, basePort)}`)));
}

export async function startRecordedUpstreams(options: RecordedOptions = {}): Promise<RecordedUpstreams> {
  const names = options.sources ?? RECORDED_SOURCES;
  const upstreams: Record<string, FakeUpstream> = {};
  const env: Record<string, string> = {};
  try {
    for (const name of names) {
      const serve = SERVE[name];
      if (!serve) throw new Error(`no recorded answers for source "${name}" (known: ${RECORDED_SOURCES.join(', ')})`);
      const upstream = await startFakeUpstream({ host: options.host, port: options.basePort ? recordedPort(name, options.basePort) : 0 });
      upstreams[name] = upstream;
      serve(options.delayMs ? delayed(upstream, options.delayMs) : upstream);
      Object.assign(env, recordedEnv(name, options.publicOrigin ? `${options.publicOrigin}:${new URL(upstream.baseUrl).port}` : upstream.baseUrl));
    }
  } catch (error) {
    await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
    throw error;
  }
  return {
    upstreams,
    env,
    close: async () => {
      await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
    },
  };
}

/** The same upstream, with every handler registered through it answering `ms` later. */
function delayed(upstream: FakeUpstream, ms: number): FakeUpstream {
  return {
    ...upstream,
    on: (method, path, handler) =>
      upstream.on(method, path, async (req) => {
        const reply = await handler(req);
        return { ...reply, delayMs: (reply.delayMs ?? 0) + ms };
      }),
  };
}
