// The dashboard: server-rendered pages under /ui/ and their two files under /assets/, served by the API process
// beside its JSON routes (createApp is given them). Pages read through the same functions the JSON routes use.
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { compress } from 'hono/compress';
import { tokenMatcher } from '../api/auth.ts';
import { isNonApiPath } from '../api/contract/routes.ts';
import type { ApiDeps, Pages } from '../api/deps.ts';
import { renderError } from '../api/errors.ts';
import { ApiError } from '../errors.ts';
import { JobStore } from '../history/job-store.ts';
import { addressMatcher } from '../http/addresses.ts';
import { redisKeys } from '../redis/keys.ts';
import { ASSETS, assetRoutes } from './assets.ts';
import { JobEvents } from './job-events.ts';
import { alertsRoutes } from './pages/alerts.tsx';
import { backupsRoutes } from './pages/backups.tsx';
import { feedRoutes } from './pages/feed.tsx';
import { overviewRoutes } from './pages/overview.tsx';
import { queriesRoutes } from './pages/queries.tsx';
import { queueRoutes } from './pages/queue.tsx';
import { signInRoutes, signOutRoute } from './pages/sign-in.tsx';
import { sourcesRoutes } from './pages/sources.tsx';
import { SessionStore } from './session.ts';
import { type DashboardEnv, checkForm, overTls, resolveViewer } from './viewer.ts';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('content-security-policy', CONTENT_SECURITY_POLICY);
  c.header('x-content-type-options', 'nosniff');
  c.header('x-frame-options', 'DENY');
  c.header('referrer-policy', 'no-referrer');
  c.header('cross-origin-opener-policy', 'same-origin');
  if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
};

export const owns = isNonApiPath;

export function dashboardPages(deps: ApiDeps): Pages {
  const { config } = deps;
  const store = new SessionStore(deps.redis, redisKeys(config.redisPrefix), config.dashboardSessionMs);
  const trusted = addressMatcher(config.trustedProxies);
  const secure = (c: Context) => overTls(c, trusted);
  const roleOfToken = tokenMatcher(config);
  const jobs = new JobStore(deps.queue, deps.sql);
  const events = new JobEvents(jobs, config.dashboardMaxStreams);

  const ui = new Hono<DashboardEnv>({ strict: false });
  ui.route('/', signInRoutes({ store, roleOf: roleOfToken, secure, enabled: config.apiToken !== null }));
  ui.use(resolveViewer(config, store, trusted));
  ui.use(checkForm);
  ui.route('/', signOutRoute(store, secure));
  ui.route('/', overviewRoutes(deps));
  ui.route('/feed', feedRoutes(deps));
  ui.route('/queries', queriesRoutes(deps));
  ui.route('/queue', queueRoutes(deps, jobs, events));
  ui.route('/sources', sourcesRoutes(deps));
  ui.route('/alerts', alertsRoutes(deps));
  ui.route('/backups', backupsRoutes(deps));
  ui.all('*', () => {
    throw new ApiError(404, 'not_found', 'there is no such page');
  });
  ui.onError(async (error, c) => {
    // The API's one decision on what an error is (a 4xx as itself, outages as 503, the rest a logged 500), drawn as a page.
    const json = renderError(error, c, deps.log, { redisReady: () => deps.redis.status === 'ready' });
    const { error: body } = (await json.json()) as { error: { code: string; message: string } };
    const retryAfter = json.headers.get('retry-after');
    if (retryAfter) c.header('retry-after', retryAfter);
    c.header('content-security-policy', CONTENT_SECURITY_POLICY);
    c.header('cache-control', 'no-store');
    return c.html(`<!doctype html>${String(<ErrorPage status={json.status} code={body.code} message={body.message} />)}`, json.status as 400);
  });

  const routes = new Hono({ strict: false });
  // Pages and their two files are compressed here too, so a first load stays small without nginx in front. Not the
  // live streams nor the exports: a compressor holds their bytes back until it has a block's worth.
  routes.use(compress({ contentTypeFilter: /^text\/(html|css|javascript)\b/ }));
  routes.use(securityHeaders);
  routes.get('/', (c) => c.redirect('/ui/', 302));
  routes.route('/', assetRoutes());
  routes.route('/ui', ui);
  return { routes, owns };
}

function ErrorPage({ status, code, message }: { status: number; code: string; message: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${status} ${code} · vibe-tracker`}</title>
        <link rel="stylesheet" href={ASSETS.css.href} />
      </head>
      <body>
        <main id="main" class="error-page">
          <h1>{status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status >= 500 ? 'Something went wrong' : 'That did not work'}</h1>
          <p class="error" role="alert" data-code={code}>{message}</p>
          <p><a href="/ui/">Back to the overview</a></p>
        </main>
      </body>
    </html>
  );
}
