// Imports the `posts` table of the system we replace, as DuckDB's `COPY posts TO 'posts.csv' (HEADER)` or
// `COPY posts TO 'posts.jsonl' (FORMAT JSON)` writes it. The file is streamed record by record and written in
// batches, one transaction each, through upsertPosts; ids are derived from the row itself, so importing the same
// export twice inserts nothing the second time, and an import cut short is finished by running it again.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Sql } from '../db/client.ts';
import { upsertPosts } from '../db/posts.ts';
import type { ScrapedPost } from '../model/post.ts';
import { withSentiment } from '../scrape/sentiment.ts';
import { StartupError } from '../startup-error.ts';
import { readCsv } from './csv.ts';
import { normaliseSourceName } from './source-names.ts';

export type LegacyFormat = 'csv' | 'jsonl';

/** The file cannot be imported at all (missing, unreadable, not an export of the old table): nothing was written. */
export class LegacyFileError extends StartupError {
  override name = 'LegacyFileError';
}

/** Writing stopped part-way (the database went away, say); the batches before `line` are committed. */
export class LegacyImportStoppedError extends StartupError {
  override name = 'LegacyImportStoppedError';
}

export interface InvalidRow {
  line: number;
  reason: string;
}

export interface SourceCounts {
  rows: number;
  inserted: number;
  /** Rows whose post was already stored (by an earlier import, or earlier in this file). */
  updated: number;
}

export interface ImportReport {
  file: string;
  format: LegacyFormat;
  /** In a dry run nothing is written: `inserted` and `updated` say what a real run would do. */
  dryRun: boolean;
  rowsRead: number;
  inserted: number;
  updated: number;
  invalid: number;
  /** The first INVALID_ROWS_KEPT invalid rows, in file order. */
  invalidRows: InvalidRow[];
  sources: Record<string, SourceCounts>;
  elapsedMs: number;
  rowsPerSecond: number;
}

export interface ImportOptions {
  dryRun?: boolean;
  /** Rows per transaction; 500 rows of 13 columns stay far below PostgreSQL's 65,535 parameters per statement. */
  batchSize?: number;
  /** Detected from the file name or its first bytes when not given. */
  format?: LegacyFormat;
  /** Called after each batch is written, with the counts so far; the next batch waits for a returned promise. */
  onProgress?: (report: ImportReport) => void | Promise<void>;
}

/** A post ready for upsertPosts, with the (source, query) it is stored under. */
export interface LegacyPost {
  source: string;
  query: string;
  post: ScrapedPost;
}

export const INVALID_ROWS_KEPT = 20;
const DEFAULT_BATCH_SIZE = 500;
const REQUIRED_COLUMNS = ['content', 'created_at'];
// Columns that have a place in posts; the rest of the row goes to `extra`.
const MAPPED_COLUMNS = new Set(['source', 'author', 'content', 'url', 'created_at', 'language']);
// Numbers in the old schema; a CSV cell is text, so these are turned back into numbers.
const NUMERIC_COLUMNS = new Set(['sentiment_score', 'relevance_score']);

export async function importLegacyFile(sql: Sql, file: string, options: ImportOptions = {}): Promise<ImportReport> {
  const started = performance.now();
  const format = options.format ?? (await detectLegacyFormat(file));
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const dryRun = options.dryRun ?? false;
  const report: ImportReport = {
    file,
    format,
    dryRun,
    rowsRead: 0,
    inserted: 0,
    updated: 0,
    invalid: 0,
    invalidRows: [],
    sources: {},
    elapsedMs: 0,
    rowsPerSecond: 0,
  };
  const snapshot = (): ImportReport => {
    report.elapsedMs = Math.round(performance.now() - started);
    report.rowsPerSecond = report.elapsedMs > 0 ? Math.round((report.rowsRead * 1000) / report.elapsedMs) : report.rowsRead;
    return structuredClone(report);
  };

  // One batch is written while the next is parsed; never more than one in flight, so batches commit in file order.
  let writing: Promise<void> = Promise.resolve();
  let batch: LegacyPost[] = [];
  let batchFirstLine = 1;
  const flush = async () => {
    if (batch.length === 0) return;
    const posts = batch;
    const firstLine = batchFirstLine;
    batch = [];
    await writing;
    writing = writeBatch(sql, posts, dryRun, report)
      .then(() => options.onProgress?.(snapshot()))
      .catch((error: Error) => {
        const written = report.inserted + report.updated;
        throw new LegacyImportStoppedError(
          dryRun
            ? `dry run of ${file} stopped at the batch starting on line ${firstLine}: ${error.message}`
            : `import of ${file} stopped at the batch starting on line ${firstLine}, after ${written} rows were written ` +
                `(running it again skips them): ${error.message}`,
          { cause: error },
        );
      });
    writing.catch(() => {}); // awaited before the next batch or at the end; this only keeps it from counting as unhandled
  };

  const rows = format === 'csv' ? csvRows(file) : jsonRows(file);
  for await (const row of rows) {
    report.rowsRead += 1;
    const mapped = 'error' in row ? row.error : mapLegacyRow(row.values, { textual: format === 'csv' });
    if (typeof mapped === 'string') {
      report.invalid += 1;
      if (report.invalidRows.length < INVALID_ROWS_KEPT) report.invalidRows.push({ line: row.line, reason: mapped });
      continue;
    }
    const counts = (report.sources[mapped.source] ??= { rows: 0, inserted: 0, updated: 0 });
    counts.rows += 1;
    if (batch.length === 0) batchFirstLine = row.line;
    batch.push(mapped);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  await writing;
  return snapshot();
}

/** csv or jsonl from the extension, else from the first bytes; a LegacyFileError when missing or neither. */
export async function detectLegacyFormat(file: string): Promise<LegacyFormat> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new LegacyFileError(
      error.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${error.message}`,
    );
  });
  if (!info.isFile()) throw new LegacyFileError(`${file} is not a file`);
  const extension = extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (['.json', '.jsonl', '.ndjson'].includes(extension)) return 'jsonl';
  if (['.gz', '.zst', '.zip', '.parquet'].includes(extension)) {
    throw new LegacyFileError(`${file} is compressed or binary: export the table as CSV or JSON lines (COPY posts TO 'posts.csv' (HEADER))`);
  }
  const head = await readHead(file, 4096);
  const start = head.replace(/^\uFEFF/, '').trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'jsonl';
  const firstLine = start.split(/\r?\n/, 1)[0]!.toLowerCase();
  if (firstLine.includes(',') && firstLine.includes('created_at')) return 'csv';
  throw new LegacyFileError(
    `cannot tell whether ${file} is CSV or JSON lines: expected a .csv or .jsonl name, a CSV header with created_at, or JSON objects`,
  );
}

type Row = { line: number; values: Map<string, unknown> } | { line: number; error: string };

async function* csvRows(file: string): AsyncGenerator<Row> {
  let header: string[] | null = null;
  for await (const record of readCsv(withoutBom(createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })))) {
    if (header === null) {
      header = record.fields.map((name) => (name ?? '').trim().toLowerCase());
      checkColumns(file, header, 'its header');
      const duplicate = header.find((name, i) => header!.indexOf(name) !== i);
      if (duplicate !== undefined) throw new LegacyFileError(`${file}: column "${duplicate}" appears twice in the header`);
      continue;
    }
    // A blank line (nothing between two line breaks) is not a row; a header of one column cannot pass checkColumns.
    if (record.fields.length === 1 && record.fields[0] === null) continue;
    if (record.error) {
      yield { line: record.line, error: record.error };
    } else if (record.fields.length !== header.length) {
      yield { line: record.line, error: `has ${record.fields.length} fields, the header has ${header.length}` };
    } else {
      const values = new Map<string, unknown>();
      header.forEach((name, i) => values.set(name, record.fields[i]));
      yield { line: record.line, values };
    }
  }
  if (header === null) throw new LegacyFileError(`${file} is empty: expected a CSV header (COPY posts TO 'posts.csv' (HEADER))`);
}

// One object per line; the array form (`FORMAT JSON, ARRAY true`) also puts one object per line, between `[` and `]`.
async function* jsonRows(file: string): AsyncGenerator<Row> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let line = 0;
  let checked = false;
  for await (const text of lines) {
    line += 1;
    let trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (trimmed === '' || trimmed === '[' || trimmed === ']') continue;
    if (trimmed.endsWith(',')) trimmed = trimmed.slice(0, -1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      yield { line, error: `not valid JSON (${(error as Error).message})` };
      continue;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      yield { line, error: 'not a JSON object' };
      continue;
    }
    const values = new Map<string, unknown>();
    for (const [key, value] of Object.entries(parsed)) values.set(key.toLowerCase(), value);
    if (!checked) {
      checkColumns(file, [...values.keys()], `its first object (line ${line})`);
      checked = true;
    }
    yield { line, values };
  }
}

function checkColumns(file: string, columns: string[], where: string): void {
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.includes(name));
  if (missing.length > 0) {
    throw new LegacyFileError(
      `${file} is not an export of the old posts table: ${where} lacks ${missing.join(', ')} (found: ${columns.slice(0, 12).join(', ') || 'nothing'})`,
    );
  }
}

/**
 * Maps one row of the old table, keyed by lower-cased column name, to a post; returns why when it cannot.
 * `textual` rows come from CSV, where every value is text.
 */
export function mapLegacyRow(values: Map<string, unknown>, options: { textual: boolean }): LegacyPost | string {
  const content = clean(text(values.get('content')) ?? '');
  const url = clean(text(values.get('url'))?.trim() ?? '');
  if (content.trim() === '' && url === '') return 'no content and no url';
  const createdAt = values.get('created_at');
  if (createdAt === null || createdAt === undefined || createdAt === '') return 'created_at is empty';
  const publishedAt = typeof createdAt === 'string' ? parseLegacyTimestamp(createdAt) : null;
  if (!publishedAt) return `created_at ${JSON.stringify(String(createdAt).slice(0, 40))} is not a timestamp`;

  const legacySource = text(values.get('source'))?.trim() ?? '';
  const source = normaliseSourceName(legacySource);
  const product = clean(text(values.get('product'))?.trim() ?? '');
  const extra: Record<string, unknown> = {};
  for (const [name, value] of values) {
    if (MAPPED_COLUMNS.has(name) || value === null || value === undefined) continue;
    extra[name] = cleanJson(options.textual && typeof value === 'string' ? readNumber(name, value) : value);
  }
  extra.legacy = true;
  extra.legacy_source = clean(legacySource);

  const hashed = JSON.stringify([source, url, publishedAt.toISOString(), content]);
  return {
    source,
    query: product || 'legacy',
    post: {
      externalId: `legacy:${createHash('sha256').update(hashed).digest('hex').slice(0, 32)}`,
      url,
      author: clean(text(values.get('author'))?.trim() ?? '') || null,
      title: null,
      text: content,
      rating: null,
      language: clean(text(values.get('language'))?.trim() ?? '') || null,
      publishedAt,
      reply: null,
      extra,
    },
  };
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|GMT|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?$/i;

/**
 * A timestamp as DuckDB and PostgreSQL print them (`2024-03-01 12:34:56`, `2024-03-01 12:34:56.123456+00`,
 * `+05:30`, ISO 8601 with T and Z); no zone means UTC. Null when unreadable or out of range. Milliseconds are kept,
 * finer digits dropped (a JavaScript Date holds no more).
 */
export function parseLegacyTimestamp(value: string): Date | null {
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone, sign, zh = '0', zm = '0', zs = '0'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  if (Number(zh) > 15 || Number(zm) > 59 || Number(zs) > 59) return null;
  const date = new Date(Date.UTC(2000, month - 1, day, Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0').slice(0, 3))));
  date.setUTCFullYear(year); // Date.UTC reads years 0-99 as 1900-1999
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) return null;
  if (zone && sign) {
    const offsetMs = ((Number(zh) * 60 + Number(zm)) * 60 + Number(zs)) * 1000;
    date.setTime(date.getTime() - (sign === '-' ? -offsetMs : offsetMs));
  }
  return date;
}

/** A multi-line table for people, e.g. the import script's output. */
export function formatImportReport(report: ImportReport): string {
  const lines = [
    `${report.dryRun ? 'dry run (nothing written)' : 'imported'}: ${report.file} (${report.format})`,
    row('rows read', report.rowsRead),
    row(report.dryRun ? 'would insert' : 'inserted', report.inserted),
    row('already present', report.updated),
    row('invalid', report.invalid),
    row('elapsed', `${(report.elapsedMs / 1000).toFixed(2)} s (${report.rowsPerSecond} rows/s)`),
  ];
  const sources = Object.entries(report.sources).sort(([a], [b]) => a.localeCompare(b));
  if (sources.length > 0) {
    const width = Math.max(6, ...sources.map(([name]) => name.length));
    lines.push('', `  ${'source'.padEnd(width)}  ${'rows'.padStart(9)}  ${(report.dryRun ? 'new' : 'inserted').padStart(9)}  ${'present'.padStart(9)}`);
    for (const [name, counts] of sources) {
      lines.push(`  ${name.padEnd(width)}  ${String(counts.rows).padStart(9)}  ${String(counts.inserted).padStart(9)}  ${String(counts.updated).padStart(9)}`);
    }
  }
  if (report.invalidRows.length > 0) {
    lines.push('', report.invalid > report.invalidRows.length ? `  invalid rows (first ${report.invalidRows.length}):` : '  invalid rows:');
    for (const invalid of report.invalidRows) lines.push(`    line ${invalid.line}: ${invalid.reason}`);
  }
  return lines.join('\n');
}

function row(label: string, value: number | string): string {
  return `  ${label.padEnd(16)} ${String(value).padStart(9)}`;
}

async function writeBatch(sql: Sql, batch: LegacyPost[], dryRun: boolean, report: ImportReport): Promise<void> {
  const groups = new Map<string, { source: string; query: string; posts: ScrapedPost[] }>();
  for (const { source, query, post } of batch) {
    const key = JSON.stringify([source, query]);
    const group = groups.get(key) ?? { source, query, posts: [] };
    group.posts.push(post);
    groups.set(key, group);
  }
  const inserted = dryRun ? await countNew(sql, [...groups.values()]) : await upsertInOneTransaction(sql, [...groups.values()]);
  for (const [i, group] of [...groups.values()].entries()) {
    const counts = report.sources[group.source]!;
    counts.inserted += inserted[i]!;
    counts.updated += group.posts.length - inserted[i]!;
    report.inserted += inserted[i]!;
    report.updated += group.posts.length - inserted[i]!;
  }
}

async function upsertInOneTransaction(sql: Sql, groups: { source: string; query: string; posts: ScrapedPost[] }[]): Promise<number[]> {
  // A reserved connection rather than sql.begin(): upsertPosts takes an Sql, which a TransactionSql is not.
  const connection = await sql.reserve();
  try {
    await connection`begin`;
    try {
      const inserted: number[] = [];
      // The old system's rows carry no rating of their own: their text decides.
      for (const group of groups) inserted.push(await upsertPosts(connection, group.source, group.query, withSentiment(group.posts, 'votes')));
      await connection`commit`;
      return inserted;
    } catch (error) {
      await connection`rollback`.catch(() => {});
      throw error;
    }
  } finally {
    connection.release();
  }
}

/** What upsertPosts would insert: ids neither stored nor repeated earlier in the group. Reads only. */
async function countNew(sql: Sql, groups: { source: string; query: string; posts: ScrapedPost[] }[]): Promise<number[]> {
  const counts: number[] = [];
  for (const group of groups) {
    const ids = [...new Set(group.posts.map((post) => post.externalId))];
    const stored = await sql<{ count: number }[]>`
      select count(*)::int as count from posts where source = ${group.source} and external_id = any(${ids})
    `;
    counts.push(ids.length - (stored[0]?.count ?? 0));
  }
  return counts;
}

async function readHead(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function* withoutBom(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<string> {
  let first = true;
  for await (const chunk of chunks) {
    const text = String(chunk);
    yield first ? text.replace(/^\uFEFF/, '') : text;
    first = false;
  }
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

// PostgreSQL text and jsonb cannot hold U+0000; one stray NUL would otherwise fail its whole batch.
function clean(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
}

function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return clean(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [clean(key), cleanJson(inner)]));
  }
  return value;
}

// CSV has no types: the old schema's numeric columns are read back as numbers, every other cell stays text.
function readNumber(column: string, value: string): unknown {
  const number = Number(value);
  return NUMERIC_COLUMNS.has(column) && value.trim() !== '' && Number.isFinite(number) ? number : value;
}
