import { Hono } from 'hono';
import { listSourceRuns } from '../db/sources.ts';
import { publicUrl } from '../http/public-url.ts';
import type { ApiDeps } from './deps.ts';
import { iso } from './present.ts';


/** Every source: whether it can run now, what it reads and needs, its limit, and how its last runs went. */
export function sourcesRoutes(deps: ApiDeps) {
  return new Hono().get('/', async (c) => {
    const runs = new Map((await listSourceRuns(deps.sql)).map((run) => [run.source, run]));
    const env = deps.config.env;
    return c.json({
      sources: deps.sources.all().map((source) => {
        const missing = source.missingSettings();
        const run = runs.get(source.name);
        return {
          name: source.name,
          description: source.description,
          usable: missing === null,
          missing,
          // An operator may put credentials in a base URL; they are never shown.
          base_url: publicUrl(deps.sources.baseUrl(source.name))?.replace(/\/$/, '') ?? null,
          rate_limit: {
            requests: source.rateLimit.requests,
            per_seconds: source.rateLimit.perMs / 1000,
            concurrency: source.rateLimit.concurrency,
          },
          // Whether each variable is set, never its value.
          settings: source.settings.map((setting) => ({
            name: setting.name,
            description: setting.description,
            required: setting.required ?? false,
            set: Boolean(env[setting.name]?.trim()),
          })),
          last_success_at: iso(run?.last_success_at ?? null),
          last_failure_at: iso(run?.last_failure_at ?? null),
          last_error: run?.last_error ?? null,
        };
      }),
    });
  });
}
