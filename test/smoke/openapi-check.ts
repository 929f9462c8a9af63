// Checks real requests and answers against the OpenAPI document (GET /openapi.json): the schema an
// operation documents for a method, path template and status, compiled by ajv (2020-12, the
// document's dialect) with the document's components, so `#/components/schemas/…` resolve. Test
// code only: the Worker compiles no schema at run time.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as plain JSON
type Json = any;

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

export interface DocumentChecker {
  /** The operation of `method` and an OpenAPI path template (`/v1/customers/{id}`), if documented. */
  operation(method: string, path: string): Json | undefined;
  /** What is wrong with a JSON answer for its documented status; an undocumented status is one problem. */
  response(method: string, path: string, status: number, body: unknown): string[];
  /** What is wrong with a JSON request body under the operation's documented request schema. */
  requestBody(method: string, path: string, body: unknown): string[];
  /** What is wrong with a value under one of the document's schemas (a parameter's, say). */
  schema(schema: unknown, value: unknown): string[];
}

export function documentChecker(document: Json): DocumentChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true });
  ajv.addFormat("date-time", ISO_TIME);
  ajv.addFormat("date", /^\d{4}-\d\d-\d\d$/);
  ajv.addSchema({ $id: "doc", components: document.components });
  const compiled = new Map<string, ValidateFunction>();
  const check = (key: string, schema: Json, value: unknown): string[] => {
    let validate = compiled.get(key);
    if (!validate) {
      const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
      validate = ajv.compile(rebased);
      compiled.set(key, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || "/"} ${e.message}, got ${JSON.stringify(e.data)?.slice(0, 120)}`,
    );
  };
  const operation = (method: string, path: string) => document.paths[path]?.[method.toLowerCase()];
  return {
    operation,
    response(method, path, status, body) {
      const where = `${method} ${path} ${status}`;
      const documented = operation(method, path);
      if (!documented) return [`${where}: not documented`];
      const media = documented.responses[String(status)]?.content?.["application/json"];
      if (!media) return [`${where}: status not documented as JSON`];
      return check(where, media.schema, body).map((problem) => `${where}: ${problem}`);
    },
    schema(schema, value) {
      return check(JSON.stringify(schema), schema, value);
    },
    requestBody(method, path, body) {
      const where = `${method} ${path} request`;
      const media = operation(method, path)?.requestBody?.content?.["application/json"];
      if (!media) return [`${where}: no JSON body documented`];
      return check(where, media.schema, body).map((problem) => `${where}: ${problem}`);
    },
  };
}
