// The baseline period of a window as a dense array: the known windows before it, oldest first, the missing ones
// counted as 0. The caller's rows come from a GROUP BY, which leaves out the windows without posts.
import type { WindowCount } from './types.ts';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export interface BaselineSpan {
  /** Start of the oldest baseline window. */
  from: number;
  /** How many windows, the last one ending where the current window starts. */
  length: number;
}

/** The baseline windows of the window starting at `windowStart`: `baselineDays` back, none before `historyStart`. */
export function baselineSpan(windowStart: number, windowMs: number, baselineDays: number, historyStart: number): BaselineSpan {
  const wanted = Math.round((baselineDays * DAY_MS) / windowMs);
  // A window is known only when all of it lies after historyStart.
  const known = historyStart <= windowStart ? Math.floor((windowStart - historyStart) / windowMs) : 0;
  const length = Math.min(wanted, known);
  return { from: windowStart - length * windowMs, length };
}

/** One value per baseline window (rows of the same window are added up), 0 where no row says otherwise. */
export function denseValues<W extends WindowCount>(rows: readonly W[], span: BaselineSpan, windowMs: number, value: (row: W) => number): Float64Array {
  const out = new Float64Array(span.length);
  const end = span.from + span.length * windowMs;
  for (const row of rows) {
    if (row.start < span.from || row.start >= end) continue;
    const offset = row.start - span.from;
    if (offset % windowMs !== 0) {
      throw new RangeError(`a past window starts at ${new Date(row.start).toISOString()}, off the grid of ${windowMs / MINUTE_MS}-minute windows of the current one`);
    }
    out[offset / windowMs]! += value(row);
  }
  return out;
}

/** Checks the two parameters every detector has; a stored rule with a bad value should fail loudly, not judge. */
export function checkWindowParams(windowMinutes: number, baselineDays: number): void {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || 1440 % windowMinutes !== 0) {
    throw new RangeError(`windowMinutes must be a whole number of minutes that divides a day (1440), got ${windowMinutes}`);
  }
  if (!Number.isInteger(baselineDays) || baselineDays < 1) throw new RangeError(`baselineDays must be a whole number of days from 1, got ${baselineDays}`);
}
