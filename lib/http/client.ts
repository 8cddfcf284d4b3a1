// The one way sources talk to upstream sites: polite (one request at a time per host), retrying what is
// worth retrying inline, and turning every failure into a JobError the queue knows how to schedule.
import { Agent, request } from 'undici';
import { JobError, permanent, transient } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { sleep } from '../sleep.ts';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { RateLimit } from '../model/rate-limit.ts';
import { addressKind, isInternal } from './addresses.ts';
import { decodeBody, readCapped, readLimited, tooLarge } from './body.ts';
import { HostTurns } from './host-turns.ts';
import { exhaustedQuotaWait, parseRetryAfter } from './wait-headers.ts';

export { exhaustedQuotaWait, parseRetryAfter };

export interface HttpResponse<Body = string> {
  status: number;
  /** The URL that answered, after any redirects. */
  url: string;
  headers: Record<string, string>;
  body: Body;
}

export interface RequestOptions {
  signal: AbortSignal;
  accept?: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The fleet-wide limit for the host; sources get a client already bound to theirs (withSourceLimits). */
  rateLimit?: RateLimit;
  /** The largest body, as sent and decoded; the client's own default (MAX_BODY_BYTES) when not given. */
  maxBodyBytes?: number;
  /**
   * Whether a redirect may lead into a loopback, private or link-local network. By default only when the request
   * started in one (a source pointed at a local server); a caller that knows better says so.
   */
  privateNetworks?: boolean;
}

export interface HttpClient {
  /** Sends the request and returns its decoded text body; throws JobError (from ../errors.ts) for failures. */
  getText(url: string, options: RequestOptions): Promise<HttpResponse>;
  /**
   * Like getText, but the body stays UTF-8 bytes (content-encoding undone), for a parser that reads one part of
   * a large page: decoding a whole page to text costs more CPU and memory than the part it needs.
   */
  getBytes(url: string, options: RequestOptions): Promise<HttpResponse<Buffer>>;
  /** Like getText, then parses JSON; a body that is HTML or not JSON is a permanent upstream_bad_response. */
  getJson<T = unknown>(url: string, options: RequestOptions): Promise<HttpResponse & { json: T }>;
  /** The upstream asked every client to pause (Stack Exchange's `backoff`, an exhausted quota): no request to it until then. */
  holdHost(host: string, ms: number): Promise<void>;
  close(): Promise<void>;
}

/** The seam for a limiter shared by every worker (lib/http/host-limiter.ts); without one, only this client's turns apply. */
export interface HostLimiter {
  /** Resolves when a request to `host` may go, with a function that ends it. */
  acquire(host: string, limit: RateLimit, signal: AbortSignal): Promise<() => void>;
  hold(host: string, ms: number): Promise<void>;
}

export interface HttpClientOptions {
  userAgent: string;
  timeoutMs: number;
  /** Tries per getText, counting the first. */
  maxAttempts?: number;
  retryBaseMs?: number;
  /** A Retry-After longer than this is not slept through: the job is handed back to the queue instead. */
  maxInlineWaitMs?: number;
  log?: Logger;
  /** Runs before every request, after this client's own per-host turn is granted. */
  limiter?: HostLimiter;
  /** The largest body a request reads, as sent and once decoded (default 32 MiB). */
  maxBodyBytes?: number;
  /** How host names are resolved for the redirect rules (tests give loopback names). */
  lookup?: (host: string) => Promise<string[]>;
}

// Headers that carry a source's credentials: they go to the origin they were configured for and nowhere else.
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'];
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 3;
const ERROR_BODY_BYTES = 4_096;
const DEFAULT_ACCEPT = 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8';

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const maxAttempts = options.maxAttempts ?? 4;
  const retryBaseMs = options.retryBaseMs ?? 1000;
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 30_000;
  const log = options.log ?? silentLogger;
  const defaultMaxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const lookup = options.lookup ?? resolveAll;
  const agent = new Agent({
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: options.timeoutMs },
  });
  const turns = new HostTurns();
  const holds = new Map<string, number>();

  async function holdHost(host: string, ms: number): Promise<void> {
    if (ms <= 0) return;
    holds.set(host, Math.max(holds.get(host) ?? 0, Date.now() + ms));
    await options.limiter?.hold(host, ms);
  }

  async function send(url: URL, request_: RequestOptions & { accept: string }, method: 'GET' | 'POST'): Promise<RawResponse> {
    const { signal } = request_;
    const release = await turns.acquire(url.host, signal);
    let releaseFleet: (() => void) | undefined;
    try {
      const heldFor = (holds.get(url.host) ?? 0) - Date.now();
      if (heldFor > maxInlineWaitMs) {
        throw transient('upstream_rate_limited', `${url.host} asked for a pause of ${Math.ceil(heldFor / 1000)} s`, heldFor);
      }
      if (heldFor > 0) await sleep(heldFor, signal);
      if (options.limiter && request_.rateLimit) releaseFleet = await options.limiter.acquire(url.host, request_.rateLimit, signal);
      const started = Date.now();
      const response = await request(url, {
        method,
        dispatcher: agent,
        signal,
        headers: { 'user-agent': options.userAgent, accept: request_.accept, 'accept-encoding': 'gzip, deflate, br', ...request_.headers },
        body: method === 'POST' ? request_.body : undefined,
      });
      const successful = response.statusCode >= 200 && response.statusCode < 300;
      const limit = request_.maxBodyBytes ?? defaultMaxBody;
      const declared = Number(response.headers['content-length']);
      if (successful && declared > limit) {
        response.body.destroy();
        throw tooLarge(url, `a body of ${declared} bytes`);
      }
      // Other bodies are never read; draining them lets the keep-alive connection be reused.
      // Error bodies are kept short: enough for an API's own explanation, never a whole error page.
      const body = successful ? await readLimited(response.body, limit, url) : await readCapped(response.body, ERROR_BODY_BYTES);
      log.debug('http_response', { host: url.host, path: url.pathname, status: response.statusCode, ms: Date.now() - started });
      const headers = flattenHeaders(response.headers);
      const quotaResetMs = exhaustedQuotaWait(headers);
      if (quotaResetMs !== null) await holdHost(url.host, quotaResetMs);
      return { status: response.statusCode, headers, body };
    } finally {
      releaseFleet?.();
      release();
    }
  }

  /**
   * Follows up to MAX_REDIRECTS redirects. Credentials go only to the origin the request started at; a redirect
   * elsewhere is followed without them, never to a scheme other than http(s), and never into a loopback, private
   * or link-local network unless the request started in one (a source pointed at a local server).
   */
  async function followRedirects(start: URL, request_: RequestOptions & { accept: string }): Promise<RawResponse & { url: URL }> {
    let url = start;
    let method = request_.method ?? 'GET';
    let current = request_;
    let startsInternal: boolean | null = null;
    for (let hop = 0; ; hop++) {
      const response = await send(url, current, method);
      if (!REDIRECT_STATUSES.has(response.status)) return { ...response, url };
      const location = response.headers['location'];
      if (!location) {
        throw permanent('upstream_bad_response', `${where(url)} answered HTTP ${response.status} without a Location header: the site changed; check the source`);
      }
      if (hop === MAX_REDIRECTS) {
        throw permanent('upstream_bad_response', `${where(start)} redirected more than ${MAX_REDIRECTS} times (last to ${where(new URL(location, url))}): check the query or the source's base URL`);
      }
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw permanent('upstream_redirect_refused', `${where(url)} redirected to a ${next.protocol} address, which is not followed`);
      }
      if (next.origin !== start.origin) {
        startsInternal ??= request_.privateNetworks ?? (await resolvesInternal(start.hostname));
        if (!startsInternal && (await resolvesInternal(next.hostname))) {
          throw permanent('upstream_redirect_refused', `${where(url)} redirected to ${next.host}, an address on a loopback, private or link-local network, which is not followed (the source's base URL is public)`);
        }
        current = { ...current, headers: withoutCredentials(current.headers) };
      }
      url = next;
      // A redirected POST becomes a GET (303, and 301/302 in practice), except for 307/308 which keep it.
      if (response.status !== 307 && response.status !== 308) method = 'GET';
    }
  }

  async function resolvesInternal(hostname: string): Promise<boolean> {
    const bare = hostname.replace(/^\[|\]$/g, '');
    if (addressKind(bare) !== null) return isInternal(bare);
    if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
    try {
      return (await lookup(bare)).some(isInternal);
    } catch {
      // A name that does not resolve cannot be reached anyway; the request will say so.
      return false;
    }
  }

  async function getBytes(rawUrl: string, requestOptions: RequestOptions): Promise<HttpResponse<Buffer>> {
    const url = new URL(rawUrl);
    const { signal } = requestOptions;
    const request_ = { ...requestOptions, accept: requestOptions.accept ?? DEFAULT_ACCEPT };
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      let failure: Failure;
      try {
        const response = await followRedirects(url, request_);
        if (response.status >= 200 && response.status < 300) {
          const body = await decodeBody(response.body, response.headers['content-encoding'], response.url, request_.maxBodyBytes ?? defaultMaxBody);
          return { status: response.status, url: response.url.href, headers: response.headers, body };
        }
        failure = classifyStatus(response.url, response.status, response.headers);
        if (failure.kind === 'final') {
          const body = await decodeBody(response.body, response.headers['content-encoding'], response.url).then((bytes) => bytes.toString('utf8'), () => '');
          failure.error.upstream = { status: response.status, body };
        }
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (error instanceof JobError) throw error;
        failure = { kind: 'network', reason: describeNetworkError(error), cause: error };
      }

      if (failure.kind === 'final') throw failure.error;
      const retryAfterMs = failure.kind === 'status' ? failure.retryAfterMs : null;
      // A Retry-After speaks for the host, not just this request: every worker holds back.
      if (retryAfterMs !== null) await holdHost(url.host, retryAfterMs).catch(() => {});
      if (retryAfterMs !== null && retryAfterMs > maxInlineWaitMs) {
        throw exhausted(url, failure, attempt, retryAfterMs, 'wait');
      }
      if (attempt >= maxAttempts) throw exhausted(url, failure, attempt, retryAfterMs, 'attempts');
      const waitMs = Math.max(fullJitter(retryBaseMs, attempt), retryAfterMs ?? 0);
      log.warn('http_retry', {
        host: url.host,
        path: url.pathname,
        attempt,
        status: failure.kind === 'status' ? failure.status : undefined,
        error: failure.kind === 'network' ? failure.reason : undefined,
        wait_ms: waitMs,
      });
      await sleep(waitMs, signal);
    }
  }

  async function getText(rawUrl: string, requestOptions: RequestOptions): Promise<HttpResponse> {
    const response = await getBytes(rawUrl, requestOptions);
    return { ...response, body: response.body.toString('utf8') };
  }

  async function getJson<T>(rawUrl: string, requestOptions: RequestOptions): Promise<HttpResponse & { json: T }> {
    const response = await getText(rawUrl, { accept: 'application/json', ...requestOptions });
    const url = new URL(response.url);
    const type = response.headers['content-type'] ?? '';
    const start = response.body.trimStart().slice(0, 1);
    if (/html/i.test(type) || start === '<') {
      throw permanent('upstream_bad_response', `${where(url)} answered with an HTML page where JSON was expected (a login wall, a block page or a changed API): open it in a browser to see which`);
    }
    try {
      return { ...response, json: JSON.parse(response.body) as T };
    } catch (error) {
      throw permanent('upstream_bad_response', `${where(url)} answered with a body that is not JSON (${(error as Error).message}): the API may have changed`, error);
    }
  }

  return {
    getText,
    getBytes,
    getJson,
    holdHost,
    close: () => agent.close(),
  };
}

/** A client whose every request carries a source's rate limit and body limit unless it names its own. */
export function withSourceLimits(http: HttpClient, limits: { rateLimit: RateLimit; maxBodyBytes?: number }): HttpClient {
  const defaults = { rateLimit: limits.rateLimit, ...(limits.maxBodyBytes ? { maxBodyBytes: limits.maxBodyBytes } : {}) };
  return {
    getText: (url, options) => http.getText(url, { ...defaults, ...options }),
    getBytes: (url, options) => http.getBytes(url, { ...defaults, ...options }),
    getJson: (url, options) => http.getJson(url, { ...defaults, ...options }),
    holdHost: (host, ms) => http.holdHost(host, ms),
    close: () => http.close(),
  };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

type RetryableFailure =
  | { kind: 'status'; status: number; retryAfterMs: number | null }
  | { kind: 'network'; reason: string; cause: unknown };

type Failure = RetryableFailure | { kind: 'final'; error: JobError };

function classifyStatus(url: URL, status: number, headers: Record<string, string>): Failure {
  // Cloudflare sends its bot challenge as a 403 or 503 and marks it; retrying a challenge only deepens the block.
  if (headers['cf-mitigated'] === 'challenge') {
    return final(permanent('upstream_blocked', `${url.host} answered with a Cloudflare bot challenge (HTTP ${status}) instead of the page: this worker is being treated as a bot; lower the scrape rate or run the worker elsewhere`));
  }
  if (RETRYABLE_STATUSES.has(status)) return { kind: 'status', status, retryAfterMs: parseRetryAfter(headers['retry-after']) ?? exhaustedQuotaWait(headers) };
  // GitHub answers an exhausted quota (and its secondary limits) with 403, not 429: a wait, not a block.
  if (status === 403 && (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0')) {
    return { kind: 'status', status: 429, retryAfterMs: parseRetryAfter(headers['retry-after']) ?? exhaustedQuotaWait(headers) };
  }
  if (status === 401) {
    return final(permanent('upstream_login_required', `${where(url)} asked for a login (HTTP 401): the page is not public; scrape a public page instead`));
  }
  if (status === 403) {
    return final(permanent('upstream_blocked', `${url.host} refused the request (HTTP 403): this worker's IP address is probably blocked; lower the scrape rate or run the worker elsewhere`));
  }
  if (status === 404 || status === 410) {
    return final(permanent('upstream_not_found', `${where(url)} does not exist (HTTP ${status}): check the query`));
  }
  if (status >= 500) {
    return final(transient('upstream_unavailable', `${where(url)} failed with HTTP ${status}: the site is having trouble`));
  }
  return final(permanent('upstream_bad_response', `${where(url)} answered HTTP ${status}, which the scraper does not expect: the site may have changed; check the source`));
}

function exhausted(url: URL, failure: RetryableFailure, attempts: number, retryAfterMs: number | null, why: 'wait' | 'attempts'): JobError {
  if (failure.kind === 'network') {
    return transient('upstream_unavailable', `${url.host} could not be reached after ${attempts} attempts (${failure.reason}): check the worker's network and DNS, or whether the site is down`, null, failure.cause);
  }
  const status = failure.status;
  const code = status === 429 ? 'upstream_rate_limited' : 'upstream_unavailable';
  const what = status === 429 ? 'is rate-limiting this worker' : 'is having trouble';
  const message = why === 'wait'
    ? `${url.host} ${what} (HTTP ${status}) and asked for a ${Math.ceil((retryAfterMs ?? 0) / 1000)} s pause`
    : `${url.host} ${what} (HTTP ${status} on ${attempts} attempts); if this repeats, lower the scrape rate`;
  return transient(code, message, retryAfterMs);
}

const final = (error: JobError): Failure => ({ kind: 'final', error });

/** Host and path only: query strings may carry tokens and never go into logs or messages. */
const where = (url: URL) => `${url.host}${url.pathname}`;

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out';
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

function fullJitter(baseMs: number, attempt: number): number {
  return Math.random() * baseMs * 2 ** (attempt - 1);
}

function withoutCredentials(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !CREDENTIAL_HEADERS.includes(name.toLowerCase())));
}

async function resolveAll(host: string): Promise<string[]> {
  return (await dnsLookup(host, { all: true })).map((entry) => entry.address);
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
