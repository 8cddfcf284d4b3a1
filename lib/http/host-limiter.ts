import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { transient } from '../errors.ts';
import type { RateLimit } from '../model/rate-limit.ts';
import { redisKeys } from '../redis/keys.ts';
import { defineScriptSet } from '../redis/scripts.ts';
import { sleep } from '../sleep.ts';
import type { HostLimiter } from './client.ts';

const SCRIPTS = { acquire: 'host-acquire-3', hold: 'host-hold-1', extend: 'host-extend-1' } as const;
// An in-flight slot lives this long unless its request extends it: a worker killed mid-request frees its slot
// within this, while a slow download keeps its own.
const IN_FLIGHT_TTL_MS = 15_000;

/**
 * Per-host politeness shared by every worker through Redis: at most `requests` per `perMs` and `concurrency`
 * in flight per upstream host, whatever the number of workers. A wait longer than `maxWaitMs` is not slept
 * through: the attempt fails as rate-limited with that delay, so the job frees its slot and retries later.
 */
export function createHostLimiter(redis: Redis, prefix: string, options: { maxWaitMs?: number; inFlightTtlMs?: number } = {}): HostLimiter {
  const keys = redisKeys(prefix);
  const scripts = defineScriptSet(redis, { namespace: 'vibe_host', dir: new URL('./lua/', import.meta.url), files: SCRIPTS });
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const inFlightTtlMs = options.inFlightTtlMs ?? IN_FLIGHT_TTL_MS;

  return {
    async acquire(host: string, limit: RateLimit, signal: AbortSignal) {
      const hostKeys = keys.host(host);
      const token = randomUUID();
      const startedAt = Date.now();
      for (;;) {
        signal.throwIfAborted();
        const wait = Number(await scripts.run('acquire', [hostKeys.admissions, hostKeys.inFlight, hostKeys.holdUntil], [token, limit.requests, limit.perMs, limit.concurrency, inFlightTtlMs]));
        if (wait === 0) {
          const keepAlive = setInterval(() => void scripts.run('extend', [hostKeys.inFlight], [token, inFlightTtlMs]).catch(() => {}), inFlightTtlMs / 3);
          keepAlive.unref();
          return () => {
            clearInterval(keepAlive);
            void redis.zrem(hostKeys.inFlight, token).catch(() => {});
          };
        }
        // -1: the concurrency cap is full; a slot frees when a request ends, so poll briefly.
        const pause = wait < 0 ? 20 + Math.random() * 30 : wait + Math.random() * 20;
        if (Date.now() - startedAt + pause > maxWaitMs) {
          throw transient('upstream_rate_limited', `the fleet-wide limit for ${host} (${limit.requests} requests per ${limit.perMs / 1000} s) is used up`, Math.ceil(pause));
        }
        await sleep(pause, signal);
      }
    },
    async hold(host: string, ms: number) {
      await scripts.run('hold', [keys.host(host).holdUntil], [Math.ceil(ms)]);
    },
  };
}
