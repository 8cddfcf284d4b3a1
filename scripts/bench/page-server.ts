// The fake Trustpilot the scrape and api benches read from: the peer-crawlee pages, from memory, at zero latency.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './common.ts';

/** Every scrape job reads this many pages: limit = 20 reviews × this. */
export const PAGES_PER_JOB = 9;
export const JOB_LIMIT = 20 * PAGES_PER_JOB;

const FIXTURES = {
  bt: 'test/fixtures/trustpilot/bt-com-page1-2023-05.html',
  eventnet: 'test/fixtures/trustpilot/eventnet-de-page1-2024-07-prettified.html',
} as const;

export interface PageServer {
  baseUrl: string;
  stats(): { requests: number; bytes: number; not_found: number; cpu_ms: number };
  close(): Promise<void>;
}

/**
 * The recorded Trustpilot pages as peer-crawlee's server.ts serves them: bt.com's for odd page numbers,
 * eventnet.de's for even ones, at once, from memory, with content-length and no compression, whatever the domain.
 * Two same-length edits, so that a job reads several pages and stores new posts on each:
 * - eventnet.de's recording says `"totalPages":1`, which would end every job at page 2; it is served as 9.
 * - every review id (24 hex digits, 4 places in a page) gets its last 6 digits replaced by a per-response counter,
 *   so each page holds 20 reviews never seen before (fresh inserts, as when scraping new reviews).
 * Page sizes are therefore byte for byte the peer's (410,206 and 448,077 bytes).
 */
export async function startPageServer(): Promise<PageServer> {
  const pages = (['bt', 'eventnet'] as const).map((name) => {
    const body = readFileSync(join(ROOT, FIXTURES[name]));
    if (name === 'eventnet') {
      const at = body.indexOf('"totalPages":1}');
      if (at < 0) throw new Error('eventnet fixture: "totalPages":1} not found');
      body.write('9', at + '"totalPages":'.length, 'latin1');
    }
    const html = body.toString('utf8');
    const marker = html.indexOf('"__NEXT_DATA__"');
    const start = html.indexOf('>', marker) + 1;
    const data = JSON.parse(html.slice(start, html.indexOf('</script>', start))) as { props: { pageProps: { reviews: { id: string }[] } } };
    const ids = data.props.pageProps.reviews.map((r) => r.id);
    if (ids.length !== 20 || new Set(ids.map((id) => id.slice(0, 18))).size !== 20) throw new Error(`${name}: review ids do not differ in their first 18 digits`);
    const offsets: number[] = [];
    for (const id of ids) for (let at = body.indexOf(id); at >= 0; at = body.indexOf(id, at + 1)) offsets.push(at + 18);
    return { body, offsets };
  });
  let requests = 0;
  let bytes = 0;
  let notFound = 0;
  let counter = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const page = Number(url.searchParams.get('page') ?? '1');
    if (req.method !== 'GET' || !url.pathname.startsWith('/review/') || !Number.isInteger(page) || page < 1) {
      notFound++;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const { body, offsets } = pages[page % 2 === 1 ? 0 : 1]!;
    const out = Buffer.allocUnsafe(body.length);
    body.copy(out);
    const suffix = (counter++ % 0x1000000).toString(16).padStart(6, '0');
    for (const at of offsets) out.write(suffix, at, 'latin1');
    requests++;
    bytes += out.length;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': out.length });
    res.end(out);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    stats: () => {
      const cpu = process.cpuUsage();
      return { requests, bytes, not_found: notFound, cpu_ms: (cpu.user + cpu.system) / 1000 };
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
