// What the queue's parts share, and nothing outside lib/queue/ takes: the connection, the keys, the scripts and
// the settings. JobQueue makes one and hands it to the parts it gives out (leases, the history outbox).
import type { Redis } from 'ioredis';
import { type RedisKeys, redisKeys } from '../redis/keys.ts';
import { type QueueScripts, defineScripts } from './scripts.ts';
import type { QueueSettings } from './settings.ts';

export interface QueueCore {
  redis: Redis;
  keys: RedisKeys;
  scripts: QueueScripts;
  settings: QueueSettings;
}

export function queueCore(redis: Redis, settings: QueueSettings): QueueCore {
  return { redis, keys: redisKeys(settings.prefix), scripts: defineScripts(redis), settings };
}
