import { type FakeUpstream, type Reply, fixture } from './fake-upstream.ts';

export const BT_PAGE_1 = fixture('trustpilot/bt-com-page1-2023-05.html');
export const BT_PAGE_2 = fixture('trustpilot/bt-com-page2-synthetic.html');

/** Page 3 does not exist as a capture; it is page 2 with its ids and page number rewritten. */
export const btPage3 = () => BT_PAGE_2.replaceAll('synthetic-page2-', 'synthetic-page3-').replace('"currentPage":2', '"currentPage":3');

/** Serves bt.com's review pages 1-3 (page 1 real, 2-3 synthetic) and 404 for any other page. */
export function serveBt(upstream: FakeUpstream, extra: Partial<Reply> = {}): void {
  const pages: Record<string, string> = { '1': BT_PAGE_1, '2': BT_PAGE_2, '3': btPage3() };
  upstream.on('GET', '/review/bt.com', (req) => {
    const body = pages[req.query.get('page') ?? ''];
    return body ? { ...extra, body } : { status: 404 };
  });
}
