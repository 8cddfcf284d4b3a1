import { Hono } from 'hono';
import type { ApiDeps } from './deps.ts';
import { errorBody } from './errors.ts';

type ServiceHealth = 'ok' | 'down';

const PROBE_TIMEOUT_MS = 1_500;

export async function checkHealth(deps: Pick<ApiDeps, 'redis' | 'sql'>): Promise<{ redis: ServiceHealth; postgres: ServiceHealth }> {
  const [redis, postgres] = await Promise.all([probe(() => deps.redis.ping()), probe(() => deps.sql`select 1`)]);
  return { redis, postgres };
}

export function healthRoutes(deps: ApiDeps) {
  return new Hono()
    .get('/health', (c) => c.json({ status: 'ok' }))
    .get('/ready', async (c) => {
      const health = await checkHealth(deps);
      if (health.redis === 'ok' && health.postgres === 'ok') return c.json({ status: 'ready', ...health });
      const down = Object.entries(health).filter(([, state]) => state === 'down').map(([name]) => name);
      return c.json({ ...errorBody('not_ready', `not answering: ${down.join(', ')}`), ...health }, 503);
    });
}

async function probe(call: () => Promise<unknown>): Promise<ServiceHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ServiceHealth>((resolve) => (timer = setTimeout(() => resolve('down'), PROBE_TIMEOUT_MS)));
  try {
    return await Promise.race([call().then(() => 'ok' as const, () => 'down' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
