/**
 * The Hono environment every route shares: the Worker's bindings and what middleware adds.
 */
import type { Context } from "hono";
import type { Principal } from "../auth/authenticate";
import type { Scope } from "../auth/keys";
import type { Env } from "../env";

export interface AppEnv {
  Bindings: Env;
  Variables: { principal: Principal };
}

/** One HTTP route: what it answers, who may call it, and the handler. */
export interface RouteDef {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Hono path pattern, e.g. `/v1/customers/:id`. */
  path: string;
  /** The scope a caller's key needs; only `GET /healthz` is `public`. */
  scope: Scope | "public";
  handler: (c: Context<AppEnv>) => Response | Promise<Response>;
}
