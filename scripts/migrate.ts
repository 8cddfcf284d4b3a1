// npm run migrate: creates the database when missing, then applies pending sql/NNNN_*.sql files in order. Reads
// .env of the checkout as npm run dev does (the shell's variables win); in the image there is none.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../lib/config.ts';
import { assertPostgresReady, createSql } from '../lib/db/client.ts';
import { ensureDatabase, migrate } from '../lib/db/migrate.ts';
import { withEnvFile } from '../lib/env-file.ts';
import { createLogger } from '../lib/log.ts';
import { StartupError, describeUrl, exitOnStartupError } from '../lib/startup-error.ts';

try {
  const config = loadConfig(withEnvFile(fileURLToPath(new URL('../.env', import.meta.url))));
  const log = createLogger(config.logLevel, { process: 'migrate' });
  const created = await ensureDatabase(config.databaseUrl).catch((error: Error) => {
    throw new StartupError(`cannot create the database at ${describeUrl(config.databaseUrl)} (${error.message}): is PostgreSQL running, and may this user create databases?`);
  });
  if (created) log.info('database_created', { database: describeUrl(config.databaseUrl) });
  const sql = createSql(config.databaseUrl, log, { max: 1 });
  try {
    await assertPostgresReady(sql, config.databaseUrl);
    const applied = await migrate(sql, log);
    log.info('migrations_done', { applied: applied.length });
  } finally {
    await sql.end({ timeout: 5 });
  }
} catch (error) {
  exitOnStartupError(error);
}
