import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * The address a request came from: the socket's peer, or, when that peer is a trusted proxy (nginx in front), the
 * address the proxy names (X-Real-IP, else the last X-Forwarded-For hop it added). Null without a socket (tests
 * that call the app directly).
 */
export function clientAddress(c: Context, trusted: (address: string) => boolean): string | null {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    return null;
  }
  if (!peer) return null;
  if (!trusted(peer)) return peer;
  const real = c.req.header('x-real-ip')?.trim();
  if (real) return real;
  const forwarded = c.req.header('x-forwarded-for')?.split(',').map((hop) => hop.trim()).filter(Boolean);
  return forwarded?.at(-1) ?? peer;
}
