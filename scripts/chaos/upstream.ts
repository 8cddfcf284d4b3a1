// A fake Trustpilot that serves a distinct set of reviews for every (domain, page) and remembers every review id
// it served, so the run can check that each one was stored.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BT_PAGE_1 } from '../harness/trustpilot-upstream.ts';

const NEXT_DATA_START = '<script id="__NEXT_DATA__" type="application/json">';

export interface ChaosUpstream {
  baseUrl: string;
  /** Review ids served per domain. */
  served: Map<string, Set<string>>;
  close(): Promise<void>;
}

export async function startChaosUpstream(pagesPerDomain: number): Promise<ChaosUpstream> {
  // Page 1 of the real bt.com capture is the template for every page: its reviews get ids of their own.
  const start = BT_PAGE_1.indexOf(NEXT_DATA_START) + NEXT_DATA_START.length;
  const end = BT_PAGE_1.indexOf('</script>', start);
  const data = JSON.parse(BT_PAGE_1.slice(start, end));
  const [before, after] = [BT_PAGE_1.slice(0, start), BT_PAGE_1.slice(end)];
  const render = (domain: string, page: number, ids: Set<string>) => {
    const props = data.props.pageProps;
    const reviews = props.reviews.map((review: { id: string }, index: number) => {
      const id = `${domain}-p${page}-r${index}`;
      ids.add(id);
      return { ...review, id };
    });
    const pageProps = {
      ...props,
      reviews,
      businessUnit: { ...props.businessUnit, identifyingName: domain },
      filters: { ...props.filters, pagination: { ...props.filters.pagination, currentPage: page, totalPages: pagesPerDomain } },
    };
    return before + JSON.stringify({ ...data, props: { ...data.props, pageProps } }) + after;
  };
  const served = new Map<string, Set<string>>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const match = /^\/review\/([^/]+)$/.exec(url.pathname);
    const page = Number(url.searchParams.get('page') ?? '1');
    if (!match || page < 1 || page > pagesPerDomain) {
      res.writeHead(404).end();
      return;
    }
    const domain = decodeURIComponent(match[1]!);
    const ids = served.get(domain) ?? new Set<string>();
    served.set(domain, ids);
    const body = render(domain, page, ids);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
