import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import postgres from 'postgres';
import { createSql } from '../lib/db/client.ts';
import { ensureDatabase, listMigrations, migrate } from '../lib/db/migrate.ts';
import { silentLogger } from '../lib/log.ts';

const BASE = process.env.TEST_DATABASE_URL ?? 'postgres://localhost:5432/postgres';

describe('migrations', () => {
  const url = new URL(BASE);
  url.pathname = `/vibe_test_migrate_${randomBytes(4).toString('hex')}`;
  const admin = postgres(BASE, { max: 1, onnotice: () => {} });

  after(async () => {
    await admin.unsafe(`drop database if exists "${url.pathname.slice(1)}" with (force)`);
    await admin.end({ timeout: 1 });
  });

  test('the database is created when it does not exist, once even when two processes race', async () => {
    const created = await Promise.all([ensureDatabase(url.toString()), ensureDatabase(url.toString())]);
    assert.deepEqual(created.sort(), [false, true]);
    assert.equal(await ensureDatabase(url.toString()), false);
  });

  test('two processes migrating at once apply every file exactly once', async () => {
    const first = createSql(url.toString(), silentLogger, { max: 1 });
    const second = createSql(url.toString(), silentLogger, { max: 1 });
    try {
      const [a, b] = await Promise.all([migrate(first, silentLogger), migrate(second, silentLogger)]);
      const names = (await listMigrations()).map((m) => m.name);
      assert.deepEqual([...a, ...b].sort(), names, 'between them they applied each file once');
      const rows = await first<{ name: string }[]>`select name from schema_migrations order by name`;
      assert.deepEqual(rows.map((r) => r.name), names);
      assert.deepEqual(await migrate(first, silentLogger), [], 'a third run finds nothing to do');
    } finally {
      await Promise.all([first.end({ timeout: 1 }), second.end({ timeout: 1 })]);
    }
  });

  test('Trustpilot posts stored by an older release get snake_case extra keys, their values (nulls too) kept', async () => {
    const upTo = (await listMigrations()).filter((m) => m.name < '0006');
    const older = postgres(BASE, { max: 1, onnotice: () => {} });
    const scratch = new URL(BASE);
    scratch.pathname = `/vibe_test_migrate_extra_${randomBytes(4).toString('hex')}`;
    await older.unsafe(`create database "${scratch.pathname.slice(1)}"`);
    const sql = createSql(scratch.toString(), silentLogger, { max: 1 });
    try {
      await migrate(sql, silentLogger, upTo);
      const extra = { country: 'GB', verificationLevel: 'invited', experiencedAt: '2023-05-05', updatedAt: null, likes: 2, businessDomain: 'bt.com' };
      await sql`insert into posts (source, external_id, query, url, body, published_at, extra) values ('trustpilot', 'r1', 'bt.com', 'https://x', 'b', now(), ${sql.json(extra)})`;
      await sql`insert into posts (source, external_id, query, url, body, published_at, extra) values ('github', 'g1', 'q', 'https://x', 'b', now(), ${sql.json({ updatedAt: 'kept' })})`;
      await migrate(sql, silentLogger);
      const rows = await sql<{ source: string; extra: Record<string, unknown> }[]>`select source, extra from posts order by source`;
      assert.deepEqual(rows.map((row) => [row.source, row.extra]), [
        ['github', { updatedAt: 'kept' }],
        ['trustpilot', { country: 'GB', verification_level: 'invited', experienced_at: '2023-05-05', updated_at: null, likes: 2, business_domain: 'bt.com' }],
      ]);
    } finally {
      await sql.end({ timeout: 1 });
      await older.unsafe(`drop database if exists "${scratch.pathname.slice(1)}" with (force)`);
      await older.end({ timeout: 1 });
    }
  });

  test('a failing migration is rolled back whole and stops the run', async () => {
    const sql = createSql(url.toString(), silentLogger, { max: 1 });
    try {
      const broken = [{ name: '9999_broken.sql', checksum: 'x', text: 'create table half_done (id int); select * from no_such_table;' }];
      await assert.rejects(migrate(sql, silentLogger, broken), /9999_broken\.sql failed/);
      const [table] = await sql`select to_regclass('half_done') as present`;
      assert.equal(table?.present, null);
      const [row] = await sql`select count(*)::int as count from schema_migrations where name = '9999_broken.sql'`;
      assert.equal(row?.count, 0);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
