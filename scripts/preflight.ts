// Runs before the tests: one line, and a non-zero exit, when Redis or PostgreSQL cannot be reached.
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { exitOnStartupError, StartupError } from '../lib/startup-error.ts';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://localhost:6379/0';
const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres';

async function checkRedis(): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause = '';
  redis.on('error', (error: Error) => (cause = error.message));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new StartupError(`tests need Redis at ${redisUrl} (${cause || (error as Error).message}): start it with \`redis-server --daemonize yes\` or set TEST_REDIS_URL`);
  } finally {
    redis.disconnect();
  }
}

async function checkPostgres(): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new StartupError(
      `tests need PostgreSQL at ${databaseUrl} (${(error as Error).message}): start it with \`pg_ctlcluster 15 main start\` or set TEST_DATABASE_URL`,
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
}

await Promise.all([checkRedis(), checkPostgres()]).catch(exitOnStartupError);
