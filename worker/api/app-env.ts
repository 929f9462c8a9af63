/**
 * The Hono environment every route shares: the Worker's bindings and what middleware adds.
 */
import type { Context } from "hono";
import type { Ruleset } from "../../dsl";
import type { FoldedKeyCheck, Principal } from "../auth/authenticate";
import type { Scope } from "../auth/keys";
import type { Env } from "../env";
import type { ApiErrorCode } from "../errors";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The ruleset this request is decided and checked with: chosen once, by worker/api/app.ts. */
    ruleset: Ruleset;
    /** Set once the key is accepted: before the handler runs, or when a folded check settles. */
    principal: Principal;
    /** Only on routes with `keyLookup: "folded"`: the check their first read must settle. */
    keyCheck: FoldedKeyCheck;
  };
}

/** A JSON Schema as plain data (draft-07, like worker/api/schemas). */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A path, query or header parameter of a route, as the OpenAPI document describes it. */
export interface RouteDocParameter {
  /** Markdown. */
  readonly description: string;
  readonly schema: JsonSchema;
  /** Path parameters are always required; query parameters and headers are optional unless set. */
  readonly required?: boolean;
  /** A realistic value; test/node/openapi tests check it against `schema`. */
  readonly example?: unknown;
}

/** An error a route answers with on purpose: the status and the stable code of worker/errors.ts. */
export interface RouteDocError {
  readonly status: number;
  readonly code: ApiErrorCode;
  /** When it happens (markdown), e.g. "The customer has no offer in this context." */
  readonly when: string;
}

/**
 * What the OpenAPI document (worker/api/openapi/) says of a route. Plain data, next to the route.
 * Errors every route of a scope shares are added by the document builder and need not be listed:
 * 401 `unauthorized` and 403 `forbidden` on keyed routes, 405 and 500 everywhere, 400
 * `invalid_json` and `body_too_large` and 415 on routes with a JSON body.
 */
export interface RouteDoc {
  /** One line, imperative ("Record a batch of events"). */
  readonly summary: string;
  /** Markdown: what it does, what it changes, what a caller should know. */
  readonly description: string;
  /** The group on the reference page, e.g. "Events", "Decisions", "Metrics", "Admin". */
  readonly tag: string;
  /** One entry per `:name` in the path. */
  readonly pathParams?: Readonly<Record<string, RouteDocParameter>>;
  readonly query?: Readonly<Record<string, RouteDocParameter>>;
  /** Request headers besides `Authorization` (e.g. `X-Rebound-Now`). */
  readonly headers?: Readonly<Record<string, RouteDocParameter>>;
  readonly requestBody?: {
    /**
     * A JSON Schema, or `{ $ref: "<$id>" }` of a schema in worker/api/schemas, so that the document
     * shows the very schema the request validator is compiled from.
     */
    readonly schema: JsonSchema;
    readonly example: unknown;
    readonly description?: string;
    /** Default `application/json`. */
    readonly contentType?: string;
  };
  readonly response: {
    readonly status: number;
    readonly description: string;
    /** Default `application/json`; `text/csv`, `text/html` for pages and exports. */
    readonly contentType?: string;
    /** Every field the handler answers with; never `additionalProperties: false` (adding a field is not breaking). */
    readonly schema: JsonSchema;
    readonly example: unknown;
    readonly headers?: Readonly<Record<string, RouteDocParameter>>;
    /** Other representations of the same answer, e.g. CSV with `?format=csv` (schema: a string). */
    readonly alternatives?: readonly { readonly contentType: string; readonly description: string }[];
  };
  /** The route's own errors (see above for the ones added to every route). */
  readonly errors: readonly RouteDocError[];
  /**
   * For routes of scope `provider`: the names of the security schemes (worker/api/openapi/) that
   * authenticate the caller in place of an API key, e.g. `["stripeSignature"]`.
   */
  readonly security?: readonly string[];
}

/** One HTTP route: what it answers, who may call it, and the handler. */
export interface RouteDef {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Hono path pattern, e.g. `/v1/customers/:id`. */
  path: string;
  /**
   * The scope a caller's key needs. `public`: no authentication (`GET /healthz`, the dashboard's
   * page). `provider`: no API key; the handler authenticates the caller with the billing provider's
   * own signature or credentials over the raw body before reading it (worker/providers/verify.ts).
   */
  scope: Scope | "public" | "provider";
  /**
   * `own-statement` (the default): the key is looked up before the handler runs. `folded`: the
   * handler passes `c.get("keyCheck")` to its first D1 read, which looks the key up in the same
   * statement and settles the check before anything is evaluated, written or answered (one round
   * trip fewer; worker/auth/authenticate.ts). For hot routes whose first step is a read.
   */
  keyLookup?: "own-statement" | "folded";
  /**
   * For a GET whose handler writes (GET next-offer stores the decision it makes). Hono answers HEAD
   * by running the GET handler, and clients send HEAD expecting nothing to change (link prefetchers,
   * monitors): on such a route HEAD is refused with 405 and `Allow` lists GET without HEAD
   * (worker/api/unmatched-route.ts). Side-effect-free GET routes answer HEAD as usual.
   */
  sideEffects?: boolean;
  handler: (c: Context<AppEnv>) => Response | Promise<Response>;
  /** Its entry in the OpenAPI document (worker/api/openapi/, served at `GET /openapi.json`). */
  doc?: RouteDoc;
}
