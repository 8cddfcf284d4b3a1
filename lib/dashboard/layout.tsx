// The frame of every page: the navigation, who is signed in, the notice a form left, and the small pieces forms
// are made of. No inline script or style anywhere: the Content-Security-Policy forbids both.
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { ASSETS } from './assets.ts';
import type { DashboardEnv, Viewer } from './viewer.ts';

const NAV = [
  ['/ui/', 'Overview'],
  ['/ui/feed', 'Feed'],
  ['/ui/queries', 'Queries'],
  ['/ui/queue', 'Queue'],
  ['/ui/sources', 'Sources'],
  ['/ui/alerts', 'Alerts'],
  ['/ui/backups', 'Backups'],
] as const;

/** What a form that redirected back may say: a fixed list, so a link cannot put words on the page. */
const NOTICES: Record<string, string> = {
  query_added: 'The query is tracked; the next automatic scrape reads it.',
  query_updated: 'The query’s sources were changed.',
  query_existing: 'That query was tracked already.',
  query_removed: 'The query is no longer tracked; its posts stay.',
  scrape_queued: 'A scrape of the query on its sources is queued.',
  job_cancelled: 'The job is cancelled.',
  job_cancelling: 'The job’s worker was asked to stop; it stops at its next step.',
  job_retried: 'The job is queued again from its first attempt.',
  dead_retried: 'The dead jobs are queued again.',
  backup_queued: 'A backup is queued.',
  alert_created: 'The alert rule is created and enabled.',
  alert_enabled: 'The alert rule is enabled.',
  alert_disabled: 'The alert rule is disabled; it is kept but not judged.',
  alert_deleted: 'The alert rule is deleted; its events stay.',
  alert_test_queued: 'A test event is recorded and its deliveries are queued; nothing fired.',
  signed_out: 'You are signed out.',
};

export function notice(c: Context): string | null {
  return NOTICES[c.req.query('notice') ?? ''] ?? null;
}

export interface PageProps {
  title: string;
  path: string;
  viewer: Viewer;
  notice?: string | null;
  error?: string | null;
  children?: Child;
}

/** Every page's head; the sign-in page needs no script. */
export function PageHead({ title, script = true }: { title: string; script?: boolean }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{`${title} · vibe-tracker`}</title>
      <link rel="stylesheet" href={ASSETS.css.href} />
      {script ? <script src={ASSETS.js.href} defer></script> : null}
    </head>
  );
}

export function Layout({ title, path, viewer, notice, error, children }: PageProps) {
  return (
    <html lang="en">
      <PageHead title={title} />
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">vibe-tracker</span>
          <nav aria-label="Dashboard">
            <ul>
              {NAV.map(([href, label]) => (
                <li>
                  <a href={href} aria-current={current(path, href) ? 'page' : undefined}>{label}</a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="who">
            <span class={`role role-${viewer.role}`}>{viewer.role === 'admin' ? 'admin' : 'read-only'}</span>
            {viewer.mayUpgrade ? <a href={`/ui/sign-in?next=${encodeURIComponent(path)}`}>Sign in</a> : null}
            {viewer.signedIn && viewer.csrf ? (
              <form method="post" action="/ui/sign-out" class="inline">
                <Csrf viewer={viewer} />
                <button type="submit" class="link">Sign out</button>
              </form>
            ) : null}
          </div>
        </header>
        <main id="main" tabindex={-1}>
          <h1>{title}</h1>
          {notice ? <p class="notice" role="status">{notice}</p> : null}
          {error ? <p class="error" role="alert">{error}</p> : null}
          {children}
        </main>
      </body>
    </html>
  );
}

function current(path: string, href: string): boolean {
  return href === '/ui/' ? path === '/ui/' || path === '/ui' : path === href || path.startsWith(`${href}/`);
}

export function Csrf({ viewer }: { viewer: Viewer }) {
  return viewer.csrf ? <input type="hidden" name="csrf" value={viewer.csrf} /> : null;
}

/** A button that posts to `action`: shown to admins only, the server refusing it to everyone else anyway. */
export function ActionButton({ viewer, action, label, fields = {}, kind = 'plain', describedBy }: {
  viewer: Viewer;
  action: string;
  label: string;
  fields?: Record<string, string>;
  kind?: 'plain' | 'danger' | 'primary';
  describedBy?: string;
}) {
  if (viewer.role !== 'admin' || !viewer.csrf) return null;
  return (
    <form method="post" action={action} class="inline">
      <Csrf viewer={viewer} />
      {Object.entries(fields).map(([name, value]) => <input type="hidden" name={name} value={value} />)}
      <button type="submit" class={`button ${kind}`} aria-describedby={describedBy}>{label}</button>
    </form>
  );
}

export function Empty({ children }: { children?: Child }) {
  return <p class="empty">{children}</p>;
}

export async function render(c: Context<DashboardEnv>, node: Child, status: 200 | 400 | 401 | 403 | 404 | 409 | 415 | 429 | 500 | 503 = 200): Promise<Response> {
  const html = `<!doctype html>${await Promise.resolve(String(await node))}`;
  return c.html(html, status);
}
