import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createApp } from '../lib/api/app.ts';
import { CsvParser, parseCsv } from '../lib/legacy/csv.ts';
import { type ImportReport, LegacyFileError, LegacyImportStoppedError, importLegacyFile, parseLegacyTimestamp } from '../lib/legacy/import.ts';
import { isLegacySourceName, normaliseSourceName } from '../lib/legacy/source-names.ts';
import { silentLogger } from '../lib/log.ts';
import { JobQueue } from '../lib/queue/queue.ts';
import { queueSettings } from '../lib/queue/settings.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type TestServices, startServices } from './helpers/services.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CSV = join(ROOT, 'test/fixtures/legacy/posts-export-synthetic.csv');
const JSONL = join(ROOT, 'test/fixtures/legacy/posts-export-synthetic.jsonl');

describe('the legacy CSV parser', () => {
  test('reads quoted commas, doubled quotes, line breaks inside quotes and CRLF line ends field by field', () => {
    const records = parseCsv('a,b,c\r\n"x, y","say ""hi""","line 1\nline 2"\r\nplain,"",\r\n');
    assert.deepEqual(records, [
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'line 1\nline 2'],
      ['plain', '', null],
    ]);
  });

  test('an empty unquoted field is NULL and an empty quoted field is an empty string', () => {
    assert.deepEqual(parseCsv(',"",x,\n'), [[null, '', 'x', null]]);
    assert.deepEqual(parseCsv('""\n'), [['']]);
    assert.deepEqual(parseCsv('\n'), [[null]], 'a blank line is one NULL field; the importer skips it');
  });

  test('the last record needs no line break, and a final line break adds no empty record', () => {
    assert.deepEqual(parseCsv('a,b\n1,2'), [['a', 'b'], ['1', '2']]);
    assert.deepEqual(parseCsv('a,b\n1,2\n'), [['a', 'b'], ['1', '2']]);
    assert.deepEqual(parseCsv('a,"b"'), [['a', 'b']]);
    assert.deepEqual(parseCsv(''), []);
  });

  test('a quote inside a quoted field, a CR alone inside quotes and text after a closing quote are kept', () => {
    assert.deepEqual(parseCsv('"""",x\n'), [['"', 'x']]);
    assert.deepEqual(parseCsv('"a\rb",c\n'), [['a\rb', 'c']]);
    assert.deepEqual(parseCsv('"ab"cd,e\n'), [['abcd', 'e']], 'not RFC 4180, but nothing is dropped');
  });

  test('records are numbered by the line they start on, counting line breaks inside quoted fields', () => {
    const parser = new CsvParser();
    const records = [...parser.push('h1,h2\n"a\nb\nc",d\r\ne,f\n\ng,h'), ...parser.end()];
    assert.deepEqual(records.map((r) => [r.line, r.fields]), [
      [1, ['h1', 'h2']],
      [2, ['a\nb\nc', 'd']],
      [5, ['e', 'f']],
      [6, [null]],
      [7, ['g', 'h']],
    ]);
  });

  test('input cut into chunks anywhere, even between CR and LF or inside a doubled quote, parses the same', () => {
    const text = 'a,b\r\n"x ""q"", y","1\r\n2"\r\n,""\r\nlast,"row"';
    const whole = parseCsv(text);
    for (let size = 1; size <= text.length; size += 1) {
      const parser = new CsvParser();
      const records = [];
      for (let at = 0; at < text.length; at += size) records.push(...parser.push(text.slice(at, at + size)));
      records.push(...parser.end());
      assert.deepEqual(records.map((r) => r.fields), whole, `chunks of ${size}`);
    }
  });

  test('a quoted field still open at the end of the input is flagged on its record, with the line it opened on', () => {
    const parser = new CsvParser();
    const records = [...parser.push('a,b\n1,"never\nclosed'), ...parser.end()];
    assert.equal(records.length, 2);
    assert.equal(records[1]!.line, 2);
    assert.match(records[1]!.error ?? '', /opened on line 2 is never closed/);
  });

  test('a record longer than the limit stops the parser with its line instead of filling memory', () => {
    const parser = new CsvParser({ maxRecordChars: 10 });
    assert.throws(() => parser.push('ok\n"this quote is never closed and goes on'), /record starting on line 2 is longer than 10/);
  });
});

describe('legacy values', () => {
  test('timestamps with a zone are converted to UTC and timestamps without one are read as UTC', () => {
    const cases: [string, string][] = [
      ['2024-03-01 12:34:56', '2024-03-01T12:34:56.000Z'],
      ['2024-03-01 12:34:56.123+00', '2024-03-01T12:34:56.123Z'],
      ['2024-03-01 12:34:56.123456', '2024-03-01T12:34:56.123Z'],
      ['2024-03-01 00:30:00+02', '2024-02-29T22:30:00.000Z'],
      ['2024-03-01 12:00:00-05:30', '2024-03-01T17:30:00.000Z'],
      ['2024-03-01T12:00:00Z', '2024-03-01T12:00:00.000Z'],
      ['2024-03-01 12:00:00 UTC', '2024-03-01T12:00:00.000Z'],
      ['2024-03-01', '2024-03-01T00:00:00.000Z'],
      ['0099-01-01 00:00:00', '0099-01-01T00:00:00.000Z'],
    ];
    for (const [input, expected] of cases) assert.equal(parseLegacyTimestamp(input)?.toISOString(), expected, input);
  });

  test('dates that do not exist or are not dates are unreadable', () => {
    for (const input of ['yesterday', '2024-02-30 10:00:00', '2024-13-01', '2024-03-01 24:00:00', '1709296496', '', 'infinity', '2024-03-01 12:00:00+16']) {
      assert.equal(parseLegacyTimestamp(input), null, input);
    }
  });

  test('source names are normalised to ours when they obviously match, and kept as legacy-<slug> otherwise', () => {
    const cases: [string, string][] = [
      ['HackerNews', 'hackernews'],
      ['hn', 'hackernews'],
      ['Hacker News', 'hackernews'],
      ['StackOverflow', 'stackoverflow'],
      ['Stack Overflow', 'stackoverflow'],
      ['Trustpilot', 'trustpilot'],
      ['Google News', 'google-news'],
      ['Mastodon', 'mastodon'],
      ['google_news', 'google-news'],
      ['Twitter / X', 'legacy-twitter-x'],
      ['App Store', 'legacy-app-store'],
      ['', 'legacy-unknown'],
    ];
    for (const [input, expected] of cases) assert.equal(normaliseSourceName(input), expected, input);
  });

  test('every legacy-<slug> name the import gives is one GET /posts accepts, and nothing else passes for one', () => {
    for (const input of ['Twitter / X', 'App Store', '', 'G2', '  Product Hunt!! ', 'x'.repeat(200)]) {
      assert.ok(isLegacySourceName(normaliseSourceName(input)), input);
    }
    for (const name of ['legacy-', 'legacy--x', 'Legacy-app-store', 'legacy-app-store-', 'legacy-a b', `legacy-${'x'.repeat(41)}`, 'trustpilot']) {
      assert.equal(isLegacySourceName(name), false, name);
    }
  });
});

describe('importing an export of the old posts table', () => {
  let services: TestServices;
  let scratch: string;

  before(async () => {
    services = await startServices('legacy_import');
    scratch = await mkdtemp(join(tmpdir(), 'vibe-legacy-'));
  });
  after(async () => {
    await services?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await services.sql`delete from posts`;
  });

  const storedPosts = () => services.sql<Record<string, unknown>[]>`
    select source, external_id, query, url, author, title, body, rating, language, published_at, reply_body, extra
    from posts order by source, external_id
  `;

  test('posts imported under a legacy source name can be listed with GET /posts?source=', async () => {
    await importLegacyFile(services.sql, CSV);
    const app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue: new JobQueue(services.redis, queueSettings(services.config)), sources: await loadSourceRegistry(services.config), log: silentLogger });
    const response = await app.request('/posts?source=legacy-app-store');
    assert.equal(response.status, 200);
    const { posts } = (await response.json()) as { posts: { source: string }[] };
    assert.deepEqual(posts.map((post) => post.source), ['legacy-app-store']);
    const refused = await app.request('/posts?source=app-store');
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /legacy-<name>/);
  });

  test('a CSV export is imported with counts per source, and invalid rows are counted with their line', async () => {
    const report = await importLegacyFile(services.sql, CSV);
    assert.equal(report.format, 'csv');
    assert.equal(report.dryRun, false);
    assert.equal(report.rowsRead, 20);
    assert.equal(report.invalid, 4);
    assert.equal(report.inserted, 15);
    assert.equal(report.updated, 1, 'line 16 repeats line 2');
    assert.deepEqual(report.invalidRows, [
      { line: 11, reason: 'no content and no url' },
      { line: 12, reason: 'created_at "yesterday" is not a timestamp' },
      { line: 13, reason: 'has 5 fields, the header has 12' },
      { line: 19, reason: 'created_at "2024-02-30 10:00:00" is not a timestamp' },
    ]);
    assert.deepEqual(report.sources, {
      hackernews: { rows: 5, inserted: 4, updated: 1 },
      stackoverflow: { rows: 2, inserted: 2, updated: 0 },
      trustpilot: { rows: 2, inserted: 2, updated: 0 },
      'google-news': { rows: 2, inserted: 2, updated: 0 },
      reddit: { rows: 1, inserted: 1, updated: 0 },
      'legacy-twitter': { rows: 1, inserted: 1, updated: 0 },
      'legacy-app-store': { rows: 1, inserted: 1, updated: 0 },
      'legacy-unknown': { rows: 1, inserted: 1, updated: 0 },
      'legacy-g2': { rows: 1, inserted: 1, updated: 0 },
    });
    assert.ok(report.elapsedMs >= 0 && report.rowsPerSecond >= 0);
    const [count] = await services.sql<{ count: number }[]>`select count(*)::int as count from posts`;
    assert.equal(count?.count, 15);
  });

  test('each imported post carries its row: source normalised, text with its newline, time in UTC, the rest in extra', async () => {
    await importLegacyFile(services.sql, CSV);
    const byUrl = async (url: string) => {
      const [row] = await services.sql<Record<string, any>[]>`
        select source, external_id, query, url, author, title, body, rating, language, published_at, reply_body, extra
        from posts where url = ${url}
      `;
      assert.ok(row, `a post for ${url}`);
      return row;
    };

    const question = await byUrl('https://stackoverflow.com/questions/90000003');
    assert.equal(question.source, 'stackoverflow');
    assert.match(question.external_id, /^legacy:[0-9a-f]{32}$/);
    assert.equal(question.query, 'AcmeCloud');
    assert.equal(question.author, 'synthetic-asker');
    assert.equal(question.title, null);
    assert.equal(question.body, 'Line one of a synthetic question.\nLine two, after a newline.');
    assert.equal(question.rating, null);
    assert.equal(question.language, 'en');
    assert.equal(question.published_at.toISOString(), '2024-03-03T07:15:00.000Z', '+02 converted to UTC');
    assert.equal(question.reply_body, null);
    assert.deepEqual(question.extra, {
      legacy: true,
      legacy_source: 'StackOverflow',
      sentiment_score: -0.1,
      sentiment_label: 'neutral',
      country: 'DE',
      relevance_score: 0.77,
      product: 'AcmeCloud',
      keywords: 'api;sdk',
    });

    const comment = await byUrl('https://news.ycombinator.com/item?id=90000001');
    assert.equal(comment.source, 'hackernews');
    assert.equal(comment.body, 'Synthetic: the dashboard is slow, but support answered within the hour.');
    assert.equal(comment.published_at.toISOString(), '2024-03-01T12:34:56.000Z', 'no zone is UTC');
    assert.equal(comment.extra.keywords, 'latency,support');

    const quoted = await byUrl('https://news.ycombinator.com/item?id=90000002');
    assert.equal(quoted.body, 'He said "it just works" and I believe him (synthetic).');
    assert.equal(quoted.published_at.toISOString(), '2024-03-02T08:00:00.123Z');

    const review = await byUrl('https://www.trustpilot.com/reviews/synthetic-0004');
    assert.equal(review.source, 'trustpilot');
    assert.equal(review.author, null, 'NULL author');
    assert.equal(review.extra.sentiment_label, 'negative');
    assert.equal(review.extra.sentiment_score, -0.83);

    const headline = await byUrl('https://news.google.com/articles/synthetic-0005');
    assert.equal(headline.source, 'google-news');
    assert.equal(headline.author, null, 'an empty author is no author');
    assert.equal(headline.published_at.toISOString(), '2024-03-06T04:59:59.999Z', '-05:00 crosses midnight');
    assert.equal('keywords' in headline.extra, false, 'NULL columns are left out of extra');

    const unsentimental = await byUrl('https://www.reddit.com/r/synthetic/comments/s6/');
    assert.deepEqual(unsentimental.extra, { legacy: true, legacy_source: 'reddit', product: 'AcmeCloud' }, 'NULL sentiment is left out');

    const appStore = await byUrl('https://apps.apple.com/synthetic/review/8');
    assert.equal(appStore.source, 'legacy-app-store');
    assert.equal(appStore.query, 'AcmeMobile');
    assert.equal(appStore.author, 'synthétique');
    assert.equal(appStore.body, 'Très bien, synthétique ✓ 日本語のレビュー');
    assert.equal(appStore.language, 'fr');
    assert.equal(appStore.published_at.toISOString(), '2024-03-08T02:38:08.000Z');

    const linkOnly = await byUrl('https://news.ycombinator.com/item?id=90000012');
    assert.equal(linkOnly.body, '', 'a url without content is kept, with empty text');
    assert.equal(linkOnly.language, null);

    const trustpilot = await byUrl('https://www.trustpilot.com/reviews/synthetic-0015');
    assert.equal(trustpilot.body, '"Quoted", start, and end"');
    assert.equal(trustpilot.published_at.toISOString(), '2024-03-10T06:07:08.500Z');

    const nobody = await byUrl('https://example.com/synthetic/16');
    assert.equal(nobody.source, 'legacy-unknown');
    assert.equal(nobody.query, 'legacy', 'no product');
    assert.equal(nobody.extra.legacy_source, '');

    const g2 = await byUrl('https://www.g2.com/products/synthetic/reviews/18');
    assert.equal(g2.source, 'legacy-g2');
    assert.equal(g2.body, 'Synthetic G2 review: "5/5, would buy again"\n\nSecond paragraph.');
    assert.equal(g2.published_at.toISOString(), '2024-03-14T13:14:14.250Z');
    assert.equal(g2.extra.keywords, '42', 'a column of unknown type stays text');

    const wire = await byUrl('https://news.google.com/articles/synthetic-0019');
    assert.equal(wire.source, 'google-news');
    assert.equal(wire.extra.keywords, '', 'an empty string is not NULL');
    assert.equal(wire.extra.sentiment_score, 0);
  });

  test('importing the same export again inserts nothing and leaves the posts as they were', async () => {
    const first = await importLegacyFile(services.sql, CSV, { batchSize: 4 });
    const before = await storedPosts();
    const second = await importLegacyFile(services.sql, CSV, { batchSize: 4 });
    assert.equal(first.inserted, 15);
    assert.equal(second.inserted, 0);
    assert.equal(second.updated, 16);
    assert.equal(second.invalid, 4);
    assert.deepEqual(await storedPosts(), before);
  });

  test('the JSON-lines export of the same rows gives the same posts as the CSV', async () => {
    const fromCsv = await importLegacyFile(services.sql, CSV);
    const csvPosts = await storedPosts();
    await services.sql`delete from posts`;

    const fromJson = await importLegacyFile(services.sql, JSONL);
    assert.equal(fromJson.format, 'jsonl');
    assert.deepEqual(await storedPosts(), csvPosts);
    assert.equal(fromJson.inserted, fromCsv.inserted);
    assert.deepEqual(fromJson.sources, fromCsv.sources);
    assert.deepEqual(fromJson.invalidRows.map((row) => row.line), [9, 10, 11, 17]);
    assert.match(fromJson.invalidRows[2]!.reason, /^not valid JSON/);

    const again = await importLegacyFile(services.sql, CSV);
    assert.equal(again.inserted, 0, 'a CSV of rows already imported from JSON adds nothing');
  });

  test('a dry run writes nothing and says what a real run would insert', async () => {
    const dry = await importLegacyFile(services.sql, CSV, { dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.rowsRead, 20);
    assert.equal(dry.invalid, 4);
    assert.equal(dry.inserted, 15);
    assert.equal(dry.updated, 1);
    assert.equal((await storedPosts()).length, 0);

    await importLegacyFile(services.sql, CSV);
    const dryAfter = await importLegacyFile(services.sql, JSONL, { dryRun: true });
    assert.equal(dryAfter.inserted, 0);
    assert.equal(dryAfter.updated, 16);
  });

  test('every invalid row is counted but only the first 20 are listed, and an unclosed quote at the end is one of them', async () => {
    const header = 'source,author,content,url,created_at,sentiment_score,sentiment_label,language,country,relevance_score,product';
    const lines = [header];
    for (let i = 0; i < 25; i += 1) lines.push(`hn,a,text ${i},https://example.com/${i},not a date,,,,,,`);
    lines.push('hn,a,fine,https://example.com/ok,2024-01-01 00:00:00,,,,,,');
    lines.push('hn,a,"never closed,https://example.com/x,2024-01-01 00:00:00,,,,,,');
    const file = join(scratch, 'many-invalid.csv');
    await writeFile(file, lines.join('\n') + '\n');

    const report = await importLegacyFile(services.sql, file);
    assert.equal(report.rowsRead, 27);
    assert.equal(report.invalid, 26);
    assert.equal(report.inserted, 1);
    assert.equal(report.invalidRows.length, 20);
    assert.deepEqual(report.invalidRows.slice(0, 2).map((row) => row.line), [2, 3]);
  });

  test('a batch the database refuses stops the import; earlier batches stay committed and the failed one is rolled back whole', async () => {
    // After the first batch (lines 2-3, Hacker News) the database starts refusing Stack Overflow posts; the second
    // batch (line 4, Stack Overflow, and line 6, Trustpilot) must leave nothing behind.
    const block = async () => {
      await services.sql`alter table posts add constraint legacy_test_refuse check (source <> 'stackoverflow') not valid`;
    };
    try {
      await assert.rejects(importLegacyFile(services.sql, CSV, { batchSize: 2, onProgress: block }), (error: Error) => {
        assert.ok(error instanceof LegacyImportStoppedError);
        assert.match(error.message, /stopped at the batch starting on line 4, after 2 rows were written \(running it again skips them\): .*legacy_test_refuse/);
        return true;
      });
      assert.deepEqual((await storedPosts()).map((post) => post.source), ['hackernews', 'hackernews']);
    } finally {
      await services.sql`alter table posts drop constraint if exists legacy_test_refuse`;
    }
    const resumed = await importLegacyFile(services.sql, CSV);
    assert.equal(resumed.inserted, 13, 'running it again adds what was missing');
  });

  test('a file that is not an export of the old table is refused before anything is written', async () => {
    const file = join(scratch, 'other.csv');
    await writeFile(file, 'id,name\n1,x\n');
    await assert.rejects(importLegacyFile(services.sql, file), (error: Error) => {
      assert.ok(error instanceof LegacyFileError);
      assert.match(error.message, /lacks content, created_at \(found: id, name\)/);
      return true;
    });
    await assert.rejects(importLegacyFile(services.sql, join(scratch, 'missing.csv')), /no such file/);
    const empty = join(scratch, 'empty.csv');
    await writeFile(empty, '');
    await assert.rejects(importLegacyFile(services.sql, empty), /is empty/);
  });

  test('the format is read from the content when the name does not say', async () => {
    const json = join(scratch, 'export-without-extension');
    await writeFile(json, '[\n\t{"source":"hn","content":"x","url":"https://example.com/a","created_at":"2024-01-01 00:00:00"},\n\t{"source":"hn","content":"y","url":"https://example.com/b","created_at":"2024-01-02 00:00:00"}\n]\n');
    const fromJson = await importLegacyFile(services.sql, json);
    assert.equal(fromJson.format, 'jsonl');
    assert.equal(fromJson.inserted, 2, 'the JSON array form, one object per line, is read too');

    const csv = join(scratch, 'export.txt');
    await writeFile(csv, '\uFEFFsource,content,url,created_at\r\nhn,z,https://example.com/c,2024-01-03 00:00:00\r\n');
    const fromCsv = await importLegacyFile(services.sql, csv);
    assert.equal(fromCsv.format, 'csv');
    assert.equal(fromCsv.inserted, 1);

    const neither = join(scratch, 'notes.txt');
    await writeFile(neither, 'hello\n');
    await assert.rejects(importLegacyFile(services.sql, neither), /cannot tell whether .* is CSV or JSON lines/);
  });

  test('the script prints the report and exits 0; a missing file, a bad file or no database exits 1 with one line', async () => {
    const run = await runScript([CSV], services.env);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^imported: .*posts-export-synthetic\.csv \(csv\)$/);
    assert.ok(lines.some((line) => /^ {2}inserted\s+15$/.test(line)), run.stdout);
    assert.ok(lines.some((line) => /^ {4}line 13: has 5 fields, the header has 12$/.test(line)), run.stdout);
    const report = JSON.parse(lines.at(-1)!) as ImportReport & { event: string };
    assert.equal(report.event, 'legacy_import_report');
    assert.equal(report.inserted, 15);
    assert.equal(report.invalid, 4);

    const dry = await runScript([JSONL, '--dry-run'], services.env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^dry run \(nothing written\)/);
    assert.equal((JSON.parse(dry.stdout.trimEnd().split('\n').at(-1)!) as ImportReport).inserted, 0);

    const missing = await runScript([join(scratch, 'nope.csv')], services.env);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^vibe-tracker: no such file: .*nope\.csv\n$/);

    const other = join(scratch, 'other-table.csv');
    await writeFile(other, 'id,name\n1,x\n');
    const bad = await runScript([other], services.env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^vibe-tracker: .*other-table\.csv is not an export of the old posts table: .*\n$/);

    const down = await runScript([CSV], { ...services.env, DATABASE_URL: 'postgres://127.0.0.1:1/nothing_here' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^vibe-tracker: PostgreSQL is not reachable at 127\.0\.0\.1:1\/nothing_here[^\n]*\n$/);

    const usage = await runScript([], services.env);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^vibe-tracker: expected one file, got 0; usage: import-legacy [^\n]*\n$/);
  });
});

function runScript(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import-legacy.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
