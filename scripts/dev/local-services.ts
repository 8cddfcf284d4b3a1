// Redis and PostgreSQL for `npm run dev` when none answers at REDIS_URL / DATABASE_URL: private servers of this
// checkout, started from the installed server binaries with their data under .dev/ (kept between runs, so posts
// and jobs survive a restart of dev), listening on 127.0.0.1 at the URL's port, and stopped when dev stops.
// A URL naming another machine is never "fixed" this way: that server is somebody's, so dev says it is down.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { Redis } from 'ioredis';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export interface LocalService {
  /** What runs and where, for the one line dev prints. */
  description: string;
  stop(): Promise<void>;
}

/** A server dev cannot reach and cannot start: the message says what to install or start. */
export class MissingService extends Error {}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1_500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** True when the server answers at all, even if the database itself does not exist yet (migrate creates it). */
async function postgresAnswers(url: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch (error) {
    // Refused a login or a database: a server is there, and the app's own error will say what is wrong.
    return typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as { code: string }).code);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Runs a server tool in a session of its own, so the server it starts (pg_ctl's postmaster) is out of the terminal's
 * process group: Ctrl-C would otherwise reach it as a fast shutdown while the worker still drains.
 */
function detachedRun(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

function onPath(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

const INSTALL = {
  redis: 'install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or run it in Docker: scripts/dev-docker.sh --postgres',
  postgres: 'install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15), or run it in Docker: scripts/dev-docker.sh --postgres',
};

/** null when Redis answers at `url`; else a private redis-server under `dataDir`, or MissingService. */
export async function ensureRedis(url: string, dataDir: string): Promise<LocalService | null> {
  if (await redisAnswers(url)) return null;
  const parsed = new URL(url);
  if (!LOCAL_HOSTS.has(parsed.hostname)) throw new MissingService(`Redis does not answer at ${parsed.host}, which is not this machine: start it there, or point REDIS_URL elsewhere`);
  if (!onPath('redis-server')) throw new MissingService(`Redis does not answer at ${parsed.host} and redis-server is not installed: ${INSTALL.redis}`);
  const port = parsed.port || '6379';
  mkdirSync(dataDir, { recursive: true });
  // As in the compose stack: an append-only file, and no eviction (the app refuses to start under any other policy).
  // In a process group of its own, so the terminal's Ctrl-C does not end it while the worker still drains.
  const child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction', '--logfile', join(dataDir, 'redis.log')], {
    stdio: 'ignore',
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 100 && !(await redisAnswers(url)); i++) {
    if (child.exitCode !== null) throw new MissingService(`redis-server exited at start (port ${port} taken?); its log: ${join(dataDir, 'redis.log')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    description: `redis-server pid ${child.pid} on 127.0.0.1:${port}, data in ${dataDir}`,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // SIGTERM: redis-server writes its append-only file and exits.
  child.kill('SIGTERM');
  await exited;
}

/** The newest installed server's bin directory (Debian keeps them under /usr/lib/postgresql/N/bin), else PATH. */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (found) return found;
  return onPath('initdb') && onPath('pg_ctl') ? '' : null;
}

/** null when PostgreSQL answers at `url`; else a private cluster in `dataDir`, or MissingService. */
export async function ensurePostgres(url: string, dataDir: string): Promise<LocalService | null> {
  if (await postgresAnswers(url)) return null;
  const parsed = new URL(url);
  if (!LOCAL_HOSTS.has(parsed.hostname)) throw new MissingService(`PostgreSQL does not answer at ${parsed.host}, which is not this machine: start it there, or point DATABASE_URL elsewhere`);
  const bin = postgresBin();
  if (bin === null) throw new MissingService(`PostgreSQL does not answer at ${parsed.host} and its server (initdb, pg_ctl) is not installed: ${INSTALL.postgres}`);
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const port = parsed.port || '5432';
  const data = join(dataDir, 'data');
  const socketDir = join(dataDir, 'run');
  mkdirSync(socketDir, { recursive: true });
  // initdb and the server refuse to run as root: there, they run as the postgres user, who must own the directory.
  const root = process.getuid?.() === 0;
  if (root) {
    const owner = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (owner.status !== 0) throw new MissingService('as root, a private PostgreSQL runs as the postgres user, and there is none: apt-get install postgresql creates it');
    const uid = Number(owner.stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    for (const dir of [dataDir, socketDir]) chownSync(dir, uid, gid);
  }
  const asOwner = (name: string, args: string[]) => (root ? detachedRun('runuser', ['-u', 'postgres', '--', tool(name), ...args]) : detachedRun(tool(name), args));
  if (!existsSync(join(data, 'PG_VERSION'))) {
    // The superuser is the URL's user, or the one the app connects as without one (this account's name), with
    // trust on 127.0.0.1 only: a development server nobody else reaches.
    const superuser = decodeURIComponent(parsed.username) || userInfo().username;
    await asOwner('initdb', ['-D', data, '-A', 'trust', '-U', superuser, '-E', 'UTF8', '--no-sync']);
    writeFileSync(join(dataDir, 'README'), 'PostgreSQL of `npm run dev` (scripts/dev/local-services.ts); delete this folder to start afresh.\n');
  }
  chmodSync(data, 0o700);
  const log = join(dataDir, 'postgres.log');
  try {
    await asOwner('pg_ctl', ['-D', data, '-o', `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1`, '-l', log, '-w', '-t', '60', 'start']);
  } catch (error) {
    throw new MissingService(`the private PostgreSQL in ${data} did not start (port ${port} taken?): ${(error as Error).message.split('\n')[0]}; its log: ${log}`);
  }
  return {
    description: `PostgreSQL on 127.0.0.1:${port}, data in ${data}`,
    async stop() {
      await asOwner('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
    },
  };
}
