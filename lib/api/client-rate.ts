import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { addressMatcher } from '../http/addresses.ts';
import type { RedisKeys } from '../redis/keys.ts';
import { clientAddress } from './client-address.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * At most `requests` mutating requests per window from one client address, counted in Redis so every API process
 * shares the count (a fixed window: one INCR a request). For deployments without nginx's limit_req in front; with
 * nginx, its own limit applies first and this one sees the client's address through X-Real-IP.
 */
export function clientRateLimit(config: Pick<Config, 'apiClientRate' | 'trustedProxies'>, redis: Redis, keys: RedisKeys): MiddlewareHandler {
  const { requests, perMs } = config.apiClientRate;
  const trusted = addressMatcher(config.trustedProxies);
  return async (c, next) => {
    if (requests === 0 || !MUTATING.has(c.req.method)) return next();
    const address = clientAddress(c, trusted);
    if (address === null) return next();
    const window = Math.floor(Date.now() / perMs);
    const key = keys.clientRate(address, window);
    const [[, count]] = (await redis.multi().incr(key).pexpire(key, perMs).exec()) as [[Error | null, number]];
    if (count > requests) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * perMs - Date.now()) / 1000));
      throw new ApiError(429, 'rate_limited', `at most ${requests} changes per ${perMs / 1000} s from one address (API_CLIENT_RATE_LIMIT); try again in ${retryAfter} s`, { retryAfterSeconds: retryAfter });
    }
    return next();
  };
}
