import { Hono } from 'hono';
import { openApiDocument } from './contract/openapi.ts';
import { ROUTES } from './contract/routes.ts';
import type { ApiDeps } from './deps.ts';

/** GET /openapi.json: built on the first request, as the sources it names do not change while the process runs. */
export function openApiRoutes(deps: Pick<ApiDeps, 'sources'>) {
  let document: Record<string, unknown> | null = null;
  return new Hono().get('/openapi.json', (c) => c.json((document ??= openApiDocument(ROUTES, deps))));
}
