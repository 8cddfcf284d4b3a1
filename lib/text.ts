// Checks on text a user gives us (queries, search terms): control characters (U+0000 above all, which PostgreSQL
// cannot store) and lone UTF-16 surrogates (not Unicode at all) are refused at the edge rather than stored.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with `value` as user text, or null when nothing is. */
export function textProblem(value: string): string | null {
  if (CONTROL.test(value)) return 'must not contain control characters such as NUL, tabs or line breaks';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (it holds a lone surrogate)';
  return null;
}
