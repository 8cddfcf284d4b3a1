// A value the API takes (a body field, a query parameter, a header, a path segment) as one definition that both
// checks a request and describes itself as JSON Schema, so the document and the check cannot say different things.
import type { Destination } from '../../model/alert.ts';
import type { SourceRegistry } from '../../sources/registry.ts';

export type JsonSchema = Record<string, unknown>;

/** What a definition needs of the running API: the sources, whose names are part of what it accepts. */
export interface Known {
  sources: SourceRegistry;
  /** What an alert rule's destinations are held to here; left out, no private network and no email. */
  destinations?: DestinationContext;
}

export interface DestinationContext {
  /** WEBHOOK_ALLOW_NETWORKS: the networks a webhook may point at although they are not public. */
  allowNetworks: string[];
  /** Whether SMTP_URL is set, so email destinations can be sent. */
  emailConfigured: boolean;
  /** The rule's own destinations, which a request may name by their id to keep what it leaves out. */
  existing: readonly Destination[];
}

export interface Value<T> {
  /** The codes of the errors a bad value of this name is answered with. */
  codes(name: string): string[];
  readonly required: boolean;
  readonly description: string;
  /** A query parameter that lists values with commas (OpenAPI's style form, explode false). */
  readonly commaSeparated?: boolean;
  schema(known: Known): JsonSchema;
  /**
   * The value as the route uses it, or an ApiError; `raw` is undefined when the request leaves it out. `earlier`
   * holds the fields of the same body checked before this one.
   */
  parse(raw: unknown, name: string, known: Known, earlier?: Record<string, unknown>): T;
}

export type Parsed<V> = V extends Value<infer T> ? T : never;
export type ParsedFields<F extends Record<string, Value<unknown>>> = { [K in keyof F]: Parsed<F[K]> };

/** T, or T | undefined when no default fills the gap. */
export type WithDefault<T, D> = [D] extends [undefined] ? T | undefined : T;

export function value<T>(definition: Value<T>): Value<T> {
  return definition;
}
