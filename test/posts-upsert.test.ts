import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listPosts, upsertPosts } from '../lib/db/posts.ts';
import type { ScrapedPost } from '../lib/model/post.ts';
import { startServices, type TestServices } from './helpers/services.ts';

let services: TestServices;
before(async () => {
  services = await startServices('posts_upsert');
});
after(() => services.close());

const post = (externalId: string, fields: Partial<ScrapedPost> = {}): ScrapedPost => ({
  externalId,
  url: `https://example.com/reviews/${externalId}`,
  author: 'Ann',
  title: 'A title',
  text: 'Some text',
  rating: 4,
  language: 'en',
  publishedAt: new Date('2024-05-01T10:00:00.123Z'),
  reply: null,
  extra: {},
  ...fields,
});

async function stored(source: string) {
  const rows = await listPosts(services.sql, { filter: { sources: [source] }, limit: 200 });
  return new Map(rows.map((row) => [row.external_id, row]));
}

describe('upsertPosts', () => {
  test('stores every field as given: nulls, quotes, backslashes, braces, commas, non-ASCII text and nested extra', async () => {
    const awkward = 'He said "no", then \\ left {a,b} NULL \u2019 \u{1F600} \n second line';
    const posts = [
      post('full', {
        author: awkward,
        title: 'NULL',
        text: awkward,
        rating: 2.5,
        reply: { text: `reply ${awkward}`, publishedAt: new Date('2024-05-02T08:30:00Z') },
        extra: { country: 'GB', verified: true, likes: 3, nested: { list: [1, 'two', null], quote: '"\\' }, nothing: null },
      }),
      post('empty', { author: null, title: null, text: '', rating: null, language: null, reply: { text: 'thanks', publishedAt: null } }),
    ];
    assert.equal(await upsertPosts(services.sql, 'fields', 'q', posts), 2);
    const rows = await stored('fields');
    const full = rows.get('full')!;
    assert.equal(full.query, 'q');
    assert.equal(full.url, 'https://example.com/reviews/full');
    assert.equal(full.author, awkward);
    assert.equal(full.title, 'NULL');
    assert.equal(full.text, awkward);
    assert.equal(full.rating, 2.5);
    assert.equal(full.language, 'en');
    assert.equal(full.published_at.toISOString(), '2024-05-01T10:00:00.123Z');
    assert.deepEqual(full.reply, { text: `reply ${awkward}`, published_at: new Date('2024-05-02T08:30:00Z') });
    assert.deepEqual(full.extra, { country: 'GB', verified: true, likes: 3, nested: { list: [1, 'two', null], quote: '"\\' }, nothing: null });
    const empty = rows.get('empty')!;
    assert.equal(empty.author, null);
    assert.equal(empty.title, null);
    assert.equal(empty.text, '');
    assert.equal(empty.rating, null);
    assert.equal(empty.language, null);
    assert.deepEqual(empty.reply, { text: 'thanks', published_at: null });
    assert.deepEqual(empty.extra, {});
  });

  test('counts only new rows, updates the ones seen before in place and keeps when they were first seen', async () => {
    assert.equal(await upsertPosts(services.sql, 'again', 'q', [post('a'), post('b')]), 2);
    const before = await stored('again');
    assert.equal(await upsertPosts(services.sql, 'again', 'q', [post('a', { text: 'edited', rating: 1, extra: { edited: true } }), post('c')]), 1);
    const rows = await stored('again');
    assert.equal(rows.size, 3);
    assert.equal(rows.get('a')!.text, 'edited');
    assert.equal(rows.get('a')!.rating, 1);
    assert.deepEqual(rows.get('a')!.extra, { edited: true });
    assert.equal(rows.get('a')!.id, before.get('a')!.id);
    assert.deepEqual(rows.get('a')!.first_seen_at, before.get('a')!.first_seen_at);
    assert.equal(rows.get('b')!.text, 'Some text');
  });

  test('keeps the last of two posts with the same id in one batch instead of failing', async () => {
    assert.equal(await upsertPosts(services.sql, 'twice', 'q', [post('x', { text: 'first' }), post('x', { text: 'second' })]), 1);
    assert.equal((await stored('twice')).get('x')!.text, 'second');
  });

  test('stores nothing and returns 0 for an empty batch', async () => {
    assert.equal(await upsertPosts(services.sql, 'none', 'q', []), 0);
    assert.equal((await stored('none')).size, 0);
  });

  test('takes a batch larger than PostgreSQL allows parameters for in one row each', async () => {
    // 13 parameters a row would stop at 5,041 rows (65,535 parameters).
    const posts = Array.from({ length: 6_000 }, (_, i) => post(`bulk-${i}`));
    assert.equal(await upsertPosts(services.sql, 'bulk', 'q', posts), 6_000);
    const [row] = await services.sql<{ count: number }[]>`select count(*)::int as count from posts where source = 'bulk'`;
    assert.equal(row?.count, 6_000);
  });
});
