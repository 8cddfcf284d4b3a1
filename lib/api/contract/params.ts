// The values of a query string, a header or a path: text, so an integer must be written as one, and an empty
// parameter reads as a left-out one unless said otherwise.
import { ApiError } from '../../errors.ts';
import { LEGACY_NAME, MAX_LEGACY_NAME_LENGTH, isLegacySourceName } from '../../legacy/source-names.ts';
import { textProblem } from '../../text.ts';
import { MAX_QUERY_LENGTH } from './body.ts';
import { type JsonSchema, type Known, type Value, type WithDefault, value } from './value.ts';

type Raw = string | undefined;
const text = (raw: unknown): Raw => (typeof raw === 'string' ? raw : undefined);

export function integerParam<D extends number | undefined = undefined>(options: { min: number; max: number; default?: D; description: string }): Value<WithDefault<number, D>> {
  const { min, max } = options;
  return value({
    codes: (name) => [`invalid_${name}`],
    required: false,
    description: options.description,
    schema: () => ({ type: 'integer', minimum: min, maximum: max, ...(options.default === undefined ? {} : { default: options.default }) }),
    parse: (raw, name) => integerText(name, text(raw), options.default, min, max) as WithDefault<number, D>,
  });
}

/** Absent or empty, the fallback; the text must be a plain integer in range. */
export function integerText<F extends number | undefined>(name: string, given: string | undefined, fallback: F, min: number, max: number): number | F {
  if (given === undefined || given === '') return fallback;
  if (!/^\d+$/.test(given) || Number(given) < min || Number(given) > max) {
    throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be an integer from ${min} to ${max}`);
  }
  return Number(given);
}

/**
 * One of `choices`; left out, the default. An empty value is refused like any other that is not a choice, unless
 * `emptyMeans` names the choice it stands for.
 */
export function choiceParam<const T extends string, D extends T | undefined = undefined>(
  choices: readonly T[],
  options: { default?: D; emptyMeans?: T; expected?: string; description: string },
): Value<WithDefault<T, D>> {
  return value({
    codes: (name) => [`invalid_${name}`],
    required: false,
    description: options.description,
    schema: () => ({ type: 'string', enum: [...choices], ...(options.default === undefined ? {} : { default: options.default }) }),
    parse(raw, name) {
      const given = text(raw);
      if (given === undefined) return options.default as WithDefault<T, D>;
      if (given === '' && options.emptyMeans !== undefined) return options.emptyMeans;
      if (!choices.includes(given as T)) throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be ${options.expected ?? `one of ${choices.join(', ')}`}`);
      return given as T;
    },
  });
}

/** Text a user types (a search, a tracked query): at most 200 characters, no control characters. */
export function textParam(options: { trim: boolean; description: string }): Value<string | undefined> {
  return value({
    codes: (name) => [`invalid_${name}`],
    required: false,
    description: options.description,
    schema: () => ({ type: 'string', maxLength: MAX_QUERY_LENGTH, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$' }),
    parse(raw, name) {
      const given = options.trim ? text(raw)?.trim() : text(raw);
      if (given === undefined || given === '') return undefined;
      if (given.length > MAX_QUERY_LENGTH) throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be at most ${MAX_QUERY_LENGTH} characters`);
      const problem = textProblem(given);
      if (problem) throw new ApiError(400, `invalid_${name}`, `\`${name}\` ${problem}`);
      return given;
    },
  });
}

/** Values separated by commas, spaces around them and repeats dropped; each one checked by `item`. */
export function commaList<T>(options: {
  items: (known: Known) => JsonSchema;
  item: (entry: string, name: string, known: Known) => T;
  codes: (name: string) => string[];
  description: string;
}): Value<T[] | undefined> {
  return value({
    codes: options.codes,
    required: false,
    description: options.description,
    commaSeparated: true,
    schema: (known) => ({ type: 'array', items: options.items(known) }),
    parse(raw, name, known) {
      const given = text(raw);
      if (given === undefined || given.trim() === '') return undefined;
      return [...new Set(given.split(',').map((entry) => entry.trim()).filter(Boolean))].map((entry) => options.item(entry, name, known));
    },
  });
}

/** One of our sources, or a name the legacy import gave to an old system's source (`legacy-app-store`). */
export function postSourceList(description: string): Value<string[] | undefined> {
  return commaList({
    description,
    codes: () => ['unknown_source'],
    items: (known) => ({ anyOf: [{ type: 'string', enum: known.sources.names() }, { type: 'string', pattern: LEGACY_NAME.source, maxLength: MAX_LEGACY_NAME_LENGTH }] }),
    item(entry, _name, known) {
      if (isLegacySourceName(entry) || known.sources.get(entry)) return entry;
      throw new ApiError(
        400,
        'unknown_source',
        `unknown source "${entry.slice(0, 50)}"; valid sources: ${known.sources.names().join(', ')}, or legacy-<name> for posts imported from the old system`,
      );
    },
  });
}

const TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** An ISO 8601 date or time (a date alone is midnight UTC), as an ISO string PostgreSQL can hold. */
export function timeParam(description: string): Value<string | undefined> {
  return value({
    codes: (name) => [`invalid_${name}`],
    required: false,
    description,
    schema: () => ({ type: 'string', pattern: TIME.source, examples: ['2026-05-01', '2026-05-01T12:00:00Z'] }),
    parse: (raw, name) => isoTime(name, text(raw)),
  });
}

export function isoTime(name: string, given: string | undefined): string | undefined {
  if (given === undefined || given === '') return undefined;
  const invalid = new ApiError(400, `invalid_${name}`, `\`${name}\` must be an ISO 8601 date or time, e.g. 2026-05-01 or 2026-05-01T12:00:00Z`);
  if (!TIME.test(given)) throw invalid;
  const ms = Date.parse(given.length === 10 ? `${given}T00:00:00Z` : given);
  if (Number.isNaN(ms)) throw invalid;
  const date = new Date(ms);
  if (date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) throw invalid;
  return date.toISOString();
}

/**
 * Text the route reads further itself (a cursor, a time zone it asks the database about); only its length is
 * checked here. Left out or empty, the default.
 */
export function opaqueParam<D extends string | undefined = undefined>(options: { code: string; expected: string; maxLength: number; default?: D; description: string }): Value<WithDefault<string, D>> {
  return value({
    codes: () => [options.code],
    required: false,
    description: options.description,
    schema: () => ({ type: 'string', maxLength: options.maxLength, ...(options.default === undefined ? {} : { default: options.default }) }),
    parse(raw, name) {
      const given = text(raw);
      if (given === undefined || given === '') return options.default as WithDefault<string, D>;
      if (given.length > options.maxLength) throw new ApiError(400, options.code, `\`${name}\` must be ${options.expected}`);
      return given;
    },
  });
}

/** A header of visible ASCII matching `pattern`; left out, undefined. */
export function headerValue(options: { pattern: RegExp; code: string; message: string; description: string }): Value<string | undefined> {
  return patternParam(options);
}

/** A path segment naming a thing: one that cannot be an id is no such thing, a 404 as for an id nobody has. */
export function idSegment(options: { pattern: RegExp; code: string; notFound: (id: string) => string; description: string; format?: string }): Value<string> {
  return value({
    codes: () => [options.code],
    required: true,
    description: options.description,
    schema: () => ({ type: 'string', ...(options.format ? { format: options.format } : { pattern: options.pattern.source }) }),
    parse(raw) {
      const given = text(raw) ?? '';
      if (!options.pattern.test(given)) throw new ApiError(404, options.code, options.notFound(given));
      return given;
    },
  });
}

/** Text that must match `pattern` when given (an id a list is narrowed to, a header); left out, undefined. */
export function patternParam(options: { pattern: RegExp; code: string; message: string; description: string }): Value<string | undefined> {
  return value({
    codes: () => [options.code],
    required: false,
    description: options.description,
    schema: () => ({ type: 'string', pattern: options.pattern.source }),
    parse(raw) {
      const given = text(raw);
      if (given === undefined) return undefined;
      if (!options.pattern.test(given)) throw new ApiError(400, options.code, options.message);
      return given;
    },
  });
}
