// The table of leases a worker holds, in memory shared with its lease-keeper thread: the main thread writes a
// row when a job starts and clears it when the job ends, the keeper reads the rows on each renewal tick. A
// message per job start and end cost this process more than the job itself for short jobs; a shared row costs
// a few stores, and it is in place before the job's code runs, however long that code then blocks the thread.
//
// One writer (the main thread) and one reader (the keeper). Each row is guarded by a sequence number the writer
// makes odd while it writes and even when done; the reader retries a row whose number was odd or moved while it
// read. Every access goes through Atomics, so there are no data races, only retries.

const TEXT_MAX = 64;
const VERSION = 0;
const ACTIVE = 1;
// `until` is ms since the epoch, about 41 bits: its high and low 32 bits take a cell each, so it is exact for
// any uptime and any clock (an offset from start-up in one Int32 ran out after 24.8 days).
const UNTIL_HIGH = 2;
const UNTIL_LOW = 3;
const ID_LENGTH = 4;
const TOKEN_LENGTH = 5;
const ID = 6;
const TOKEN = ID + TEXT_MAX;
const ROW = TOKEN + TEXT_MAX;

export interface HeldLease {
  id: string;
  token: string;
  /** Renew until then (ms since the epoch); past it the job is left to expire. */
  until: number;
}

export interface HeldLeasesMemory {
  buffer: SharedArrayBuffer;
}

const TWO_TO_32 = 2 ** 32;

export function createHeldLeasesMemory(rows: number): HeldLeasesMemory {
  return { buffer: new SharedArrayBuffer(rows * ROW * Int32Array.BYTES_PER_ELEMENT) };
}

/** The main thread's side: claims a free row per job. */
export class HeldLeasesWriter {
  private readonly cells: Int32Array;
  private readonly rowOf = new Map<string, number>();
  private readonly free: number[];

  constructor(memory: HeldLeasesMemory) {
    this.cells = new Int32Array(memory.buffer);
    const rows = this.cells.length / ROW;
    this.free = Array.from({ length: rows }, (_, i) => rows - 1 - i);
  }

  hold({ id, token, until }: HeldLease): void {
    if (id.length > TEXT_MAX || token.length > TEXT_MAX) throw new Error(`a job id or lease token longer than ${TEXT_MAX} characters: ${id}`);
    const row = this.rowOf.get(id) ?? this.free.pop();
    if (row === undefined) throw new Error(`no free lease row for job ${id}: more jobs held than the worker's concurrency`);
    this.rowOf.set(id, row);
    const at = row * ROW;
    Atomics.add(this.cells, at + VERSION, 1);
    Atomics.store(this.cells, at + ACTIVE, 1);
    const ms = Math.max(0, Math.floor(until));
    Atomics.store(this.cells, at + UNTIL_HIGH, Math.floor(ms / TWO_TO_32));
    Atomics.store(this.cells, at + UNTIL_LOW, ms % TWO_TO_32 | 0);
    this.write(at + ID, at + ID_LENGTH, id);
    this.write(at + TOKEN, at + TOKEN_LENGTH, token);
    Atomics.add(this.cells, at + VERSION, 1);
  }

  release(id: string): void {
    const row = this.rowOf.get(id);
    if (row === undefined) return;
    this.rowOf.delete(id);
    const at = row * ROW;
    Atomics.add(this.cells, at + VERSION, 1);
    Atomics.store(this.cells, at + ACTIVE, 0);
    Atomics.add(this.cells, at + VERSION, 1);
    this.free.push(row);
  }

  private write(start: number, lengthAt: number, text: string): void {
    Atomics.store(this.cells, lengthAt, text.length);
    for (let i = 0; i < text.length; i++) Atomics.store(this.cells, start + i, text.charCodeAt(i));
  }
}

/** The keeper's side: every lease held right now. */
export class HeldLeasesReader {
  private readonly cells: Int32Array;

  constructor(memory: HeldLeasesMemory) {
    this.cells = new Int32Array(memory.buffer);
  }

  all(): HeldLease[] {
    const held: HeldLease[] = [];
    for (let at = 0; at < this.cells.length; at += ROW) {
      const lease = this.readRow(at);
      if (lease) held.push(lease);
    }
    return held;
  }

  private readRow(at: number): HeldLease | null {
    // The writer never stops inside a row's update (it is one synchronous call), so a retry soon sees it whole.
    for (;;) {
      const before = Atomics.load(this.cells, at + VERSION);
      if (before % 2 === 1) continue;
      const active = Atomics.load(this.cells, at + ACTIVE) === 1;
      const lease = active
        ? {
            id: this.read(at + ID, at + ID_LENGTH),
            token: this.read(at + TOKEN, at + TOKEN_LENGTH),
            until: Atomics.load(this.cells, at + UNTIL_HIGH) * TWO_TO_32 + (Atomics.load(this.cells, at + UNTIL_LOW) >>> 0),
          }
        : null;
      if (Atomics.load(this.cells, at + VERSION) === before) return lease;
    }
  }

  private read(start: number, lengthAt: number): string {
    const length = Math.min(Atomics.load(this.cells, lengthAt), TEXT_MAX);
    const codes = new Array<number>(length);
    for (let i = 0; i < length; i++) codes[i] = Atomics.load(this.cells, start + i);
    return String.fromCharCode(...codes);
  }
}
