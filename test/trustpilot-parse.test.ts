import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test, type TestContext } from 'node:test';
import { JobError } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http/client.ts';
import { silentLogger } from '../lib/log.ts';
import type { HighWaterMark } from '../lib/model/post.ts';
import { createTrustpilotSource, domainFromQuery, parseReviewPage, parseSearchPage, pickBusiness, type ReviewPage } from '../lib/sources/trustpilot.ts';
import type { ScrapedPage } from '../lib/sources/types.ts';
import { fixture, startFakeUpstream, type FakeUpstream } from './helpers/fake-upstream.ts';
import { withIntake } from './helpers/intake.ts';
import { rejected, thrown } from './helpers/job-errors.ts';
import { BT_PAGE_1, BT_PAGE_2, serveBt as serveBtPages } from './helpers/trustpilot-upstream.ts';

const EVENTNET = fixture('trustpilot/eventnet-de-page1-2024-07-prettified.html');
const CHALLENGE = fixture('trustpilot/challenge-cloudflare-synthetic.html');
const BT_URL = 'https://www.trustpilot.com/review/bt.com?page=1&languages=all&sort=recency';
const EVENTNET_URL = 'https://www.trustpilot.com/review/eventnet.de?page=1&languages=all&sort=recency';


function withoutNextData(html: string): string {
  const start = html.indexOf('<script id="__NEXT_DATA__"');
  const end = html.indexOf('</script>', start) + '</script>'.length;
  assert.ok(start > 0 && end > start, 'fixture has no __NEXT_DATA__ script');
  return html.slice(0, start) + html.slice(end);
}

describe('parseReviewPage on the real bt.com capture', () => {
  const page = parseReviewPage(BT_PAGE_1, BT_URL);

  test('reads every field of the first review from __NEXT_DATA__', () => {
    const review = page.reviews[0]!;
    assert.equal(review.externalId, '6456378afe4e676d706281c4');
    assert.equal(review.url, 'https://www.trustpilot.com/reviews/6456378afe4e676d706281c4');
    assert.equal(review.author, 'jason');
    assert.equal(review.rating, 1);
    assert.equal(review.title, 'Communication shambles');
    assert.match(review.text, /^Oh my god, you almost have to laugh .* Absolute shambles\.$/);
    assert.equal(review.language, 'en');
    assert.equal(review.publishedAt.toISOString(), '2023-05-06T13:18:34.000Z');
    assert.ok(review.reply?.text.startsWith('Hi Jason'));
    assert.match(review.reply?.text ?? '', /recently\.  Get in touch.*\n\nThanks,\n\nRobbie$/s);
    assert.equal(review.reply?.publishedAt?.toISOString(), '2023-05-06T14:54:03.000Z');
    assert.deepEqual(review.extra, {
      country: 'GB',
      verified: false,
      verification_level: 'not-verified',
      experienced_at: '2023-05-05T00:00:00.000Z',
      updated_at: null,
      likes: 0,
      business_domain: 'bt.com',
    });
  });

  test('finds 20 English reviews, 12 of them answered by BT', () => {
    assert.equal(page.reviews.length, 20);
    assert.ok(page.reviews.every((r) => r.language === 'en'));
    assert.equal(page.reviews.filter((r) => r.reply !== null).length, 12);
    assert.equal(new Set(page.reviews.map((r) => r.externalId)).size, 20);
  });

  test('reads the pagination and the business', () => {
    assert.deepEqual(page.pagination, { currentPage: 1, totalPages: 83, perPage: 20, totalCount: 1648 });
    assert.deepEqual(page.business, { domain: 'bt.com', displayName: 'BT' });
  });
});

describe('parseReviewPage on the real, prettified eventnet.de capture', () => {
  const page = parseReviewPage(EVENTNET, EVENTNET_URL);

  test('reads the German reviews, the first one unanswered', () => {
    const review = page.reviews[0]!;
    assert.equal(page.reviews.length, 20);
    assert.ok(page.reviews.every((r) => r.language === 'de'));
    assert.equal(review.externalId, '667d00c443645513f3ae5f18');
    assert.equal(review.author, 'Saskia Herrmann');
    assert.equal(review.title, 'Immer wieder gerne...');
    assert.match(review.text, /^Eine spontane Anfrage .* Auf bald!$/);
    assert.equal(review.rating, 5);
    assert.equal(review.publishedAt.toISOString(), '2024-06-27T08:03:48.000Z');
    assert.equal(review.reply, null);
    assert.equal(review.extra.country, 'DE');
    assert.equal(review.extra.verification_level, 'invited');
  });

  test('says it is the only page', () => {
    assert.deepEqual(page.pagination, { currentPage: 1, totalPages: 1, perPage: 20, totalCount: 20 });
    assert.deepEqual(page.business, { domain: 'eventnet.de', displayName: 'Eventnet' });
  });
});

describe('parseReviewPage without __NEXT_DATA__', () => {
  const comparable = (page: ReviewPage) => page.reviews.map(({ extra, ...rest }) => ({ ...rest, country: extra.country }));

  for (const [name, html, url] of [['bt.com', BT_PAGE_1, BT_URL], ['eventnet.de', EVENTNET, EVENTNET_URL]] as const) {
    test(`reads the same ${name} reviews and replies from JSON-LD and the review markup`, () => {
      const fallback = parseReviewPage(withoutNextData(html), url);
      assert.equal(fallback.reviews.length, 20);
      assert.deepEqual(comparable(fallback), comparable(parseReviewPage(html, url)));
      assert.equal(fallback.pagination, null);
    });
  }

  test('falls back as well when __NEXT_DATA__ is cut off and no longer parses', () => {
    const start = BT_PAGE_1.indexOf('<script id="__NEXT_DATA__"');
    const broken = BT_PAGE_1.slice(0, start + 200) + BT_PAGE_1.slice(BT_PAGE_1.indexOf('</script>', start));
    const page = parseReviewPage(broken, BT_URL);
    assert.equal(page.reviews[0]?.externalId, '6456378afe4e676d706281c4');
    assert.equal(page.reviews[0]?.reply?.text.startsWith('Hi Jason'), true);
    assert.deepEqual(page.business, { domain: 'bt.com', displayName: 'BT' });
  });
});

describe('pages read as the UTF-8 bytes they came in', () => {
  const bytes = (html: string) => Buffer.from(html, 'utf8');

  for (const [name, html, url] of [['bt.com', BT_PAGE_1, BT_URL], ['eventnet.de', EVENTNET, EVENTNET_URL]] as const) {
    test(`give the same ${name} page as its text, from __NEXT_DATA__ and from the fallback markup`, () => {
      assert.deepEqual(parseReviewPage(bytes(html), url), parseReviewPage(html, url));
      assert.deepEqual(parseReviewPage(bytes(withoutNextData(html)), url), parseReviewPage(withoutNextData(html), url));
    });
  }

  test('keep malformed UTF-8 inside __NEXT_DATA__ as text does (U+FFFD)', () => {
    const at = BT_PAGE_1.indexOf('"title":"Communication shambles"', BT_PAGE_1.indexOf('__NEXT_DATA__')) + '"title":"'.length;
    const page = Buffer.concat([bytes(BT_PAGE_1.slice(0, at)), Buffer.from([0xe2, 0x82]), bytes(BT_PAGE_1.slice(at))]);
    const parsed = parseReviewPage(page, BT_URL);
    assert.equal(parsed.reviews[0]?.title, '\uFFFDCommunication shambles');
    assert.deepEqual(parsed, parseReviewPage(page.toString('utf8'), BT_URL));
  });

  test('are rejected for the same reasons as text', () => {
    assert.equal(thrown(() => parseReviewPage(bytes(CHALLENGE), BT_URL)).code, 'upstream_blocked');
    assert.equal(thrown(() => parseReviewPage(bytes('<html><body><h1>Hello</h1></body></html>'), BT_URL)).code, 'upstream_bad_response');
  });

  test('give the same businesses on a search page', () => {
    const html = fixture('trustpilot/search-bt-synthetic.html');
    const url = 'https://www.trustpilot.com/search?query=BT';
    assert.deepEqual(parseSearchPage(bytes(html), url), parseSearchPage(html, url));
  });
});

describe('parseReviewPage on pages that are not review pages', () => {
  test('rejects a Cloudflare challenge as upstream_blocked', () => {
    const error = thrown(() => parseReviewPage(CHALLENGE, BT_URL));
    assert.equal(error.code, 'upstream_blocked');
    assert.equal(error.permanent, true);
    assert.match(error.message, /Cloudflare .*bot challenge.*lower the scrape rate/);
  });

  test('rejects a PerimeterX captcha as upstream_blocked', () => {
    const html = '<html><head><title>Access to this page has been denied</title></head><body><div id="px-captcha"></div></body></html>';
    assert.equal(thrown(() => parseReviewPage(html, BT_URL)).code, 'upstream_blocked');
  });

  test('rejects a page reached at a login URL as upstream_login_required', () => {
    const error = thrown(() => parseReviewPage('<html><body>Log in</body></html>', 'https://www.trustpilot.com/users/connect?redirect=%2Freview%2Fbt.com'));
    assert.equal(error.code, 'upstream_login_required');
    assert.match(error.message, /www\.trustpilot\.com\/users\/connect/);
    assert.doesNotMatch(error.message, /redirect=/);
  });

  test('rejects a login form served at the review address as upstream_login_required', () => {
    const html = '<html><head><title>Log in | Trustpilot</title></head><body><form><input type="email"><input type="password"></form></body></html>';
    assert.equal(thrown(() => parseReviewPage(html, BT_URL)).code, 'upstream_login_required');
  });

  test('rejects HTML with neither __NEXT_DATA__ nor JSON-LD reviews as upstream_bad_response', () => {
    const error = thrown(() => parseReviewPage('<html><body><h1>Hello</h1></body></html>', BT_URL));
    assert.equal(error.code, 'upstream_bad_response');
    assert.match(error.message, /neither __NEXT_DATA__ nor JSON-LD reviews/);
  });
});

describe('business search and query handling', () => {
  test('reads the businesses on a search page in Trustpilot order', () => {
    const found = parseSearchPage(fixture('trustpilot/search-bt-synthetic.html'), 'https://www.trustpilot.com/search?query=BT');
    assert.deepEqual(found.map((b) => b.domain), ['business.bt.com', 'bt.com', 'sport.bt.com']);
    assert.deepEqual(parseSearchPage(fixture('trustpilot/search-no-results-synthetic.html'), 'https://www.trustpilot.com/search?query=OVH'), []);
  });

  test('picks the exact display name first, and otherwise the first result', () => {
    const candidates = [{ domain: 'business.bt.com', displayName: 'BT Business' }, { domain: 'bt.com', displayName: 'BT' }];
    assert.equal(pickBusiness('bt', candidates)?.domain, 'bt.com');
    assert.equal(pickBusiness('British Telecom', candidates)?.domain, 'business.bt.com');
    assert.equal(pickBusiness('BT', []), null);
  });

  test('treats domains as domains, dropping www. and case, and anything else as a brand name', () => {
    assert.equal(domainFromQuery('ovhcloud.com'), 'ovhcloud.com');
    assert.equal(domainFromQuery(' www.BT.com '), 'bt.com');
    assert.equal(domainFromQuery('booking.com'), 'booking.com');
    assert.equal(domainFromQuery('OVH'), null);
    assert.equal(domainFromQuery('Dr. Martens'), null);
  });

  test('refuses queries that are URLs, paths or contain control characters, saying what to use instead', () => {
    const source = createTrustpilotSource({ aliases: {} });
    assert.equal(source.validateQuery?.('bt.com'), null);
    assert.equal(source.validateQuery?.('Marks & Spencer'), null);
    assert.match(source.validateQuery?.('https://www.trustpilot.com/review/bt.com') ?? '', /use "bt\.com"/);
    for (const bad of ['', '  ', 'bt.com/x', 'bt.com?x=1', 'bt#1', 'a\u0000b', 'line\nbreak', 'x'.repeat(101)]) {
      assert.ok(source.validateQuery?.(bad), `expected ${JSON.stringify(bad)} to be refused`);
    }
  });
});

describe('scraping over a fake Trustpilot', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(() => upstream.close());
  beforeEach(() => upstream.reset());

  async function scrape(t: TestContext, query: string, limit: number, aliases: Record<string, string> = {}, since: HighWaterMark | null = null): Promise<ScrapedPage[]> {
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 5_000, retryBaseMs: 5, log: silentLogger });
    t.after(() => http.close());
    const source = createTrustpilotSource({ aliases });
    const pages: ScrapedPage[] = [];
    const ctx = withIntake({ query, limit, signal: new AbortController().signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since });
    for await (const page of source.scrape(ctx)) pages.push(page);
    return pages;
  }

  async function scrapeError(t: TestContext, query: string, limit: number, aliases: Record<string, string> = {}): Promise<JobError> {
    return rejected(scrape(t, query, limit, aliases));
  }

  const serveBt = () => serveBtPages(upstream);

  test('stops at the newest review an earlier run stored, reading only the pages before it', async (t) => {
    serveBt();
    const everything = (await scrape(t, 'bt.com', 60)).flatMap((p) => p.posts);
    const mark = everything[24]!;
    upstream.requests.length = 0;
    const pages = await scrape(t, 'bt.com', 200, {}, { publishedAt: mark.publishedAt, externalId: mark.externalId });
    assert.deepEqual(upstream.requests.map((r) => r.query.get('page')), ['1', '2']);
    const fresh = pages.flatMap((p) => p.posts);
    assert.ok(fresh.length >= 24 && !fresh.some((p) => p.externalId === mark.externalId));
    assert.ok(fresh.every((p) => p.publishedAt >= mark.publishedAt));
    assert.deepEqual(fresh.slice(0, 24).map((p) => p.externalId), everything.slice(0, 24).map((p) => p.externalId));
  });

  test('reads three pages for limit 50 and keeps exactly 50 posts', async (t) => {
    serveBt();
    const pages = await scrape(t, 'bt.com', 50);
    assert.deepEqual(upstream.requests.map((r) => [r.path, r.query.get('page'), r.query.get('languages'), r.query.get('sort')]), [
      ['/review/bt.com', '1', 'all', 'recency'],
      ['/review/bt.com', '2', 'all', 'recency'],
      ['/review/bt.com', '3', 'all', 'recency'],
    ]);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length, p.pagesPlanned]), [[1, 20, 3], [2, 20, 3], [3, 10, 3]]);
    const posts = pages.flatMap((p) => p.posts);
    assert.equal(new Set(posts.map((p) => p.externalId)).size, 50);
    assert.equal(posts[0]?.url, `${upstream.baseUrl}/reviews/6456378afe4e676d706281c4`);
    assert.equal(posts[49]?.externalId, 'synthetic-page3-10');
    assert.deepEqual(pages[0]?.meta, { domain: 'bt.com', business: 'BT', resolved_by: 'domain' });
  });

  test('stops at the last page: eventnet.de is read once even with limit 200', async (t) => {
    upstream.on('GET', '/review/eventnet.de', () => ({ body: EVENTNET }));
    const pages = await scrape(t, 'eventnet.de', 200);
    assert.equal(upstream.requests.length, 1);
    assert.deepEqual(pages.map((p) => [p.page, p.posts.length, p.pagesPlanned]), [[1, 20, 1]]);
    assert.deepEqual(pages[0]?.meta, { domain: 'eventnet.de', business: 'Eventnet', resolved_by: 'domain' });
  });

  test('stops at an empty page even when the pagination promised more', async (t) => {
    upstream.on('GET', '/review/bt.com', (req) => ({ body: req.query.get('page') === '1' ? BT_PAGE_1 : BT_PAGE_2.replace(/"reviews":\[.*?\],"filters"/s, '"reviews":[],"filters"') }));
    const pages = await scrape(t, 'bt.com', 100);
    assert.equal(upstream.requests.length, 2);
    assert.deepEqual(pages.map((p) => p.posts.length), [20]);
  });

  test('normalises www.bt.com to bt.com before asking for the review page', async (t) => {
    serveBt();
    await scrape(t, 'www.BT.com', 5);
    assert.deepEqual(upstream.requests.map((r) => r.path), ['/review/bt.com']);
  });

  test('resolves a brand name through the business search, preferring the exact display name', async (t) => {
    serveBt();
    upstream.on('GET', '/search', () => ({ body: fixture('trustpilot/search-bt-synthetic.html') }));
    const pages = await scrape(t, 'BT', 20);
    assert.deepEqual(upstream.requests.map((r) => [r.path, r.query.get('query') ?? r.query.get('page')]), [['/search', 'BT'], ['/review/bt.com', '1']]);
    assert.deepEqual(pages[0]?.meta, { domain: 'bt.com', business: 'BT', resolved_by: 'search' });
  });

  test('falls back to the alias table when the search finds nothing', async (t) => {
    upstream.on('GET', '/search', () => ({ body: fixture('trustpilot/search-no-results-synthetic.html') }));
    upstream.on('GET', '/review/eventnet.de', () => ({ body: EVENTNET }));
    const pages = await scrape(t, 'OVH', 20, { ovh: 'eventnet.de' });
    assert.deepEqual(upstream.requests.map((r) => r.path), ['/search', '/review/eventnet.de']);
    assert.deepEqual(pages[0]?.meta, { domain: 'eventnet.de', business: 'Eventnet', resolved_by: 'alias' });
  });

  test('falls back to the alias table when the search page is not found', async (t) => {
    serveBt();
    const pages = await scrape(t, 'Bt', 20, { bt: 'bt.com' });
    assert.deepEqual(upstream.requests.map((r) => r.path), ['/search', '/review/bt.com']);
    assert.equal(pages[0]?.meta?.resolved_by, 'alias');
  });

  test('fails with upstream_not_found for a brand neither the search nor the aliases know', async (t) => {
    upstream.on('GET', '/search', () => ({ body: fixture('trustpilot/search-no-results-synthetic.html') }));
    const error = await scrapeError(t, 'Nonexistent Brand', 20, { ovh: 'ovhcloud.com' });
    assert.equal(error.code, 'upstream_not_found');
    assert.equal(error.permanent, true);
    assert.match(error.message, /^Trustpilot has no business page for "Nonexistent Brand".*TRUSTPILOT_ALIASES/);
  });

  test('fails with upstream_not_found when the review page of a domain is a 404', async (t) => {
    const error = await scrapeError(t, 'no-such-business.example', 20);
    assert.equal(error.code, 'upstream_not_found');
    assert.match(error.message, /^Trustpilot has no business page for "no-such-business\.example" \(\/review\/no-such-business\.example gave HTTP 404\)/);
    assert.equal(upstream.requests.length, 1);
  });

  test('blames the alias when the domain an alias points to has no page', async (t) => {
    upstream.on('GET', '/search', () => ({ body: fixture('trustpilot/search-no-results-synthetic.html') }));
    const error = await scrapeError(t, 'OVH', 20, { ovh: 'ovh-typo.example' });
    assert.equal(error.code, 'upstream_not_found');
    assert.match(error.message, /TRUSTPILOT_ALIASES maps "ovh" to ovh-typo\.example/);
  });

  test('keeps the pages already read when a later page is a 404', async (t) => {
    upstream.on('GET', '/review/bt.com', (req) => (req.query.get('page') === '1' ? { body: BT_PAGE_1 } : { status: 404 }));
    const pages = await scrape(t, 'bt.com', 60);
    assert.deepEqual(pages.map((p) => p.posts.length), [20]);
  });

  test('follows a redirect to the canonical business page and uses its name for later pages', async (t) => {
    serveBt();
    upstream.on('GET', '/review/bt.co.uk', (req) => ({ status: 301, headers: { location: `/review/bt.com?${req.query}` } }));
    const pages = await scrape(t, 'bt.co.uk', 40);
    assert.deepEqual(upstream.requests.map((r) => `${r.path}?page=${r.query.get('page')}`), [
      '/review/bt.co.uk?page=1',
      '/review/bt.com?page=1',
      '/review/bt.com?page=2',
    ]);
    assert.equal(pages[1]?.meta?.domain, 'bt.com');
  });

  test('reports a redirect to the login page as upstream_login_required', async (t) => {
    upstream.on('GET', '/review/bt.com', () => ({ status: 302, headers: { location: '/users/connect?redirect=%2Freview%2Fbt.com' } }));
    upstream.on('GET', '/users/connect', () => ({ body: '<html><body><h1>Log in to Trustpilot</h1></body></html>' }));
    const error = await scrapeError(t, 'bt.com', 20);
    assert.equal(error.code, 'upstream_login_required');
  });

  test('reports a challenge page served with HTTP 200 as upstream_blocked', async (t) => {
    upstream.on('GET', '/review/bt.com', () => ({ body: CHALLENGE }));
    const error = await scrapeError(t, 'bt.com', 20);
    assert.equal(error.code, 'upstream_blocked');
  });

  test('reports a challenge page served with HTTP 403 as upstream_blocked without retrying', async (t) => {
    upstream.on('GET', '/review/bt.com', () => ({ status: 403, headers: { 'cf-mitigated': 'challenge' }, body: CHALLENGE }));
    const error = await scrapeError(t, 'bt.com', 20);
    assert.equal(error.code, 'upstream_blocked');
    assert.equal(upstream.requests.length, 1);
  });

  test('refuses an invalid query before sending anything', async (t) => {
    const error = await scrapeError(t, 'bt.com/review', 20);
    assert.equal(error.code, 'invalid_query');
    assert.equal(upstream.requests.length, 0);
  });

  test('passes the job signal to its requests so a cancelled scrape stops', async (t) => {
    upstream.on('GET', '/review/bt.com', () => ({ delayMs: 5_000, body: BT_PAGE_1 }));
    const http = createHttpClient({ userAgent: 'vibe-tracker-test/1', timeoutMs: 10_000, log: silentLogger });
    t.after(() => http.close());
    const controller = new AbortController();
    const reason = new Error('cancelled');
    setTimeout(() => controller.abort(reason), 100);
    const pages = createTrustpilotSource({ aliases: {} }).scrape(withIntake({ query: 'bt.com', limit: 20, signal: controller.signal, http, baseUrl: upstream.baseUrl, log: silentLogger, since: null }));
    await assert.rejects(async () => {
      for await (const _ of pages) assert.fail('no page expected');
    }, (error) => error === reason);
  });
});
