// Defensive reads of upstream JSON: a field that is missing or of the wrong type becomes null, never a throw
// deep inside a mapper. Sources decide which missing fields mean "the format changed".

export function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-empty trimmed string, else null. */
export function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

/** A finite number, also from a numeric string, else null. */
export function toNumber(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/** An ISO-8601 / RFC-2822 string as a Date, else null. */
export function toDate(value: unknown): Date | null {
  if (typeof value !== 'string' && !(value instanceof Date)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Seconds since the epoch (Unix time, as HN, Stack Exchange and Reddit send) as a Date, else null. */
export function fromUnixSeconds(value: unknown): Date | null {
  const seconds = toNumber(value);
  return seconds === null ? null : new Date(seconds * 1000);
}
