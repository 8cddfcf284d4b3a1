// Signing in: the read token (API_READ_TOKEN) or the admin token (API_TOKEN) is exchanged for a session; the token
// itself is never kept, in the cookie or anywhere else. Signing out ends the session in Redis.
import { type Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Role } from '../../api/auth.ts';
import { ApiError } from '../../errors.ts';
import { randomToken, sameToken, type SessionStore } from '../session.ts';
import { PageHead, notice, render } from '../layout.tsx';
import { type DashboardEnv, SESSION_COOKIE, clearSessionCookie, safeNext, setSessionCookie, signInCookie, signInToken } from '../viewer.ts';

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;

function SignInPage({ next, csrf, error, notice = null }: { next: string; csrf: string; error: string | null; notice?: string | null }) {
  return (
    <html lang="en">
      <PageHead title="Sign in" script={false} />
      <body class="sign-in">
        <main id="main">
          <h1>vibe-tracker</h1>
          <form method="post" action="/ui/sign-in" class="card">
            <input type="hidden" name="csrf" value={csrf} />
            <input type="hidden" name="next" value={next} />
            {notice ? <p class="notice" role="status">{notice}</p> : null}
            {error ? <p class="error" role="alert">{error}</p> : null}
            <label>Token
              <input type="password" name="token" required autocomplete="current-password" />
            </label>
            <p class="muted">The read token (API_READ_TOKEN) shows everything; the admin token (API_TOKEN) also changes things.</p>
            <button type="submit" class="button primary">Sign in</button>
          </form>
        </main>
      </body>
    </html>
  );
}

export function signInRoutes(options: { store: SessionStore; roleOf: (token: string | null) => Role | null; secure: (c: Context) => boolean; enabled: boolean }) {
  const { store, roleOf, secure } = options;
  return new Hono<DashboardEnv>()
    .get('/sign-in', (c) => {
      // With no API_TOKEN nobody needs a token: the dashboard is open, as the API is.
      if (!options.enabled) return c.redirect('/ui/', 303);
      const csrf = signInToken(c, secure(c), randomToken);
      return render(c, <SignInPage next={safeNext(c.req.query('next'))} csrf={csrf} error={null} notice={notice(c)} />);
    })
    .post('/sign-in', async (c) => {
      if (!options.enabled) return c.redirect('/ui/', 303);
      if (!FORM_TYPE.test(c.req.header('content-type') ?? '')) throw new ApiError(415, 'unsupported_media_type', 'the dashboard takes its forms as application/x-www-form-urlencoded');
      const form = new URLSearchParams(await c.req.text());
      const expected = signInCookie(c);
      if (!expected || !sameToken(form.get('csrf'), expected)) throw new ApiError(403, 'csrf_invalid', 'this form is out of date or was not sent from the dashboard: reload the page and try again');
      const next = safeNext(form.get('next'));
      const role = roleOf(form.get('token')?.trim() || null);
      if (role === null) {
        return render(c, <SignInPage next={next} csrf={expected} error="That token is neither API_READ_TOKEN nor API_TOKEN." />, 401);
      }
      // A new id at every sign-in, so an id someone planted before cannot become a signed-in session.
      await store.end(getCookie(c, SESSION_COOKIE));
      const { id } = await store.create(role, true);
      setSessionCookie(c, id, store.ttlMs, secure(c));
      return c.redirect(next, 303);
    });
}

export function signOutRoute(store: SessionStore, secure: (c: Context) => boolean) {
  return new Hono<DashboardEnv>().post('/sign-out', async (c) => {
    await store.end(getCookie(c, SESSION_COOKIE));
    clearSessionCookie(c, secure(c));
    return c.redirect('/ui/sign-in?notice=signed_out', 303);
  });
}
