/**
 * Builds the OpenAPI 3.1 document of the HTTP API from the route table's docs (each RouteDef's
 * `doc`, worker/api/docs/) and the request schemas in worker/api/schemas, the very files the
 * validators are compiled from (worker/tools/build-schemas.ts). Plain data in, plain data out: no
 * code is generated. Served by worker/api/routes/openapi.ts at `GET /openapi.json`.
 *
 * The request schemas are JSON Schema draft-07; OpenAPI 3.1 speaks 2020-12, so each is carried over
 * as 2020-12 (`dependencies` becomes `dependentRequired`/`dependentSchemas`, `$ref`s between the
 * files become `#/components/schemas/…`, `$schema`/`$id` are dropped): the same constraints.
 */
import type { JsonSchema, RouteDef, RouteDoc, RouteDocError, RouteDocParameter } from "../app-env";
import apiKeyCreate from "../schemas/api-key-create.schema.json";
import decisionRequest from "../schemas/decision-request.schema.json";
import eventSchema from "../schemas/event.schema.json";
import eventBatch from "../schemas/event-batch.schema.json";
import idSchema from "../schemas/id.schema.json";
import { SHARED_SCHEMAS } from "./components";
import { SECURITY_SCHEMES, securityOf } from "./security";

/** Component name → a request schema file (their `$id`s are how docs and the files refer to them). */
const REQUEST_SCHEMAS: Readonly<Record<string, { $id: string }>> = {
  Id: idSchema,
  Event: eventSchema,
  EventBatch: eventBatch,
  ApiKeyCreate: apiKeyCreate,
  DecisionRequest: decisionRequest,
};

const NAME_BY_REF = new Map<string, string>();
for (const [name, schema] of Object.entries(REQUEST_SCHEMAS)) {
  NAME_BY_REF.set(schema.$id, name);
  // The files refer to each other relatively (`"$ref": "id.json"`).
  NAME_BY_REF.set(schema.$id.slice(schema.$id.lastIndexOf("/") + 1), name);
}

/** A draft-07 schema (or a doc's schema) as 2020-12 with component references. */
export function toOpenApiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApiSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === "$schema" || keyword === "$id") continue;
    if (keyword === "$ref" && typeof value === "string" && !value.startsWith("#")) {
      const name = NAME_BY_REF.get(value);
      if (!name) throw new Error(`openapi: no schema has the $id ${value}`);
      out.$ref = `#/components/schemas/${name}`;
    } else if (keyword === "dependencies" && typeof value === "object" && value !== null) {
      for (const [property, dependency] of Object.entries(value)) {
        const target = Array.isArray(dependency) ? "dependentRequired" : "dependentSchemas";
        out[target] = { ...(out[target] as object | undefined), [property]: toOpenApiSchema(dependency) };
      }
    } else if (keyword === "definitions") {
      out.$defs = toOpenApiSchema(value);
    } else {
      out[keyword] = toOpenApiSchema(value);
    }
  }
  return out;
}

/** The statuses every route of a kind may answer with besides its own (worker/api/app.ts and co). */
const SHARED_ERRORS = {
  keyed: [
    {
      status: 401,
      code: "unauthorized",
      when: "No `Authorization: Bearer rbk_…` header, or an unknown or revoked key.",
    },
    { status: 403, code: "forbidden", when: "The key lacks the route's scope (`x-rebound-scope`)." },
  ],
  body: [
    { status: 400, code: "invalid_json", when: "The body is not valid JSON." },
    { status: 400, code: "body_too_large", when: "The body exceeds the route's limit (1 MiB for most)." },
    {
      status: 415,
      code: "unsupported_media_type",
      when: "The body is not sent as `Content-Type: application/json`.",
    },
  ],
  all: [
    { status: 405, code: "method_not_allowed", when: "The path exists, the method does not (see `Allow`)." },
    { status: 500, code: "internal", when: "A fault on our side; the message quotes a request id." },
  ],
} as const satisfies Record<string, readonly RouteDocError[]>;

/** Hono's `/v1/customers/:id` as OpenAPI's `/v1/customers/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}

/** All the errors a route answers with on purpose, its own and the shared ones. */
export function routeErrors(route: RouteDef): RouteDocError[] {
  const doc = route.doc;
  const own = doc?.errors ?? [];
  const shared: RouteDocError[] = [...SHARED_ERRORS.all];
  if (route.scope !== "public" && route.scope !== "provider") shared.push(...SHARED_ERRORS.keyed);
  if (doc?.requestBody && (doc.requestBody.contentType ?? "application/json") === "application/json") {
    shared.push(...SHARED_ERRORS.body);
  }
  const seen = new Set(own.map((error) => `${error.status} ${error.code}`));
  return [...own, ...shared.filter((error) => !seen.has(`${error.status} ${error.code}`))];
}

function parameters(
  where: "path" | "query" | "header",
  params: Readonly<Record<string, RouteDocParameter>> = {},
) {
  return Object.entries(params).map(([name, param]) => ({
    name,
    in: where,
    required: where === "path" ? true : (param.required ?? false),
    description: param.description,
    schema: toOpenApiSchema(param.schema),
    ...(param.example === undefined ? {} : { example: param.example }),
  }));
}

function errorResponses(errors: readonly RouteDocError[]): Record<string, unknown> {
  const byStatus = new Map<number, RouteDocError[]>();
  for (const error of errors) byStatus.set(error.status, [...(byStatus.get(error.status) ?? []), error]);
  const responses: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const first = list[0] as RouteDocError;
    responses[String(status)] = {
      description: list.map((error) => `\`${error.code}\`: ${error.when}`).join("\n\n"),
      content: {
        "application/json": {
          schema: {
            allOf: [
              { $ref: "#/components/schemas/Error" },
              {
                properties: {
                  error: { properties: { code: { enum: [...new Set(list.map((e) => e.code))] } } },
                },
              },
            ],
          },
          example: { error: { code: first.code, message: first.when, details: [] } },
        },
      },
    };
  }
  return responses;
}

function operation(route: RouteDef, doc: RouteDoc): Record<string, unknown> {
  const response = doc.response;
  const content: Record<string, unknown> = {
    [response.contentType ?? "application/json"]: {
      schema: toOpenApiSchema(response.schema),
      example: response.example,
    },
  };
  for (const alternative of response.alternatives ?? []) {
    content[alternative.contentType] = { schema: { type: "string", description: alternative.description } };
  }
  const body = doc.requestBody;
  const security = securityOf(route);
  return {
    operationId: operationId(route),
    summary: doc.summary,
    description: doc.description,
    tags: [doc.tag],
    "x-rebound-scope": route.scope,
    security,
    parameters: [
      ...parameters("path", doc.pathParams),
      ...parameters("query", doc.query),
      ...parameters("header", doc.headers),
    ],
    ...(body
      ? {
          requestBody: {
            required: route.path !== "/v1/admin/tick",
            ...(body.description ? { description: body.description } : {}),
            content: {
              [body.contentType ?? "application/json"]: {
                schema: toOpenApiSchema(body.schema),
                example: body.example,
              },
            },
          },
        }
      : {}),
    responses: {
      [String(response.status)]: {
        description: response.description,
        ...(response.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(response.headers).map(([name, header]) => [
                  name,
                  { description: header.description, schema: toOpenApiSchema(header.schema) },
                ]),
              ),
            }
          : {}),
        content,
      },
      ...errorResponses(routeErrors(route)),
    },
  };
}

/** `postV1Events`, `getV1CustomersIdNextOffer`: stable names for generated clients. */
function operationId(route: RouteDef): string {
  const words = route.path
    .split(/[/:_.-]+/)
    .filter((word) => word !== "")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  return route.method.toLowerCase() + words.join("");
}

/** The OpenAPI 3.1 document of `routes` (every route must have a `doc`). */
export function buildOpenApiDocument(routes: readonly RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (!route.doc) throw new Error(`openapi: ${route.method} ${route.path} has no doc`);
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route, route.doc);
  }
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(REQUEST_SCHEMAS)) schemas[name] = toOpenApiSchema(schema);
  for (const [name, schema] of Object.entries(SHARED_SCHEMAS)) schemas[name] = toOpenApiSchema(schema);
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    info: {
      title: "Rebound API",
      version,
      description:
        'Retention rules engine at the edge. Authenticate with `Authorization: Bearer rbk_…`; each operation names the scope its key needs (`x-rebound-scope`; `admin` includes every scope). Errors are `{"error": {"code", "message", "details"}}` with stable codes; bad input is 400 `validation_failed` with one located detail per problem. Money is integer minor units with an ISO 4217 currency; times are ISO 8601.',
    },
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }],
    tags: [...new Set(routes.map((route) => (route.doc as RouteDoc).tag))].map((name) => ({ name })),
    paths,
    components: { schemas, securitySchemes: SECURITY_SCHEMES },
  };
}

export type { JsonSchema };
