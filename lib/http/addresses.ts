// Which network an IP address is on, for the SSRF rules (no requests to private networks unless the configured
// origin is on one) and for the proxies whose X-Forwarded-For the API believes.
import { BlockList, isIP } from 'node:net';

export type AddressKind = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'public';

const RANGES: [AddressKind, string, number, 'ipv4' | 'ipv6'][] = [
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  // Carrier-grade NAT and the benchmarking range are not reachable from the internet either.
  ['private', '100.64.0.0', 10, 'ipv4'],
  ['private', '198.18.0.0', 15, 'ipv4'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['link-local', 'fe80::', 10, 'ipv6'],
];

const lists = new Map<AddressKind, BlockList>();
for (const [kind, network, prefix, family] of RANGES) {
  if (!lists.has(kind)) lists.set(kind, new BlockList());
  lists.get(kind)!.addSubnet(network, prefix, family);
}

/** The kind of an IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts as its IPv4 one); null when not an IP. */
export function addressKind(address: string): AddressKind | null {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  const ip = mapped ?? bare;
  const family = isIP(ip);
  if (family === 0) return null;
  for (const [kind, list] of lists) if (list.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return kind;
  return 'public';
}

/** Not on the public internet: loopback, private, link-local or unspecified. */
export function isInternal(address: string): boolean {
  const kind = addressKind(address);
  return kind !== null && kind !== 'public';
}

/**
 * A matcher for a list of addresses, CIDR ranges and the words "loopback" and "private" (private and link-local
 * networks), as TRUSTED_PROXIES takes them.
 */
export function addressMatcher(entries: string[]): (address: string) => boolean {
  const list = new BlockList();
  const kinds = new Set<AddressKind>();
  for (const entry of entries) {
    if (entry === 'loopback') kinds.add('loopback');
    else if (entry === 'private') {
      kinds.add('private');
      kinds.add('link-local');
    } else {
      const [network, prefix] = entry.split('/');
      const family = isIP(network ?? '');
      if (family === 0) throw new Error(`"${entry}" is not an IP address, a CIDR range, "loopback" or "private"`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) list.addAddress(network!, type);
      else list.addSubnet(network!, Number(prefix), type);
    }
  }
  return (address) => {
    const kind = addressKind(address);
    if (kind === null) return false;
    if (kinds.has(kind)) return true;
    const bare = address.replace(/^::ffff:(?=\d+\.)/i, '');
    return list.check(bare, isIP(bare) === 4 ? 'ipv4' : 'ipv6');
  };
}
