import postgres from 'postgres';
import type { Logger } from '../log.ts';
import { StartupError, describeUrl, withTimeout } from '../startup-error.ts';

export type Sql = postgres.Sql;

const HOW_TO_START_POSTGRES =
  'start it with `pg_ctlcluster 15 main start` (or `./scripts/dev-docker.sh --postgres`), or point DATABASE_URL at a running server';

export function createSql(url: string, log: Logger, options: postgres.Options<{}> = {}): Sql {
  return postgres(url, {
    max: 10,
    connect_timeout: 5,
    idle_timeout: 30,
    onnotice: () => {},
    connection: { application_name: 'vibe-tracker' },
    ...options,
    // postgres.js reports a dropped connection on the next query; nothing to do here but say so once.
    onclose: () => log.debug('postgres_connection_closed'),
  });
}

/** Fails fast with one line when the server is down, the database is missing or migrations are pending. */
export async function assertPostgresReady(sql: Sql, url: string, expectedMigrations?: string[]): Promise<void> {
  const where = describeUrl(url);
  try {
    await withTimeout(sql`select 1`, 5_000, `PostgreSQL is not reachable at ${where}: ${HOW_TO_START_POSTGRES}`);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    const code = (error as { code?: string }).code;
    if (code === '3D000') throw new StartupError(`database ${where} does not exist: run \`npm run migrate\` to create it`);
    throw new StartupError(`PostgreSQL is not reachable at ${where} (${(error as Error).message}): ${HOW_TO_START_POSTGRES}`);
  }
  if (!expectedMigrations) return;
  const applied = await sql<{ name: string }[]>`
    select name from schema_migrations
  `.catch(() => [] as { name: string }[]);
  const missing = expectedMigrations.filter((name) => !applied.some((row) => row.name === name));
  if (missing.length > 0) {
    throw new StartupError(`database ${where} lacks migrations ${missing.join(', ')}: run \`npm run migrate\``);
  }
}

/** True when an error means PostgreSQL could not be reached or the connection broke, i.e. worth retrying later. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'].includes(code) ||
    code.startsWith('08') || // connection exceptions
    code === '57P01' || code === '57P02' || code === '57P03' || // admin shutdown, crash shutdown, cannot connect now
    // ALTER DATABASE ... ALLOW_CONNECTIONS false, as during maintenance
    (code === '55000' && /not currently accepting connections/.test((error as Error).message))
  );
}
