// The OpenAPI document (GET /openapi.json) against the route table it is built from: every route
// documented with its scope, errors and examples, every example valid under its schema, the request
// schemas the very ones the validators are compiled from, and the document valid OpenAPI 3.1.
import { validate } from "@readme/openapi-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument, openApiPath } from "../../worker/api/openapi/document";
import { ROUTES } from "../../worker/api/route-table";
import { API_VERSION } from "../../worker/api/routes/openapi";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as plain JSON
type Json = any;
const document: Json = buildOpenApiDocument(ROUTES, API_VERSION);
const METHODS = ["get", "post", "put", "patch", "delete"];

/** An ajv over the document's components, so `#/components/schemas/…` references resolve. */
function schemaChecker() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat("date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addFormat("date", /^\d{4}-\d\d-\d\d$/);
  ajv.addSchema({ $id: "doc", components: document.components });
  return (schema: Json, value: unknown): string[] => {
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
    const check = ajv.compile(rebased);
    return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

describe("the OpenAPI document", () => {
  it("documents exactly the routes of the route table, each with a summary, errors and examples", () => {
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item as object)
        .filter((method) => METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const routes = ROUTES.map((route) => `${route.method} ${openApiPath(route.path)}`);
    expect(documented.sort()).toEqual([...routes].sort());
    for (const route of ROUTES) {
      const operation = document.paths[openApiPath(route.path)][route.method.toLowerCase()];
      const name = `${route.method} ${route.path}`;
      expect(route.doc?.summary, name).toBeTruthy();
      expect(operation["x-rebound-scope"], name).toBe(route.scope);
      expect(route.doc?.response.example, name).not.toBeUndefined();
      if (route.scope === "public") expect(operation.security, name).toEqual([]);
      else if (route.scope === "provider") expect(operation.security.length, name).toBeGreaterThan(0);
      else expect(operation.responses["401"], name).toBeDefined();
      expect(operation.responses["500"], name).toBeDefined();
      for (const name of (route.path.match(/:\w+/g) ?? []).map((p) => p.slice(1))) {
        expect(route.doc?.pathParams?.[name], `${route.path} documents :${name}`).toBeDefined();
      }
    }
  });

  it("has examples that its own schemas accept: requests, responses and parameters", () => {
    const check = schemaChecker();
    const problems: string[] = [];
    for (const [path, item] of Object.entries<Json>(document.paths)) {
      for (const [method, operation] of Object.entries<Json>(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const parameter of operation.parameters) {
          if (parameter.example === undefined) continue;
          const value = parameter.schema.type === "integer" ? Number(parameter.example) : parameter.example;
          for (const p of check(parameter.schema, value)) problems.push(`${where} ${parameter.name}: ${p}`);
        }
        for (const media of Object.values<Json>(operation.requestBody?.content ?? {})) {
          for (const p of check(media.schema, media.example)) problems.push(`${where} request: ${p}`);
        }
        for (const [status, response] of Object.entries<Json>(operation.responses)) {
          for (const media of Object.values<Json>(response.content ?? {})) {
            if (media.example === undefined) continue;
            for (const p of check(media.schema, media.example)) problems.push(`${where} ${status}: ${p}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("is valid OpenAPI 3.1", async () => {
    const result = await validate(structuredClone(document));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
