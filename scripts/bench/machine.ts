// The machine and code a result was measured on, recorded in every result file.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { ROOT } from './paths.ts';
import { round } from './stats.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://localhost:6379/0';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres';

export interface Machine {
  cpus: number;
  cpu_model: string;
  mem_gb: number;
  kernel: string;
  node: string;
  redis_version: string;
  postgres_version: string;
  postgres_settings: Record<string, string>;
  loadavg_start: number[];
  loadavg_end?: number[];
  /** The code measured: the commit and how many files differ from it (others edit this tree meanwhile). */
  code: { commit: string; uncommitted_files: number };
}

export async function describeMachine(): Promise<Machine> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
      select name, setting, unit from pg_settings
      where name in ('server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'wal_level', 'max_connections')
    `;
    const pg = Object.fromEntries(settings.map((s) => [s.name, s.unit ? `${s.setting} ${s.unit}` : s.setting]));
    return {
      cpus: os.availableParallelism(),
      cpu_model: os.cpus()[0]?.model ?? '?',
      mem_gb: round(os.totalmem() / 2 ** 30, 1),
      kernel: os.release(),
      node: process.version,
      redis_version: /^redis_version:(.*)$/m.exec(info)?.[1]?.trim() ?? '?',
      postgres_version: pg.server_version ?? '?',
      postgres_settings: pg,
      loadavg_start: os.loadavg().map((x) => round(x, 2)),
      code: describeCode(),
    };
  } finally {
    redis.disconnect();
    await sql.end({ timeout: 1 });
  }
}

function describeCode(): Machine['code'] {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return '';
    }
  };
  return { commit: git('rev-parse', '--short', 'HEAD') || 'unknown', uncommitted_files: git('status', '--porcelain').split('\n').filter(Boolean).length };
}

export function finishMachine(machine: Machine): Machine {
  return { ...machine, loadavg_end: os.loadavg().map((x) => round(x, 2)) };
}
