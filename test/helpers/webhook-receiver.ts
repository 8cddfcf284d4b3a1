// A real HTTP server on loopback that receives alert deliveries: it records each one and answers as the test says,
// path by path ("500, then 429 with Retry-After, then 200").
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  time: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
}

export interface WebhookReceiver {
  url(path: string): string;
  /** The answers for a path, in turn, the last one from then on; 200 for a path never set. */
  answer(path: string, ...answers: Answer[]): void;
  deliveries(path?: string): Delivery[];
  /** Resolves once `path` has received `count` deliveries. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Delivery[] = [];
  const answers = new Map<string, { list: Answer[]; next: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), time: Date.now() });
      const plan = answers.get(path);
      const answer = plan ? plan.list[Math.min(plan.next++, plan.list.length - 1)]! : { status: 200 };
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const deliveries = (path?: string) => received.filter((d) => path === undefined || d.path === path);
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    answer: (path, ...list) => answers.set(path, { list, next: 0 }),
    deliveries,
    async waitFor(path, count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (deliveries(path).length < count) {
        if (Date.now() > deadline) throw new Error(`${path} received ${deliveries(path).length} deliveries, expected ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return deliveries(path);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What a receiver does with X-Vibe-Signature: recompute the HMAC of "t.body" and compare in constant time. */
export function verifySignature(secret: string, header: string | string[] | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(header ?? ''));
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}
