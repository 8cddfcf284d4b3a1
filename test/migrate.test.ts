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
