/**
 * The HTTP API: a Hono app built from the route table, with authentication per route, 404/405 for
 * requests no route takes (worker/api/unmatched-route.ts) and the one error boundary.
 * worker/index.ts hands every fetch to it.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { authenticate } from "../auth/authenticate";
import { allows, type Scope } from "../auth/keys";
import type { AppEnv, RouteDef } from "./app-env";
import { errorBoundary } from "./error-boundary";
import { ApiError } from "./errors";
import { ROUTES } from "./route-table";
import { unmatchedRoute } from "./unmatched-route";

/** Middleware that admits a request only with a key carrying `scope` (or `admin`). */
function requireScope(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = await authenticate(c.req.header("authorization"), c.env);
    if (!allows(principal.scopes, scope)) {
      throw new ApiError(403, "forbidden", `This API key lacks the "${scope}" scope.`);
    }
    c.set("principal", principal);
    await next();
  });
}

const letThrough = createMiddleware<AppEnv>(async (_c, next) => {
  await next();
});

/** Builds the API from a route table (the production table by default). */
export function createApp(routes: readonly RouteDef[] = ROUTES): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const route of routes) {
    app.on(
      route.method,
      route.path,
      route.scope === "public" ? letThrough : requireScope(route.scope),
      route.handler,
    );
  }
  app.notFound(unmatchedRoute(routes));
  app.onError(errorBoundary);
  return app;
}

export const app = createApp();
