import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export type BackupType = 'hourly' | 'daily' | 'manual';
export const BACKUP_TYPES: BackupType[] = ['hourly', 'daily', 'manual'];

export interface BackupFile {
  name: string;
  type: BackupType;
  size_bytes: number;
  created_at: string;
}

// vibe-<type>-<UTC time>.dump: sortable by name, and type and time readable without opening the file.
const NAME = /^vibe-(hourly|daily|manual)-(\d{8}T\d{9}Z)\.dump$/;

export function backupName(type: BackupType, at: Date): string {
  return `vibe-${type}-${at.toISOString().replace(/[-:.]/g, '')}.dump`;
}

/** Complete backups only (a dump still being written has a temporary name), newest first. */
export async function listBackups(dir: string): Promise<BackupFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const backups = await Promise.all(
    names.flatMap((name) => {
      const match = NAME.exec(name);
      if (!match) return [];
      return [
        stat(join(dir, name)).then((info) => ({
          name,
          type: match[1] as BackupType,
          size_bytes: info.size,
          created_at: parseStamp(match[2]!).toISOString(),
        })),
      ];
    }),
  );
  return backups.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.name.localeCompare(a.name));
}

/** Deletes the oldest backups of a type beyond the newest `keep`; returns the names removed. */
export async function pruneBackups(dir: string, type: BackupType, keep: number): Promise<string[]> {
  const old = (await listBackups(dir)).filter((backup) => backup.type === type).slice(keep);
  await Promise.all(old.map((backup) => rm(join(dir, backup.name), { force: true })));
  return old.map((backup) => backup.name);
}

function parseStamp(stamp: string): Date {
  const [, y, mo, d, h, mi, s, ms] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(stamp)!;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms)));
}
