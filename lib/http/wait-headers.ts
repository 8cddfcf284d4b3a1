// How long an upstream asks us to wait, from the headers it sends with a refusal or with its last allowed answer.

/** Milliseconds to wait from a Retry-After header (delta-seconds or HTTP-date), or null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse accepts bare numbers such as "-1" as years; an HTTP-date always has a day or month name.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * When a response says the quota is used up (`x-ratelimit-remaining: 0`), how long until `x-ratelimit-reset`.
 * Upstreams write the reset three ways: Unix seconds (GitHub), an ISO time (Mastodon), seconds from now (Reddit).
 */
export function exhaustedQuotaWait(headers: Record<string, string>, now = Date.now()): number | null {
  // Bluesky and the IETF draft drop the x- prefix.
  const remaining = headers['x-ratelimit-remaining'] ?? headers['ratelimit-remaining'];
  const reset = (headers['x-ratelimit-reset'] ?? headers['ratelimit-reset'])?.trim();
  if (remaining === undefined || Number(remaining) > 0 || !reset) return null;
  let until: number;
  if (/^\d+(?:\.\d+)?$/.test(reset)) {
    const value = Number(reset);
    until = value > 1e9 ? value * 1000 : now + value * 1000;
  } else {
    until = Date.parse(reset);
  }
  if (Number.isNaN(until)) return null;
  return Math.min(Math.max(0, until - now), 60 * 60_000);
}
