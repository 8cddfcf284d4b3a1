// A route as the API promises it: method, path, who may call it, what it takes and what it answers. The handler
// reads its request through `read`, so what is checked is what the document says (lib/api/contract/openapi.ts).
import type { Context } from 'hono';
import { readJson } from '../read-json.ts';
import type { ObjectBody } from './body.ts';
import type { JsonSchema, Known, ParsedFields, Value } from './value.ts';

/** Open: anyone (it reveals no data). Read: the read or the admin token. Admin: the admin token. */
export type Role = 'open' | 'read' | 'admin';
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

type Fields = Record<string, Value<unknown>>;

export interface Answer {
  description: string;
  /** A JSON body; a `$ref` to a shape of lib/api/contract/shapes.ts or a schema of its own. */
  json?: JsonSchema;
  /** Bodies of other media types, by type. */
  content?: Record<string, JsonSchema>;
  headers?: Record<string, string>;
}

export interface RouteDefinition<P extends Fields, Q extends Fields, H extends Fields, B extends Fields> {
  method: Method;
  /** As OpenAPI writes it: `/jobs/{id}`. */
  path: string;
  role: Role;
  tag: string;
  summary: string;
  description?: string;
  path_params?: P;
  query?: Q;
  headers?: H;
  body?: ObjectBody<B>;
  /** The answers that are not errors, by status. */
  responses: Record<number, Answer>;
  /** Codes the handler itself answers with, beyond those its parameters and body have. */
  errors?: string[];
}

export interface Request<P extends Fields, Q extends Fields, H extends Fields, B extends Fields> {
  path: ParsedFields<P>;
  query: ParsedFields<Q>;
  headers: ParsedFields<H>;
  body: ParsedFields<B>;
}

export interface Route<P extends Fields = Fields, Q extends Fields = Fields, H extends Fields = Fields, B extends Fields = Fields>
  extends RouteDefinition<P, Q, H, B> {
  /** Every code the route can answer a bad request with: its parameters', its body's and its own. */
  codes(): string[];
  /** The request checked in this order: path, query string, body, headers; the first problem is the answer. */
  read(c: Context, known: Known): Promise<Request<P, Q, H, B>>;
  /** The path alone: a route that checks a change against what it changes finds that first (a 404 before a 400). */
  readPath(c: Context, known: Known): ParsedFields<P>;
  /** The same checks on values already at hand (the dashboard's forms and links): a query string, a body. */
  parse(input: { query?: (name: string) => unknown; body?: unknown }, known: Known): Pick<Request<P, Q, H, B>, 'query' | 'body'>;
}

function parseAll<F extends Fields>(fields: F | undefined, get: (name: string) => unknown, known: Known): ParsedFields<F> {
  return Object.fromEntries(Object.entries(fields ?? {}).map(([name, field]) => [name, field.parse(get(name), name, known)])) as ParsedFields<F>;
}

export function route<P extends Fields = {}, Q extends Fields = {}, H extends Fields = {}, B extends Fields = {}>(
  definition: RouteDefinition<P, Q, H, B>,
): Route<P, Q, H, B> {
  const fieldCodes = (fields: Fields | undefined) => Object.entries(fields ?? {}).flatMap(([name, field]) => field.codes(name));
  return {
    ...definition,
    codes: () => [
      ...new Set([
        ...fieldCodes(definition.path_params),
        ...fieldCodes(definition.query),
        ...(definition.body?.codes ?? []),
        ...fieldCodes(definition.headers),
        ...(definition.errors ?? []),
      ]),
    ],
    readPath: (c, known) => parseAll(definition.path_params, (name) => c.req.param(name), known),
    async read(c, known) {
      const path = parseAll(definition.path_params, (name) => c.req.param(name), known);
      const query = parseAll(definition.query, (name) => c.req.query(name), known);
      const body = definition.body ? definition.body.parse(await readJson(c.req.raw), known) : ({} as ParsedFields<B>);
      const headers = parseAll(definition.headers, (name) => c.req.header(name), known);
      return { path, query, headers, body };
    },
    parse(input, known) {
      const query = parseAll(definition.query, input.query ?? (() => undefined), known);
      const body = definition.body ? definition.body.parse(input.body ?? {}, known) : ({} as ParsedFields<B>);
      return { query, body };
    },
  };
}

/** What a route's handler gets of the body and of the query string. */
export type BodyOf<R extends { read(...args: never[]): Promise<{ body: unknown }> }> = Awaited<ReturnType<R['read']>>['body'];
export type QueryOf<R extends { read(...args: never[]): Promise<{ query: unknown }> }> = Awaited<ReturnType<R['read']>>['query'];
