import { timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../errors.ts';
import type { ApiDeps } from './deps.ts';
import { errorBody, renderError } from './errors.ts';
import { healthRoutes } from './health.ts';
import { jobsRoutes } from './jobs.ts';
import { postsRoutes } from './posts.ts';
import { backupsRoutes, queriesRoutes, scheduleRoutes } from './operations.ts';
import { sourcesRoutes } from './sources.ts';

const MAX_BODY_BYTES = 16 * 1024;

export function createApp(deps: ApiDeps): Hono {
  // strict: false so `/jobs` and `/jobs/` are the same resource, as users type both.
  const app = new Hono({ strict: false });
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json(errorBody('payload_too_large', `the body must be at most ${MAX_BODY_BYTES} bytes`), 413),
    }),
  );
  app.use(async (c, next) => {
    if (deps.config.apiToken && (c.req.method === 'POST' || c.req.method === 'DELETE' || c.req.method === 'PUT' || c.req.method === 'PATCH')) {
      const header = c.req.header('authorization') ?? '';
      if (!bearerMatches(header, deps.config.apiToken)) {
        c.header('www-authenticate', 'Bearer');
        throw new ApiError(401, 'unauthorized', 'this API needs the header Authorization: Bearer <API_TOKEN>');
      }
    }
    await next();
  });
  app.route('/', healthRoutes(deps));
  app.route('/jobs', jobsRoutes(deps));
  app.route('/posts', postsRoutes(deps));
  app.route('/sources', sourcesRoutes(deps));
  app.route('/queries', queriesRoutes(deps));
  app.route('/schedule', scheduleRoutes(deps));
  app.route('/backups', backupsRoutes(deps));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((error, c) => renderError(error, c, deps.log));
  return app;
}

function bearerMatches(header: string, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
