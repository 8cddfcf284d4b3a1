// The values a JSON body holds, each checked the same way whatever the route: a field that is absent takes its
// default, anything of the wrong type or out of range is a 400 naming the field and what was expected.
import { ApiError } from '../../errors.ts';
import type { SourceRegistry } from '../../sources/registry.ts';
import { textProblem } from '../../text.ts';
import { type JsonSchema, type Known, type ParsedFields, type Value, type WithDefault, value } from './value.ts';

export const MAX_QUERY_LENGTH = 200;

/** Text a user may type: no control characters, and at least one that is not a space. */
export const USER_TEXT_PATTERN = '^(?=[\\s\\S]*\\S)[^\\u0000-\\u001f\\u007f-\\u009f]*$';

export function integer<D extends number | undefined = undefined>(options: { min: number; max: number; default?: D; description: string }): Value<WithDefault<number, D>> {
  const { min, max, description } = options;
  return value({
    codes: (name) => [`invalid_${name}`],
    required: false,
    description,
    schema: () => ({ type: 'integer', minimum: min, maximum: max, ...(options.default === undefined ? {} : { default: options.default }) }),
    parse: (raw, name) => integerField(name, raw, options.default, min, max) as WithDefault<number, D>,
  });
}

/** Absent, the fallback; anything but an integer in range is refused. */
export function integerField<F extends number | undefined>(name: string, raw: unknown, fallback: F, min: number, max: number): number | F {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be an integer from ${min} to ${max}`);
  }
  return raw;
}

export function boolean(options: { default: boolean; description: string; expected?: string }): Value<boolean> {
  return value({
    codes: (name) => [`invalid_${name}`],
    required: false,
    description: options.description,
    schema: () => ({ type: 'boolean', default: options.default }),
    parse: (raw, name) => booleanField(name, raw, options.default, options.expected),
  });
}

export function booleanField(name: string, raw: unknown, fallback: boolean, expected = 'true or false'): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'boolean') throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be ${expected}`);
  return raw;
}

export function oneOf<const T extends string>(choices: readonly T[], options: { default: T; description: string }): Value<T> {
  return value({
    codes: (name) => [`invalid_${name}`],
    required: false,
    description: options.description,
    schema: () => ({ type: 'string', enum: [...choices], default: options.default }),
    parse(raw, name) {
      if (raw === undefined) return options.default;
      if (!choices.includes(raw as T)) throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be one of ${choices.join(', ')}`);
      return raw as T;
    },
  });
}

/** One of the sources; `invalid_source` when it is not a name, `unknown_source` when no source has it. */
export function sourceName(options: { required: boolean; description: string }): Value<string> {
  return value({
    codes: () => ['invalid_source', 'unknown_source'],
    required: options.required,
    description: options.description,
    schema: (known: Known) => ({ type: 'string', enum: known.sources.names() }),
    parse: (raw, name, known) => requireSource(raw, known.sources, name),
  });
}

export function requireSource(raw: unknown, sources: SourceRegistry, name = 'source'): string {
  const valid = sources.names().join(', ');
  if (typeof raw !== 'string' || raw === '') throw new ApiError(400, 'invalid_source', `\`${name}\` must be one of: ${valid}`);
  if (!sources.get(raw)) throw new ApiError(400, 'unknown_source', `unknown source "${raw.slice(0, 50)}"; valid sources: ${valid}`);
  return raw;
}

/**
 * What to look a company up by, trimmed; every check says `query`, in a list of them too. With `takenBy`, the
 * source named by that earlier field must take it as well (GitHub's search syntax, a forum's words).
 */
export function queryText(options: { required: boolean; description: string; takenBy?: string }): Value<string> {
  return value({
    codes: () => ['invalid_query'],
    required: options.required,
    description: options.description,
    schema: () => ({ type: 'string', minLength: 1, maxLength: MAX_QUERY_LENGTH, pattern: USER_TEXT_PATTERN }),
    parse(raw, _name, known, earlier) {
      const query = requireQuery(raw);
      if (options.takenBy === undefined) return query;
      const problem = known.sources.get(String(earlier?.[options.takenBy]))?.validateQuery?.(query);
      if (problem) throw new ApiError(400, 'invalid_query', problem);
      return query;
    },
  });
}

export function requireQuery(raw: unknown): string {
  if (typeof raw !== 'string') throw new ApiError(400, 'invalid_query', '`query` must be a string: a company domain or brand name');
  const query = raw.trim();
  if (query === '') throw new ApiError(400, 'invalid_query', '`query` must not be empty');
  if (query.length > MAX_QUERY_LENGTH) throw new ApiError(400, 'invalid_query', `\`query\` must be at most ${MAX_QUERY_LENGTH} characters`);
  const problem = textProblem(query);
  if (problem) throw new ApiError(400, 'invalid_query', `\`query\` ${problem}`);
  return query;
}

/**
 * A non-empty array, repeated items dropped; `nullable` takes null as absent. The items are checked under
 * `itemName`, so a bad one is told as the item it is (`sources[]`).
 */
export function list<T, N extends boolean = false>(
  item: Value<T>,
  options: { itemName: string; expected: string; description: string; required?: boolean; nullable?: N },
): Value<T[] | undefined | (N extends true ? null : never)> {
  return value({
    codes: (name) => [`invalid_${name}`, ...item.codes(options.itemName)],
    required: options.required ?? false,
    description: options.description,
    schema: (known: Known) => {
      const array: JsonSchema = { type: 'array', minItems: 1, items: item.schema(known) };
      return options.nullable ? { oneOf: [array, { type: 'null' }] } : array;
    },
    parse(raw, name, known) {
      if (raw === undefined && !options.required) return undefined;
      if (raw === null && options.nullable) return null as N extends true ? null : never;
      if (!Array.isArray(raw) || raw.length === 0) throw new ApiError(400, `invalid_${name}`, `\`${name}\` must be ${options.expected}`);
      return [...new Set(raw.map((entry) => item.parse(entry, options.itemName, known)))];
    },
  });
}

export interface ObjectBody<F extends Record<string, Value<unknown>>> {
  readonly fields: F;
  readonly example: Record<string, unknown>;
  /** Whether the request may leave the body out (it then reads as {}). */
  readonly optional: boolean;
  readonly codes: readonly string[];
  schema(known: Known): JsonSchema;
  parse(raw: unknown, known: Known): ParsedFields<F>;
}

const fieldCodes = (fields: Record<string, Value<unknown>>) => [...new Set(Object.entries(fields).flatMap(([name, field]) => field.codes(name)))];

const propertiesOf = (fields: Record<string, Value<unknown>>, known: Known) =>
  Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, { description: field.description, ...field.schema(known) }]));

/**
 * A JSON object holding only these fields, checked in the order they are listed. With `missing`, the required
 * fields a request leaves out are refused first, each with its own code, before any field is checked.
 */
export function object<F extends Record<string, Value<unknown>>>(
  fields: F,
  options: { example: Record<string, unknown>; optional?: boolean; missing?: (name: string) => string },
): ObjectBody<F> {
  const allowed = Object.keys(fields);
  const required = allowed.filter((name) => fields[name]!.required);
  const example = options.optional ? `${JSON.stringify(options.example)}, or empty` : JSON.stringify(options.example);
  const { missing } = options;
  return {
    fields,
    example: options.example,
    optional: options.optional ?? false,
    codes: ['invalid_json', 'invalid_body', 'unknown_field', ...(missing ? required.map(missing) : []), ...fieldCodes(fields)],
    schema: (known) => ({
      type: 'object',
      additionalProperties: false,
      properties: propertiesOf(fields, known),
      ...(required.length > 0 ? { required } : {}),
      examples: [options.example],
    }),
    parse(raw, known) {
      const given = onlyFields(raw, allowed, example);
      const absent = missing && required.find((name) => given[name] === undefined);
      if (absent) throw new ApiError(400, missing(absent), `\`${absent}\` is required; e.g. ${example}`);
      const parsed: Record<string, unknown> = {};
      for (const name of allowed) parsed[name] = fields[name]!.parse(given[name], name, known, parsed);
      return parsed as ParsedFields<F>;
    },
  };
}

/** A JSON object holding only `allowed` fields, or a 400 saying what was expected (`example`). */
export function onlyFields(raw: unknown, allowed: readonly string[], example: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ApiError(400, 'invalid_body', `the body must be a JSON object like ${example}`);
  }
  const unknown = Object.keys(raw).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ApiError(400, 'unknown_field', `unknown field ${unknown.map((k) => `\`${k}\``).join(', ')}; expected ${allowed.join(', ')}`);
  }
  return raw as Record<string, unknown>;
}

/**
 * A change to a resource that `fields` describe: any of them, at least one, and no other. The route checks the
 * values once it has merged them with what is stored, through the same fields; this only reads the request.
 */
export function patchOf<F extends Record<string, Value<unknown>>>(
  fields: F,
  options: { example: Record<string, unknown>; emptyCode: string },
): ObjectBody<{ [K in keyof F]: Value<unknown> }> {
  const allowed = Object.keys(fields);
  return {
    fields,
    example: options.example,
    optional: false,
    codes: ['invalid_json', 'invalid_body', 'unknown_field', options.emptyCode, ...fieldCodes(fields)],
    schema: (known) => ({ type: 'object', additionalProperties: false, minProperties: 1, properties: propertiesOf(fields, known), examples: [options.example] }),
    parse(raw) {
      const given = onlyFields(raw, allowed, JSON.stringify(options.example));
      if (Object.keys(given).length === 0) throw new ApiError(400, options.emptyCode, `give at least one of ${allowed.join(', ')}`);
      return given as ParsedFields<{ [K in keyof F]: Value<unknown> }>;
    },
  };
}
