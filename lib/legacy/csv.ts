// RFC 4180 CSV, fed in chunks so a large export never has to sit in memory whole. It reads what DuckDB's and
// PostgreSQL's `COPY ... (FORMAT CSV, HEADER)` write: comma, double quotes doubled inside quoted fields, quoted
// fields that span lines, CRLF or LF, and NULL as an empty unquoted field (distinct from "", an empty string).

/** One record, numbered by the line it starts on (1-based), so an error can point into the file. */
export interface CsvRecord {
  fields: (string | null)[];
  line: number;
  /** Set when the record is unusable as written, e.g. a quoted field still open at the end of the file. */
  error?: string;
}

export class CsvError extends Error {
  override name = 'CsvError';
}

// A quote that never closes swallows the rest of the file into one field; past this size that is what happened.
const DEFAULT_MAX_RECORD_CHARS = 64 * 1024 * 1024;

const State = {
  FieldStart: 0,
  Unquoted: 1,
  Quoted: 2,
  /** A quote inside a quoted field: either the first of a doubled pair or the closing one. */
  QuoteInQuoted: 3,
} as const;
type State = (typeof State)[keyof typeof State];

export class CsvParser {
  private state: State = State.FieldStart;
  private field = '';
  private quoted = false;
  private fields: (string | null)[] = [];
  private line = 1;
  private recordLine = 1;
  private recordChars = 0;
  /** The last record ended on CR: a LF right after it (even in the next chunk) belongs to the same line break. */
  private skipLf = false;
  private readonly maxRecordChars: number;

  constructor(options: { maxRecordChars?: number } = {}) {
    this.maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  }

  /** Parses a chunk and returns the records it completed; a record cut by the chunk's end comes with a later call. */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const length = chunk.length;
    let i = 0;
    if (this.skipLf && length > 0) {
      if (chunk.charCodeAt(0) === LF) i = 1;
      this.skipLf = false;
    }
    while (i < length) {
      switch (this.state) {
        case State.FieldStart: {
          const c = chunk.charCodeAt(i);
          if (c === QUOTE) {
            this.state = State.Quoted;
            this.quoted = true;
            i += 1;
          } else if (c === COMMA) {
            this.fields.push(null);
            i += 1;
          } else if (c === LF || c === CR) {
            this.fields.push(null);
            i = this.endRecord(chunk, i, out);
          } else {
            this.state = State.Unquoted;
          }
          break;
        }
        case State.Unquoted: {
          let end = i;
          while (end < length) {
            const c = chunk.charCodeAt(end);
            if (c === COMMA || c === LF || c === CR) break;
            end += 1;
          }
          this.append(chunk.slice(i, end));
          if (end === length) return this.check(out);
          this.finishField();
          i = chunk.charCodeAt(end) === COMMA ? end + 1 : this.endRecord(chunk, end, out);
          break;
        }
        case State.Quoted: {
          const close = chunk.indexOf('"', i);
          const end = close === -1 ? length : close;
          this.append(chunk.slice(i, end));
          this.line += countLineFeeds(chunk, i, end);
          if (close === -1) return this.check(out);
          this.state = State.QuoteInQuoted;
          i = close + 1;
          break;
        }
        case State.QuoteInQuoted: {
          const c = chunk.charCodeAt(i);
          if (c === QUOTE) {
            this.append('"');
            this.state = State.Quoted;
            i += 1;
          } else if (c === COMMA) {
            this.finishField();
            i += 1;
          } else if (c === LF || c === CR) {
            this.finishField();
            i = this.endRecord(chunk, i, out);
          } else {
            // `"ab"cd` breaks RFC 4180; keep the stray text rather than drop it, as most readers do.
            this.state = State.Unquoted;
          }
          break;
        }
      }
    }
    return this.check(out);
  }

  /** Completes the last record when the input does not end with a line break. */
  end(): CsvRecord[] {
    if (this.state === State.Quoted) {
      const record: CsvRecord = {
        fields: [...this.fields, this.field],
        line: this.recordLine,
        error: `a quoted field opened on line ${this.recordLine} is never closed`,
      };
      this.reset();
      return [record];
    }
    if (this.state === State.FieldStart && this.fields.length === 0) return [];
    this.finishField();
    const record = { fields: this.fields, line: this.recordLine };
    this.reset();
    return [record];
  }

  private append(text: string): void {
    this.field += text;
    this.recordChars += text.length;
  }

  private finishField(): void {
    this.fields.push(this.field === '' && !this.quoted ? null : this.field);
    this.field = '';
    this.quoted = false;
    this.state = State.FieldStart;
  }

  /** Emits the record ended by the CR or LF at `at`; returns where the next record starts. */
  private endRecord(chunk: string, at: number, out: CsvRecord[]): number {
    out.push({ fields: this.fields, line: this.recordLine });
    this.fields = [];
    this.recordChars = 0;
    this.line += 1;
    this.recordLine = this.line;
    if (chunk.charCodeAt(at) === CR) {
      if (at + 1 < chunk.length) return chunk.charCodeAt(at + 1) === LF ? at + 2 : at + 1;
      this.skipLf = true;
    }
    return at + 1;
  }

  private check(out: CsvRecord[]): CsvRecord[] {
    if (this.recordChars > this.maxRecordChars) {
      throw new CsvError(
        `the record starting on line ${this.recordLine} is longer than ${this.maxRecordChars} characters: is a quote left open?`,
      );
    }
    return out;
  }

  private reset(): void {
    this.state = State.FieldStart;
    this.field = '';
    this.quoted = false;
    this.fields = [];
    this.recordChars = 0;
    this.recordLine = this.line;
  }
}

/** Every record of an in-memory text; throws on a record the parser flags. For small inputs and tests. */
export function parseCsv(text: string): (string | null)[][] {
  const parser = new CsvParser();
  const records = [...parser.push(text), ...parser.end()];
  const broken = records.find((record) => record.error);
  if (broken) throw new CsvError(broken.error);
  return records.map((record) => record.fields);
}

/** Records from a stream of text chunks (e.g. `createReadStream(path, { encoding: 'utf8' })`), as they complete. */
export async function* readCsv(chunks: AsyncIterable<string>, options: { maxRecordChars?: number } = {}): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser(options);
  for await (const chunk of chunks) yield* parser.push(chunk);
  yield* parser.end();
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

function countLineFeeds(text: string, from: number, to: number): number {
  let count = 0;
  for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}
