// The OpenAPI 3.1 document of the API, built from the route definitions the handlers read their requests with.
import { CHANGE_CODES, ERROR_CODES, EVERY_ROUTE_CODES } from './error-codes.ts';
import type { Route } from './route.ts';
import { SHAPES, ref } from './shapes.ts';
import type { JsonSchema, Known, Value } from './value.ts';

/** The version of the API's contract; a change that breaks a client raises its first number. */
export const API_VERSION = '1.0.0';

const SECURITY: Record<Route['role'], Record<string, string[]>[]> = {
  open: [],
  read: [{ readToken: [] }, { adminToken: [] }],
  admin: [{ adminToken: [] }],
};

const DESCRIPTION = `Collects public posts about a company from several sources and serves them.

Every error is \`{"error":{"code","message"}}\`; each operation lists the codes it can answer with under the
status they come with. Times are ISO 8601 UTC. When API_TOKEN is set, every change needs
\`Authorization: Bearer <API_TOKEN>\`; when API_READ_TOKEN is set too (and API_PUBLIC_READS is not), every read
needs that token or API_TOKEN. Without tokens, nothing asks for one. /health, /ready and /openapi.json are always open.`;

/** Every code a route can answer with: its own, those of its role, and those any route can. */
export function routeCodes(route: Route): string[] {
  const codes = [...route.codes()];
  if (route.role === 'open') return [...new Set([...codes, 'internal_error'])];
  codes.push('unauthorized', ...EVERY_ROUTE_CODES);
  if (route.role === 'admin') codes.push('forbidden');
  if (route.method === 'post' || route.method === 'put' || route.method === 'patch') codes.push(...CHANGE_CODES);
  else if (route.method === 'delete') codes.push('rate_limited');
  return [...new Set(codes)];
}

function parameters(route: Route, known: Known): JsonSchema[] {
  const describe = (where: 'path' | 'query' | 'header', fields: Record<string, Value<unknown>> | undefined) =>
    Object.entries(fields ?? {}).map(([name, field]) => ({
      name,
      in: where,
      required: where === 'path' || field.required,
      description: field.description,
      schema: field.schema(known),
      ...(field.commaSeparated ? { style: 'form', explode: false } : {}),
    }));
  return [...describe('path', route.path_params), ...describe('query', route.query), ...describe('header', route.headers)];
}

const ERROR_HEADERS: Record<number, Record<string, string>> = {
  401: { 'WWW-Authenticate': 'Bearer' },
  429: { 'Retry-After': 'seconds until the next window' },
  503: { 'Retry-After': 'seconds to wait before trying again' },
};

const headerObjects = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));

function errorAnswers(codes: string[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, string[]>();
  for (const code of codes) {
    const known = ERROR_CODES[code];
    if (!known) throw new Error(`error code ${code} is not in lib/api/contract/error-codes.ts`);
    byStatus.set(known.status, [...(byStatus.get(known.status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((code) => `\`${code}\`: ${ERROR_CODES[code]!.when}`).join('; '),
        ...(ERROR_HEADERS[status] ? { headers: headerObjects(ERROR_HEADERS[status]) } : {}),
        content: {
          'application/json': {
            schema: {
              allOf: [ref('Error'), { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: list } } } } }],
            },
          },
        },
      },
    ]),
  );
}

function operation(route: Route, known: Known): JsonSchema {
  const answers: Record<string, JsonSchema> = errorAnswers(routeCodes(route));
  for (const [status, answer] of Object.entries(route.responses)) {
    // An error answer the route describes itself (/ready's 503) still carries the codes of its status.
    const errors = answers[status] as { description: string; content: Record<string, { schema: JsonSchema }> } | undefined;
    const json = errors && answer.json ? { allOf: [answer.json, errors.content['application/json']!.schema] } : answer.json;
    answers[status] = {
      description: errors ? `${answer.description}; ${errors.description}` : answer.description,
      ...(answer.headers ? { headers: headerObjects(answer.headers) } : {}),
      ...(json || answer.content
        ? {
            content: {
              ...(json ? { 'application/json': { schema: json } } : {}),
              ...Object.fromEntries(Object.entries(answer.content ?? {}).map(([type, schema]) => [type, { schema }])),
            },
          }
        : {}),
    };
  }
  return {
    operationId: `${route.method}${route.path.replace(/\{(\w+)\}/g, 'By-$1').split(/[^A-Za-z0-9]+/).filter(Boolean).map((word) => word[0]!.toUpperCase() + word.slice(1)).join('')}`,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: SECURITY[route.role],
    parameters: parameters(route, known),
    ...(route.body
      ? {
          requestBody: {
            required: !route.body.optional,
            ...(route.body.optional ? { description: 'may be left out; every field has a default' } : {}),
            content: { 'application/json': { schema: route.body.schema(known) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(answers).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

export function openApiDocument(routes: readonly Route[], known: Known): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route, known) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'vibe-tracker', version: API_VERSION, description: DESCRIPTION },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: SHAPES,
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'API_TOKEN: every route' },
        readToken: { type: 'http', scheme: 'bearer', description: 'API_READ_TOKEN: every GET' },
      },
    },
  };
}
