/**
 * The HTTP API: a Hono app built from the route table, with authentication per route, 404/405 for
 * requests no route takes and for HEAD on GET routes with side effects (worker/api/unmatched-route.ts)
 * and the one error boundary. The fetch entry point: worker/index.ts hands every fetch to it, and it
 * chooses the ruleset once per request (`c.get("ruleset")`, worker/deployed-ruleset.ts unless the
 * app was built with another), as the routes choose "now" (worker/api/routes/request-now.ts).
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { Ruleset } from "../../dsl";
import {
  authenticate,
  FoldedKeyCheck,
  presentedCredential,
  presentedKey,
  requireScope,
} from "../auth/authenticate";
import type { Scope } from "../auth/keys";
import { controlDatabase } from "../db/shards";
import { deployedRuleset } from "../deployed-ruleset";
import type { AppEnv, RouteDef } from "./app-env";
import { errorBoundary } from "./error-boundary";
import { ROUTES } from "./route-table";
import { NOW_HEADER } from "./routes/request-now";
import { refuseHead, unmatchedRoute } from "./unmatched-route";

/** Middleware that admits a request only with a key carrying `scope` (or `admin`). */
function withKey(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    // The header, or the dashboard's session cookie on GET /v1/metrics/... (worker/auth/authenticate.ts).
    const principal = await authenticate(presentedCredential(c.req.raw), c.env);
    requireScope(principal, scope);
    c.set("principal", principal);
    await next();
  });
}

/**
 * Middleware for a route that folds the key lookup into its first read. A missing or malformed
 * header is refused here; the lookup itself is the handler's (worker/auth/authenticate.ts), on the
 * customer's shard. A check settled here looks on the control database: every shard holds a copy of
 * every key (worker/auth/key-copies.ts), so the answer is the same.
 */
function withFoldedKey(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const presented = await presentedKey(c.req.header("authorization"), c.env);
    const check = new FoldedKeyCheck(presented, scope, (principal) => c.set("principal", principal));
    // Moving the clock is for admin keys only, and "now" is bound into the first read: know who
    // is asking first. Only tests and demos send the header, so the extra lookup costs nobody.
    if (c.req.header(NOW_HEADER) !== undefined) await check.settleAlone(controlDatabase(c.env));
    // A body without a Content-Length (chunked) can only be sized by reading it, and a refused one
    // is read on to its end (worker/api/json-body.ts): an unknown key must not make the Worker read
    // megabytes, so such a request is authenticated first, as on every other route. Apps send JSON
    // with a Content-Length, so the extra lookup costs them nothing.
    if (c.req.raw.body !== null && c.req.header("content-length") === undefined) {
      await check.settleAlone(controlDatabase(c.env));
    }
    c.set("keyCheck", check);
    await next();
    // A handler that answered before its first read (a 400 for its body, say) left the check
    // open: settle it now, so a bad key gets 401/403 in place of that answer, as on every route.
    if (!check.settled) await check.settleAlone(controlDatabase(c.env));
  });
}

const letThrough = createMiddleware<AppEnv>(async (_c, next) => {
  await next();
});

/** What `createApp` may be given besides the route table. */
export interface AppOptions {
  /** Picks the ruleset of a request (default: the deployed one). */
  readonly ruleset?: () => Ruleset;
}

/** Builds the API from a route table (the production table by default). */
export function createApp(routes: readonly RouteDef[] = ROUTES, options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const chooseRuleset = options.ruleset ?? deployedRuleset;
  app.use(async (c, next) => {
    c.set("ruleset", chooseRuleset());
    await next();
  });
  const headRefused = refuseHead(routes);
  for (const route of routes) {
    app.on(
      route.method,
      route.path,
      // A provider webhook carries the provider's signature, never a key (worker/providers/verify.ts).
      route.scope === "public" || route.scope === "provider"
        ? letThrough
        : route.keyLookup === "folded"
          ? withFoldedKey(route.scope)
          : withKey(route.scope),
      route.method === "GET" && route.sideEffects ? headRefused : letThrough,
      route.handler,
    );
  }
  app.notFound(unmatchedRoute(routes));
  app.onError(errorBoundary);
  return app;
}

export const app = createApp();
