// URLs the API hands to its clients: only http(s), never with credentials in them. An upstream's `javascript:` or
// `data:` link, or an operator's `http://user:pass@host`, must not reach a browser or a log reader as it was.

/** The URL as http(s) without user and password, or null when it is not an http(s) URL. */
export function publicUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.username = '';
  url.password = '';
  return url.href;
}

const LINK_KEY = /(?:^|_)(?:url|link|href)$|(?:Url|Link|Href)$/;

/** `extra` with every link-like field (`link_url`, `publisher_url`, ...) made a public URL, or null. */
export function withPublicLinks(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extra)) out[key] = typeof value === 'string' && LINK_KEY.test(key) ? publicUrl(value) : value;
  return out;
}
