// The checks every source makes of a query before anything else: something to search for, within the upstream's
// length, and text that can be sent and stored (lib/text.ts). Each source adds its own after these.
import { textProblem } from '../text.ts';

export interface QueryRules {
  /** What a query is for this source, completing "query must be ...". */
  expected: string;
  maxLength?: number;
  /** The upstream counts bytes (UTF-8), not characters. */
  maxBytes?: number;
  /** Said after the length, e.g. " (Reddit's limit)". */
  whose?: string;
}

/** The first problem with the (trimmed) query, or null. */
export function queryProblem(query: string, rules: QueryRules): string | null {
  const q = query.trim();
  if (!q) return `query must be ${rules.expected}`;
  if (rules.maxLength !== undefined && q.length > rules.maxLength) return `query must be at most ${rules.maxLength} characters${rules.whose ?? ''}, got ${q.length}`;
  if (rules.maxBytes !== undefined && Buffer.byteLength(q) > rules.maxBytes) return `query must be at most ${rules.maxBytes} bytes${rules.whose ?? ''}, got ${Buffer.byteLength(q)}`;
  const problem = textProblem(q);
  return problem ? `query ${problem}` : null;
}
