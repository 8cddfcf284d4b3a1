import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { Logger } from '../log.ts';
import type { Sql } from './client.ts';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK_ID = 7_411_902_335;

export interface Migration {
  name: string;
  text: string;
  checksum: string;
}

export async function listMigrations(dir = SQL_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => /^\d{4}_[\w-]+\.sql$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(dir, name), 'utf8');
      return { name, text, checksum: createHash('sha256').update(text).digest('hex') };
    }),
  );
}

/** Creates the database named in the URL when it does not exist, through the server's `postgres` database. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const sql = postgres(admin.toString(), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as present from pg_database where datname = ${database}`;
    if (row) return false;
    try {
      await sql.unsafe(`create database ${escapeIdentifier(database)}`);
      return true;
    } catch (error) {
      // Two processes raced to create it: the other one won, which is what we wanted.
      if ((error as { code?: string }).code === '42P04' || (error as { code?: string }).code === '23505') return false;
      throw error;
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Applies pending migrations in name order, each in its own transaction, recorded in schema_migrations.
 * A session advisory lock makes a second process wait and then find nothing left to do.
 */
export async function migrate(sql: Sql, log: Logger, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await listMigrations());
  const applied: string[] = [];
  const reserved = await sql.reserve();
  try {
    await reserved`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await reserved`
      create table if not exists schema_migrations (
        name       text primary key,
        checksum   text not null,
        applied_at timestamptz not null default now()
      )
    `;
    const done = new Map(
      (await reserved<{ name: string; checksum: string }[]>`select name, checksum from schema_migrations`).map((row) => [row.name, row.checksum]),
    );
    for (const migration of all) {
      const checksum = done.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          log.warn('migration_changed_after_apply', { migration: migration.name });
        }
        continue;
      }
      await reserved.unsafe('begin');
      try {
        await reserved.unsafe(migration.text);
        await reserved`insert into schema_migrations (name, checksum) values (${migration.name}, ${migration.checksum})`;
        await reserved.unsafe('commit');
      } catch (error) {
        await reserved.unsafe('rollback');
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(migration.name);
      log.info('migration_applied', { migration: migration.name });
    }
  } finally {
    await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.catch(() => {});
    reserved.release();
  }
  return applied;
}

function escapeIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
