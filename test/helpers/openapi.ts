// Reading the API's OpenAPI document in tests: which operation a request is, and its schemas compiled by a JSON
// Schema 2020-12 validator (the dialect of OpenAPI 3.1), so requests and answers can be held to them.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, unknown>;

export interface Operation {
  path: string;
  method: string;
  spec: {
    security: Record<string, string[]>[];
    parameters: { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Json; style?: string; explode?: boolean }[];
    requestBody?: { required: boolean; content: Record<string, { schema: Json }> };
    responses: Record<string, { content?: Record<string, { schema: Json }> }>;
  };
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export class OpenApi {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<Json, ValidateFunction>();

  constructor(readonly document: Json) {
    // Strict: a misspelt keyword in a schema of the document is an error, not a schema that accepts anything.
    this.ajv = addFormats(new Ajv2020({ strict: true, strictTypes: false, allErrors: true }));
    const schemas = (document.components as { schemas: Json }).schemas;
    this.ajv.addSchema({ $id: 'components', $defs: rewriteRefs(schemas) });
  }

  operations(): Operation[] {
    const paths = this.document.paths as Record<string, Record<string, Operation['spec']>>;
    return Object.entries(paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, spec]) => ({ path, method: method.toUpperCase(), spec })));
  }

  /**
   * The operation of a request path (`/jobs/8f0c`, `/jobs/$JOB/retry`), a trailing slash ignored: a literal segment
   * of the document beats a parameter, so /jobs/status is not /jobs/{id}.
   */
  find(method: string, path: string): { operation: Operation; params: Record<string, string> } | null {
    const segments = path.replace(/\/+$/, '').split('/');
    let best: { operation: Operation; params: Record<string, string>; literal: number } | null = null;
    for (const operation of this.operations()) {
      if (operation.method !== method.toUpperCase()) continue;
      const template = operation.path.split('/');
      if (template.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let literal = 0;
      const fits = template.every((part, i) => {
        const name = /^\{(\w+)\}$/.exec(part)?.[1];
        if (name) return (params[name] = segments[i]!) !== '';
        literal++;
        return part === segments[i];
      });
      if (fits && (!best || literal > best.literal)) best = { operation, params, literal };
    }
    return best && { operation: best.operation, params: best.params };
  }

  /** Whether a path has any documented method, to tell a wrong method from a wrong path. */
  hasPath(path: string): boolean {
    return ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'].some((method) => this.find(method, path) !== null);
  }

  validator(schema: Json): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as Json);
      this.compiled.set(schema, validate);
    }
    return validate;
  }

  /** The problems of `value` against `schema`, as one line each; none when it is valid. */
  problems(schema: Json, value: unknown): string[] {
    const validate = this.validator(schema);
    return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message}`);
  }
}

/** `#/components/schemas/Job` as the schema registered here knows it. */
function rewriteRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', 'components#/$defs/') : rewriteRefs(value),
    ]),
  );
}
