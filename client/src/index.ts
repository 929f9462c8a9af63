/**
 * Rebound's typed client for the app side: every route of the HTTP API with its parameters, body
 * and answers typed from the OpenAPI document the Worker serves (GET /openapi.json; the types are
 * generated into ./schema.d.ts by `npm run build:client-types`). The runtime is openapi-fetch: a
 * call answers `{ data }` on success or `{ error }` with the API's error body, typed per route, and
 * `response` either way. `orThrow` turns an error answer into a `ReboundApiError`. See client/README.md.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema";

export type { components, Middleware, operations, paths };

/** Every route, typed: `client.GET("/v1/customers/{id}", { params: { path: { id } } })`. */
export type ReboundClient = Client<paths>;

/** A schema of the document by name: `Schema<"Offer">`, `Schema<"Event">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

/** The API's error body, `{"error": {"code", "message", "details"}}` (worker/errors.ts). */
export type ReboundErrorBody = Schema<"Error">;

/** One problem in a request: `path` is a JSON Pointer into the body, `?name`, `header:Name` or `path:name`. */
export type ReboundErrorDetail = ReboundErrorBody["error"]["details"][number];

export interface ReboundClientOptions {
  /** Where the Worker answers, e.g. `https://rebound.example.workers.dev` or `http://localhost:8787`. */
  baseUrl: string;
  /** An API key (`rbk_…`) with the scopes the routes you call need; never ship one to a browser. */
  apiKey: string;
  /** The fetch to send with (default: the global one), e.g. to add a timeout or a proxy. */
  fetch?: (request: Request) => Promise<Response>;
}

/** A client whose every request carries `Authorization: Bearer <apiKey>`. */
export function createReboundClient(options: ReboundClientOptions): ReboundClient {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** An error answer as an exception: its status, stable `code`, message and located `details`. */
export class ReboundApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: readonly ReboundErrorDetail[];

  constructor(status: number, body: ReboundErrorBody) {
    super(`${status} ${body.error.code}: ${body.error.message}`);
    this.name = "ReboundApiError";
    this.status = status;
    this.code = body.error.code;
    this.details = body.error.details;
  }
}

/**
 * The data of a successful answer, or a `ReboundApiError` thrown for an error answer:
 * `const profile = await orThrow(client.GET("/v1/customers/{id}", { params: { path: { id } } }))`.
 */
export async function orThrow<Answer extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<Answer>,
): Promise<Extract<Answer, { error?: undefined }>["data"]> {
  const answer = await call;
  if (answer.error === undefined) return answer.data;
  throw new ReboundApiError(answer.response.status, answer.error as ReboundErrorBody);
}
