// Medians and spreads of repeated runs, in the field names of the peer-bullmq results.
/** Field names as in the peer-bullmq results, plus n. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, in %. */
  spread_pct: number;
  n: number;
  runs: number[];
}

export function summarize(runs: number[], digits = 2): Summary {
  const xs = runs.filter((x) => Number.isFinite(x));
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return {
    median: round(median, digits),
    min: round(s[0] ?? NaN, digits),
    max: round(s[n - 1] ?? NaN, digits),
    spread_pct: n && median ? round(((s[n - 1]! - s[0]!) / median) * 100, 1) : NaN,
    n,
    runs: xs.map((x) => round(x, digits)),
  };
}

/** Nearest-rank percentile of an ascending array (q from 0 to 1). */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** "median (min–max)" for a table cell. */
export function cell(s: Summary | undefined | null, digits = 1): string {
  if (!s || !s.n) return 'n/a';
  const f = (x: number) => (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(round(x, digits)));
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}
