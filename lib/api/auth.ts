// Who may do what: the admin token (API_TOKEN) every route, the read token (API_READ_TOKEN) every GET, nobody
// anything but the open routes (/health, /ready, /openapi.json) when a token is required and missing. Tokens are
// compared by their HMACs under a key of this process, so the comparison takes as long for a token of any length
// and reveals nothing of it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { OPEN_PATHS } from './contract/routes.ts';

export type Role = 'admin' | 'read';

const READ_METHODS = new Set(['GET', 'HEAD']);

type AuthConfig = Pick<Config, 'apiToken' | 'apiReadToken' | 'apiPublicReads'>;

export function tokenMatcher(config: AuthConfig): (given: string | null) => Role | null {
  const key = randomBytes(32);
  const digest = (token: string) => createHmac('sha256', key).update(token).digest();
  const admin = config.apiToken ? digest(config.apiToken) : null;
  const read = config.apiReadToken ? digest(config.apiReadToken) : null;
  return (given) => {
    if (given === null) return null;
    const candidate = digest(given);
    // Both are compared whatever the first answer, so timing does not tell which role a token has.
    const isAdmin = admin !== null && timingSafeEqual(candidate, admin);
    const isRead = read !== null && timingSafeEqual(candidate, read);
    return isAdmin ? 'admin' : isRead ? 'read' : null;
  };
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** Whether reads need a token: when a read token exists and public reads were not asked for. */
export function readsNeedToken(config: AuthConfig): boolean {
  return !config.apiPublicReads && config.apiReadToken !== null;
}

export function authorization(config: AuthConfig, roleOf: (c: Parameters<MiddlewareHandler>[0]) => Role | null): MiddlewareHandler {
  const guardReads = readsNeedToken(config);
  return async (c, next) => {
    if (OPEN_PATHS.has(c.req.path)) return next();
    const reading = READ_METHODS.has(c.req.method);
    if (reading && !guardReads) return next();
    if (!reading && !config.apiToken) return next();
    const role = roleOf(c);
    if (role === null) {
      c.header('www-authenticate', 'Bearer');
      throw new ApiError(401, 'unauthorized', reading
        ? 'this API needs the header Authorization: Bearer <API_READ_TOKEN> (or API_TOKEN)'
        : 'this API needs the header Authorization: Bearer <API_TOKEN>');
    }
    if (!reading && role !== 'admin') throw new ApiError(403, 'forbidden', 'the read token cannot change anything: use API_TOKEN for this request');
    return next();
  };
}
