import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackupType, BACKUP_TYPES, backupName, pruneBackups } from '../backup/files.ts';
import { runPgTool } from '../backup/pg-dump.ts';
import type { Config } from '../config.ts';
import { permanent, transient } from '../errors.ts';
import type { Job } from '../model/job.ts';
import type { JobContext } from '../model/job.ts';

export type BackupConfig = Pick<Config, 'databaseUrl' | 'backupDir' | 'backupKeepHourly' | 'backupKeepDaily' | 'backupKeepManual'>;

/**
 * pg_dump in custom format to a temporary name, checked with `pg_restore --list`, then renamed: a backup
 * that exists under its final name is complete and readable. Older ones beyond the type's quota are removed.
 */
export async function runBackupJob(job: Job, ctx: JobContext, config: BackupConfig): Promise<Record<string, unknown>> {
  const type = job.query as BackupType;
  if (!BACKUP_TYPES.includes(type)) throw permanent('invalid_query', `unknown backup type "${job.query}"; expected ${BACKUP_TYPES.join(', ')}`);
  // The worker owns the time limit (BACKUP_TIMEOUT_MS): it aborts ctx.signal, which kills pg_dump.
  const signal = ctx.signal;
  const name = backupName(type, new Date());
  const path = join(config.backupDir, name);
  const partial = `${path}.partial`;
  const started = Date.now();
  try {
    // A dump holds every post and job: readable by this user only, in a folder only this user can list.
    await mkdir(config.backupDir, { recursive: true, mode: 0o700 });
    await chmod(config.backupDir, 0o700).catch(() => {});
    // pg_dump truncates the file it is given and keeps its mode, so it is created 0600 first.
    await writeFile(partial, '', { mode: 0o600 });
    await runPgTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${partial}`], config.databaseUrl, signal);
    const listing = await runPgTool('pg_restore', ['--list', partial], null, signal);
    const tables = listing.split('\n').filter((line) => / TABLE DATA /.test(line)).length;
    if (tables === 0) throw new Error('pg_restore --list shows no table data in the dump');
    await rename(partial, path);
    const { size } = await stat(path);
    const removed = await pruneBackups(config.backupDir, type, ({ daily: config.backupKeepDaily, hourly: config.backupKeepHourly, manual: config.backupKeepManual })[type]);
    return { file: name, type, size_bytes: size, tables, ms: Date.now() - started, removed };
  } catch (error) {
    await rm(partial, { force: true }).catch(() => {});
    if (signal.aborted) throw signal.reason;
    throw transient('internal', `backup failed: ${(error as Error).message}`, null, error);
  }
}
