// Who is looking at a page, and what they may do. A session cookie (HttpOnly, SameSite=Strict, Secure behind TLS,
// expiring) says it; without one the dashboard is as open as the API: with no API_TOKEN (development and tests)
// anyone may change things, so a session is handed out to carry the CSRF token; with public reads anyone may look.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type Role, readsNeedToken } from '../api/auth.ts';
import type { Config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { type Session, type SessionStore, sameToken } from './session.ts';

export const SESSION_COOKIE = 'vibe_session';

export interface Viewer {
  role: Role;
  /** Null for a visitor without a session (public reads): such a visitor has no form to send. */
  csrf: string | null;
  signedIn: boolean;
  /** Whether signing in would give more than this viewer has. */
  mayUpgrade: boolean;
}

export type DashboardEnv = { Variables: { viewer: Viewer; form: URLSearchParams } };

type AuthConfig = Pick<Config, 'apiToken' | 'apiReadToken' | 'apiPublicReads'>;

/** Whether the request reached us over TLS: only a trusted proxy's X-Forwarded-Proto says so, as this server speaks plain HTTP. */
export function overTls(c: Context, trusted: (address: string) => boolean): boolean {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    return false;
  }
  if (!peer || !trusted(peer)) return false;
  return c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

export function setSessionCookie(c: Context, id: string, ttlMs: number, secure: boolean): void {
  setCookie(c, SESSION_COOKIE, id, { httpOnly: true, secure, sameSite: 'Strict', path: '/', maxAge: Math.floor(ttlMs / 1000) });
}

export function clearSessionCookie(c: Context, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { httpOnly: true, secure, sameSite: 'Strict', path: '/' });
}

export function viewerOf(session: Session, config: AuthConfig): Viewer {
  return { role: session.role, csrf: session.csrf, signedIn: session.signedIn, mayUpgrade: session.role === 'read' && config.apiToken !== null };
}

/** Resolves the viewer of every page; a visitor who must sign in first is sent to the sign-in page. */
export function resolveViewer(config: AuthConfig, store: SessionStore, trusted: (address: string) => boolean): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const session = await store.get(getCookie(c, SESSION_COOKIE));
    if (session) {
      c.set('viewer', viewerOf(session, config));
    } else if (config.apiToken === null) {
      const created = await store.create('admin', false);
      setSessionCookie(c, created.id, store.ttlMs, overTls(c, trusted));
      c.set('viewer', viewerOf(created.session, config));
    } else if (!readsNeedToken(config)) {
      c.set('viewer', { role: 'read', csrf: null, signedIn: false, mayUpgrade: true });
    } else {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') throw new ApiError(401, 'unauthorized', 'sign in first: your session has ended');
      const url = new URL(c.req.url);
      return c.redirect(`/ui/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    return next();
  };
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/** Reads a form post: url-encoded, carrying this session's CSRF token; the form is left in c.var.form. */
export const checkForm: MiddlewareHandler<DashboardEnv> = async (c, next) => {
  if (c.req.method !== 'POST') return next();
  if (!FORM_TYPE.test(c.req.header('content-type') ?? '')) throw new ApiError(415, 'unsupported_media_type', 'the dashboard takes its forms as application/x-www-form-urlencoded');
  const form = new URLSearchParams(await c.req.text());
  const { csrf } = c.get('viewer');
  if (csrf === null || !sameToken(form.get('csrf'), csrf)) {
    throw new ApiError(403, 'csrf_invalid', 'this form is out of date or was not sent from the dashboard: reload the page and try again');
  }
  c.set('form', form);
  return next();
};

/** For every route that changes something: a read session gets a 403, whatever form it forged. */
export const requireAdmin: MiddlewareHandler<DashboardEnv> = async (c, next) => {
  if (c.get('viewer').role !== 'admin') throw new ApiError(403, 'forbidden', 'a read-only session cannot change anything: sign in with API_TOKEN');
  return next();
};

/** The sign-in form's own CSRF token: a short cookie beside the form, as there is no session yet to hold it. */
export const SIGN_IN_COOKIE = 'vibe_sign_in';

export function signInToken(c: Context, secure: boolean, fresh: () => string): string {
  const existing = getCookie(c, SIGN_IN_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = fresh();
  setCookie(c, SIGN_IN_COOKIE, token, { httpOnly: true, secure, sameSite: 'Strict', path: '/ui/sign-in', maxAge: 3600 });
  return token;
}

export function signInCookie(c: Context): string | undefined {
  return getCookie(c, SIGN_IN_COOKIE);
}

/** Where to go after signing in: a dashboard path only, never another site ("//evil.example" is one). */
export function safeNext(value: string | null | undefined): string {
  if (!value || !value.startsWith('/ui') || value.startsWith('//') || /[\\\r\n]/.test(value)) return '/ui/';
  return value;
}
