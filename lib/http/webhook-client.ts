// Sends alert deliveries: one POST, no redirects followed, no retries inside the attempt (the queue retries, with its
// backoff and the receiver's Retry-After). The SSRF rules of the scrapers apply: an address on a loopback, private
// or link-local network is refused unless the operator allowed its network (WEBHOOK_ALLOW_NETWORKS). Names are
// checked at connect time, on the addresses the connection really uses, so a name that resolves to a public address
// when the rule is saved and to a private one later is refused too.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { permanent, transient } from '../errors.ts';
import { addressMatcher, isInternal } from './addresses.ts';
import { readCapped } from './body.ts';
import { parseRetryAfter } from './wait-headers.ts';

export interface WebhookResponse {
  status: number;
  /** The receiver's first bytes, for the job's result. */
  body: string;
}

export interface WebhookClient {
  post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<WebhookResponse>;
  close(): Promise<void>;
}

export interface WebhookClientOptions {
  userAgent: string;
  timeoutMs: number;
  /** Networks a webhook may reach although they are not public: addresses, CIDR ranges, "loopback", "private". */
  allowNetworks: string[];
}

const RESPONSE_BYTES = 1_024;
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Whether a webhook may be sent to this address. */
export function webhookAddressAllowed(allowNetworks: string[]): (address: string) => boolean {
  const allowed = addressMatcher(allowNetworks);
  return (address) => !isInternal(address) || allowed(address);
}

/**
 * Why this URL cannot be a webhook, or null: http(s) only, no user or password in it (they would be sent in the
 * clear to every log on the way), and no literal address or localhost name outside the allowed networks.
 */
export function webhookUrlProblem(value: string, allowNetworks: string[]): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must start with https:// or http://, not ${url.protocol}//`;
  if (url.username || url.password) return 'must not carry a user or password (put a token in the path or use the secret)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const allowed = webhookAddressAllowed(allowNetworks);
  const local = host === 'localhost' || host.endsWith('.localhost');
  if ((isIP(host) !== 0 && !allowed(host)) || (local && !allowed('127.0.0.1'))) {
    return `points at ${host}, an address on a loopback, private or link-local network, which webhooks may not reach (WEBHOOK_ALLOW_NETWORKS)`;
  }
  return null;
}

export function createWebhookClient(options: WebhookClientOptions): WebhookClient {
  const allowed = webhookAddressAllowed(options.allowNetworks);
  const refused = (host: string, address: string) =>
    permanent('delivery_refused', `${host} resolves to ${address}, an address on a loopback, private or link-local network, which webhooks may not reach (WEBHOOK_ALLOW_NETWORKS)`);
  // net.connect calls this for host names (not for literal addresses, checked before the request).
  const guardedLookup = (hostname: string, lookupOptions: object, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const bad = addresses.find((entry) => !allowed(entry.address));
      if (bad) return callback(refused(hostname, bad.address), '');
      if ((lookupOptions as { all?: boolean }).all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
  const agent = new Agent({
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: { timeout: options.timeoutMs, lookup: guardedLookup } as Agent.Options['connect'],
  });

  return {
    async post(value, body, headers, signal) {
      const problem = webhookUrlProblem(value, options.allowNetworks);
      if (problem) throw permanent('delivery_refused', `the destination URL ${problem}`);
      const url = new URL(value);
      const where = `${url.host}${url.pathname.length > 1 ? '/…' : '/'}`;
      let response;
      try {
        response = await request(url, {
          method: 'POST',
          dispatcher: agent,
          signal,
          headers: { 'content-type': 'application/json', 'user-agent': options.userAgent, ...headers },
          body,
        });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        const cause = (error as { cause?: unknown }).cause ?? error;
        if (cause instanceof Error && (cause as { code?: string }).code === 'delivery_refused') throw cause;
        if ((error as { code?: string }).code === 'delivery_refused') throw error;
        const reason = (error as { code?: string }).code ?? (error as Error).message;
        throw transient('delivery_unavailable', `${where} could not be reached (${reason})`, null, error);
      }
      const text = (await readCapped(response.body, RESPONSE_BYTES)).toString('utf8');
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { status, body: text };
      const retryAfter = response.headers['retry-after'];
      if (RETRYABLE.has(status)) {
        const waitMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
        throw transient('delivery_unavailable', `${where} answered HTTP ${status}${waitMs !== null ? ` and asked to wait ${Math.ceil(waitMs / 1000)} s` : ''}`, waitMs);
      }
      if (status >= 300 && status < 400) {
        throw permanent('delivery_rejected', `${where} answered HTTP ${status} (a redirect, which deliveries do not follow): set the URL it redirects to`);
      }
      throw permanent('delivery_rejected', `${where} refused the delivery with HTTP ${status}: check the URL and, for a signed webhook, the secret`);
    },
    close: () => agent.close(),
  };
}
