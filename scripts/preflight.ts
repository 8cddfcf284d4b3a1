// Runs before the tests (npm test): checks everything the suite uses on this machine, and when something is
// missing or not running, names all of it at once (with the Debian/Ubuntu packages) and exits non-zero, instead of a
// suite where a dozen files fail for reasons of the machine. `npm run test:all` installs and starts them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { exitOnStartupError, StartupError } from '../lib/startup-error.ts';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://localhost:6379/0';
const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres';

async function checkRedis(): Promise<string | null> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause = '';
  redis.on('error', (error: Error) => (cause = error.message));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `Redis does not answer at ${redisUrl} (${cause || (error as Error).message}): start it (redis-server --daemonize yes) or set TEST_REDIS_URL`;
  } finally {
    redis.disconnect();
  }
}

async function checkPostgres(): Promise<string | null> {
  const sql = postgres(databaseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return null;
  } catch (error) {
    return `PostgreSQL does not answer at ${databaseUrl} (${(error as Error).message}): start it (pg_ctlcluster 15 main start) or set TEST_DATABASE_URL`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const found = (command: string, ...paths: string[]) =>
  paths.some((path) => existsSync(path)) || spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const answers = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;

/** [what is missing, the Debian/Ubuntu package that brings it] for each program the tests run. */
function missingPrograms(): [string, string][] {
  const missing: [string, string][] = [];
  if (!found('redis-server')) missing.push(['redis-server (tests start their own)', 'redis-server']);
  if (!found('pg_dump') || !found('pg_restore')) missing.push(['pg_dump and pg_restore (backup jobs)', 'postgresql-client']);
  if (!found('initdb', ...['15', '16', '17', '14', '13'].map((v) => `/usr/lib/postgresql/${v}/bin/initdb`))) missing.push(['the PostgreSQL server binaries (initdb)', 'postgresql']);
  if (!found('nginx', '/usr/sbin/nginx')) missing.push(['nginx (the local stack and its configuration check)', 'nginx']);
  if (!found('envsubst')) missing.push(['envsubst (renders the nginx template)', 'gettext-base']);
  if (!found('openssl')) missing.push(['openssl (the self-signed certificate)', 'openssl']);
  if (!found('curl')) missing.push(['curl (the examples of README.md and docs/)', 'curl']);
  if (!found('jq')) missing.push(['jq (the examples of README.md and docs/ read their answers with it)', 'jq']);
  if (!existsSync('/usr/bin/chromium')) missing.push(['/usr/bin/chromium (the dashboard\'s browser test)', 'chromium']);
  const compose = answers('docker', ['compose', 'version']) || found('docker-compose');
  if (!compose) missing.push(['docker-compose (or Docker Compose v2)', 'docker-compose']);
  if (!found('docker') || !answers('docker', ['info'])) missing.push(['a running Docker engine (`docker info` fails)', 'docker.io']);
  return missing;
}

const problems = (await Promise.all([checkRedis(), checkPostgres()])).filter((problem): problem is string => problem !== null);
const programs = missingPrograms();
for (const [what] of programs) problems.push(`missing: ${what}`);
if (problems.length > 0) {
  const packages = [...new Set(programs.map(([, pkg]) => pkg))];
  const install = packages.length ? `\n  Debian/Ubuntu: apt-get install ${packages.join(' ')}` : '';
  exitOnStartupError(
    new StartupError(
      `the test suite needs what this machine lacks:\n  ${problems.join('\n  ')}${install}\n  \`npm run test:all\` installs and starts all of it on Debian/Ubuntu (README, The two commands)`,
    ),
  );
}
