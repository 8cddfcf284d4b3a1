// The HTTP Link header (RFC 8288), as GitHub and Mastodon use it for pagination:
//   <https://api.github.com/search/issues?q=x&page=2>; rel="next", <...&page=34>; rel="last"
// Written as a small scanner rather than a split on "," because commas may appear inside <...> and quoted values.

export interface LinkValue {
  /** The target, resolved against the base URL when one was given. */
  href: string;
  /** Relation types, lower-cased: rel="next last" gives two. */
  rels: string[];
  /** The other parameters, names lower-cased; the first occurrence of a name wins (RFC 8288 §3). */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const WHITESPACE = /[ \t\r\n]*/y;

/** Every link in the header; malformed parts are skipped, never thrown on (the header comes from upstream). */
export function parseLinkHeader(header: string | null | undefined, base?: string): LinkValue[] {
  const links: LinkValue[] = [];
  if (!header) return links;
  let at = 0;
  for (;;) {
    const open = header.indexOf('<', at);
    if (open < 0) break;
    const close = header.indexOf('>', open + 1);
    if (close < 0) break;
    at = close + 1;
    const params: Record<string, string> = {};
    for (;;) {
      at = skipWhitespace(header, at);
      if (header[at] !== ';') break;
      at = skipWhitespace(header, at + 1);
      TOKEN.lastIndex = at;
      const name = TOKEN.exec(header)?.[0].toLowerCase();
      if (!name) break;
      at = skipWhitespace(header, TOKEN.lastIndex);
      let value = '';
      if (header[at] === '=') {
        at = skipWhitespace(header, at + 1);
        [value, at] = header[at] === '"' ? readQuoted(header, at) : readToken(header, at);
      }
      // RFC 8187 "title*=UTF-8''..." carries the same parameter, encoded, and is preferred over the plain one.
      if (name.endsWith('*')) params[name.slice(0, -1)] = decodeExtValue(value);
      else if (!(name in params)) params[name] = value;
    }
    const href = resolve(header.slice(open + 1, close).trim(), base);
    const rel = params.rel ?? '';
    delete params.rel;
    if (href !== null) links.push({ href, rels: rel.toLowerCase().split(/[ \t]+/).filter(Boolean), params });
    // Whatever follows up to the next link is not part of this one.
    const comma = nextComma(header, at);
    if (comma < 0) break;
    at = comma + 1;
  }
  return links;
}

/** The target of the first link with relation `rel` ("next", "last", ...), or null. */
export function linkWithRel(header: string | null | undefined, rel: string, base?: string): string | null {
  const wanted = rel.toLowerCase();
  return parseLinkHeader(header, base).find((link) => link.rels.includes(wanted))?.href ?? null;
}

/**
 * The same path and query on `origin`. A mirror, proxy or test double in front of an upstream passes the upstream's
 * absolute Link targets through unchanged; following them as they are would leave the configured base URL.
 */
export function onOrigin(href: string, origin: string): string {
  const target = new URL(href);
  const wanted = new URL(origin);
  target.protocol = wanted.protocol;
  target.host = wanted.host;
  return target.href;
}

function skipWhitespace(header: string, at: number): number {
  WHITESPACE.lastIndex = at;
  WHITESPACE.exec(header);
  return WHITESPACE.lastIndex;
}

function readToken(header: string, at: number): [string, number] {
  TOKEN.lastIndex = at;
  const token = TOKEN.exec(header)?.[0] ?? '';
  return [token, at + token.length];
}

function readQuoted(header: string, at: number): [string, number] {
  let value = '';
  let i = at + 1;
  for (; i < header.length && header[i] !== '"'; i++) {
    if (header[i] === '\\' && i + 1 < header.length) i++;
    value += header[i];
  }
  return [value, i + 1];
}

/** The index of the "," that ends the current link, skipping any inside quotes; -1 at the end. */
function nextComma(header: string, at: number): number {
  let quoted = false;
  for (let i = at; i < header.length; i++) {
    const char = header[i];
    if (quoted && char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) return i;
  }
  return -1;
}

function decodeExtValue(value: string): string {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!match) return value;
  try {
    const encoded = match[2] ?? '';
    if (match[1]?.toLowerCase() === 'utf-8') return decodeURIComponent(encoded);
    return encoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  } catch {
    return value;
  }
}

function resolve(target: string, base: string | undefined): string | null {
  try {
    return new URL(target, base).href;
  } catch {
    return null;
  }
}
