// A real HTTP server on loopback standing in for an upstream site, so tests exercise the real client stack.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface RecordedRequest extends FakeRequest {
  /** Date.now() when the request arrived. */
  time: number;
  /** Date.now() when the response was fully sent or the client went away; null while in flight. */
  endTime: number | null;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Wait this long before answering (cancelled if the client disconnects first). */
  delayMs?: number;
}

export type Handler = (req: FakeRequest) => Reply | Promise<Reply>;

export interface FakeUpstream {
  /** http://127.0.0.1:<port> (or the host it listens on), without a trailing slash. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Routes registered later win, so a test can override a default route. */
  on(method: string, path: string | RegExp, handler: Handler): void;
  fixture(name: string): string;
  /** Forgets routes and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

const FIXTURES_DIR = new URL('../../test/fixtures/', import.meta.url);

/** A handler answering with each of `handlers` in turn, the last one from then on: "429 first, then the page". */
export function inTurn(...handlers: Handler[]): Handler {
  let next = 0;
  return (req) => handlers[Math.min(next++, handlers.length - 1)]!(req);
}

/** Reads test/fixtures/<name> as UTF-8. */
export function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES_DIR), 'utf8');
}

interface Route {
  method: string;
  path: string | RegExp;
  handler: Handler;
}

export interface FakeUpstreamOptions {
  /** Where to listen: 127.0.0.1 (the default) for tests; 0.0.0.0 in a container, for the compose network. */
  host?: string;
  /** 0 (the default) picks a free one. */
  port?: number;
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const host = options.host ?? '127.0.0.1';
  let routes: Route[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      time: Date.now(),
      endTime: null,
    };
    requests.push(recorded);
    res.on('close', () => {
      recorded.endTime ??= Date.now();
    });

    const route = [...routes].reverse().find((r) => r.method === recorded.method && matches(r.path, recorded.path));
    Promise.resolve(route ? route.handler(recorded) : { status: 404, body: `no fake route for ${recorded.method} ${recorded.path}` })
      .catch((error: unknown): Reply => ({ status: 500, body: `fake handler threw: ${String(error)}` }))
      .then((reply) => {
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status ?? 200, reply.headers);
          res.end(reply.body);
        };
        if (!reply.delayMs) return send();
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, reply.delayMs);
        timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    requests,
    on(method, path, handler) {
      routes.push({ method: method.toUpperCase(), path, handler });
    },
    fixture,
    reset() {
      routes = [];
      requests.length = 0;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}
