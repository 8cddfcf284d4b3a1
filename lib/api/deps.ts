import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Sql } from '../db/client.ts';
import type { Logger } from '../log.ts';
import type { JobQueue } from '../queue/queue.ts';
import type { SourceRegistry } from '../sources/registry.ts';

export interface ApiDeps {
  config: Config;
  redis: Redis;
  sql: Sql;
  queue: JobQueue;
  sources: SourceRegistry;
  log: Logger;
  /** Connections for exports, without the statement timeout of `sql`: an export of a million posts runs for minutes. */
  exportSql?: Sql;
}

/**
 * Pages served beside the JSON API that sign their users in themselves (the dashboard, lib/dashboard/): the
 * bearer-token check and the JSON-only rule for bodies leave the paths they own to them. Given to createApp
 * rather than imported, as they are built on the API's own parsers and sit above it.
 */
export interface Pages {
  routes: Hono;
  owns(path: string): boolean;
}

export type PagesFactory = (deps: ApiDeps) => Pages;
