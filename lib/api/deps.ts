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
