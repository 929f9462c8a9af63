/**
 * The Hono environment every route shares: the Worker's bindings and what middleware adds.
 */
import type { Context } from "hono";
import type { Ruleset } from "../../dsl";
import type { FoldedKeyCheck, Principal } from "../auth/authenticate";
import type { Scope } from "../auth/keys";
import type { Env } from "../env";

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

/** One HTTP route: what it answers, who may call it, and the handler. */
export interface RouteDef {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Hono path pattern, e.g. `/v1/customers/:id`. */
  path: string;
  /** The scope a caller's key needs; only `GET /healthz` is `public`. */
  scope: Scope | "public";
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
}
