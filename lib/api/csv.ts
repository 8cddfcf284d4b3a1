// CSV as RFC 4180 writes it (CRLF line ends, fields with a comma, a quote or a line break quoted, quotes doubled),
// and safe to open in a spreadsheet: a text cell that starts with =, +, -, @, a tab or a carriage return would run
// as a formula, so it gets a leading apostrophe (and quotes), as OWASP's CSV-injection advice says.

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One cell: text is made formula-safe; numbers and booleans are written as they are; null is empty. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  // The same digits as String() for a finite number, without V8's number-to-string cache, which kept every
  // fractional score it was given into the old generation (16 MB over an export of a million posts).
  if (typeof value === 'number' && Number.isFinite(value)) return JSON.stringify(value);
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) || text !== value ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
