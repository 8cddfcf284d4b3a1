import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import { ApiError } from '../errors.ts';
import { Metrics } from '../metrics/metrics.ts';
import { redisKeys } from '../redis/keys.ts';
import { ScheduleStore } from '../scheduler/schedule-store.ts';
import { alertsRoutes } from './alerts.ts';
import { authorization, bearerToken, tokenMatcher } from './auth.ts';
import { backupsRoutes } from './backups.ts';
import { clientRateLimit } from './client-rate.ts';
import type { ApiDeps, PagesFactory } from './deps.ts';
import { errorBody, renderError } from './errors.ts';
import { healthRoutes } from './health.ts';
import { jobsRoutes } from './jobs.ts';
import { openApiRoutes } from './openapi.ts';
import { metricsRoutes } from './metrics.ts';
import { postsRoutes } from './posts.ts';
import { queriesRoutes } from './queries.ts';
import { isJsonType } from './read-json.ts';
import { scheduleRoutes } from './schedule.ts';
import { sourcesRoutes } from './sources.ts';

const MAX_BODY_BYTES = 16 * 1024;

export function createApp(deps: ApiDeps, pagesFactory?: PagesFactory): Hono {
  // strict: false so `/jobs` and `/jobs/` are the same resource, as users type both.
  const app = new Hono({ strict: false });
  const keys = redisKeys(deps.config.redisPrefix);
  const metrics = new Metrics(deps.redis, keys, deps.log);
  app.use(countRequests(metrics));
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json(errorBody('payload_too_large', `the body must be at most ${MAX_BODY_BYTES} bytes`), 413),
    }),
  );
  app.use(clientRateLimit(deps.config, deps.redis, keys));
  const roleOfToken = tokenMatcher(deps.config);
  const pages = pagesFactory?.(deps);
  const apiOnly = (middleware: MiddlewareHandler): MiddlewareHandler => (c, next) => (pages?.owns(c.req.path) ? next() : middleware(c, next));
  app.use(apiOnly(authorization(deps.config, (c) => roleOfToken(bearerToken(c.req.header('authorization'))))));
  app.use(apiOnly(requireJsonBodies));
  app.route('/', healthRoutes(deps));
  app.route('/', openApiRoutes(deps));
  app.route('/jobs', jobsRoutes(deps));
  app.route('/posts', postsRoutes(deps));
  app.route('/sources', sourcesRoutes(deps));
  app.route('/queries', queriesRoutes(deps));
  app.route('/schedule', scheduleRoutes(deps, new ScheduleStore(deps.redis, keys)));
  app.route('/backups', backupsRoutes(deps));
  app.route('/alerts', alertsRoutes(deps));
  app.route('/metrics', metricsRoutes(deps, metrics));
  if (pages) app.route('/', pages.routes);
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((error, c) => renderError(error, c, deps.log, { redisReady: () => deps.redis.status === 'ready' }));
  return app;
}

/** Counts every request by its route's pattern (never its path, whose ids would make a series per job). */
function countRequests(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const matched = routePath(c, -1);
    const route = matched === '/*' || matched === '*' ? 'unmatched' : matched.replace(/\/+$/, '') || '/';
    metrics.httpRequest({ route, method: c.req.method, status: c.res.status, seconds: (performance.now() - started) / 1000 });
  };
}

/**
 * Every POST, PUT and PATCH is JSON, with a body or without one: a browser sends a cross-site form only as
 * form data or text, so such a form can never reach a route that changes something. The dashboard's forms are
 * exempt: its session cookie is SameSite=Strict and each form carries a CSRF token.
 */
const requireJsonBodies: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'POST' || c.req.method === 'PUT' || c.req.method === 'PATCH') {
    if (!isJsonType(c.req.header('content-type'))) {
      throw new ApiError(415, 'unsupported_media_type', 'send the request with the header content-type: application/json (an empty body is fine where none is needed)');
    }
  }
  await next();
};
