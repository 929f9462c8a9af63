/**
 * What the API answers when no route takes a request (Hono `app.notFound`), worked out from the
 * route table so every new route gets it for free: a path the table knows, asked with another
 * method, is 405 `method_not_allowed` with an `Allow` header; any other path is 404 `not_found`.
 *
 * HEAD is answered wherever a GET is (Hono runs the GET handler and drops the body), except on a GET
 * route with `sideEffects`: there a HEAD would write, so `refuseHead` answers it with 405 and `Allow`
 * leaves HEAD out.
 *
 * Stage: HTTP, after routing found no handler (for `refuseHead`: after a GET route's key check);
 * errors go through the one error boundary. A caller without a key learns nothing: under a keyed
 * prefix (`/v1`) the key is checked before 404 or 405.
 */
import type { Context, MiddlewareHandler } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { authenticate, type FoldedKeyCheck } from "../auth/authenticate";
import { ApiError } from "../errors";
import type { AppEnv, RouteDef } from "./app-env";

/** Hono `notFound` handler for a route table. */
export function unmatchedRoute(routes: readonly RouteDef[]): (c: Context<AppEnv>) => Promise<Response> {
  const routesAt = routeMatcher(routes);
  const keyedPrefixes = new Set(routes.filter((r) => r.scope !== "public").map((r) => firstSegment(r.path)));

  return async (c) => {
    const matching = routesAt(c.req.path);
    const needsKey =
      matching.length > 0
        ? matching.some((route) => route.scope !== "public" && route.scope !== "provider")
        : keyedPrefixes.has(firstSegment(c.req.path));
    if (needsKey) await authenticate(c.req.header("authorization"), c.env);

    const allowed = allowedMethods(matching);
    const method = c.req.method;
    // A handler that answers "no such thing" on its own route reaches here too: that is a 404.
    if (allowed.length === 0 || allowed.includes(method)) {
      throw new ApiError(404, "not_found", `No route for ${method} ${c.req.path}.`);
    }
    throw methodNotAllowed(c, allowed);
  };
}

/**
 * Middleware for a GET route with `sideEffects`, placed after its key check: a HEAD request is 405
 * before the handler runs (Hono would otherwise run the GET handler for it); a GET passes through.
 */
export function refuseHead(routes: readonly RouteDef[]): MiddlewareHandler<AppEnv> {
  const routesAt = routeMatcher(routes);
  return async (c, next) => {
    if (c.req.method !== "HEAD") return await next();
    // A folded key check settles in the handler's first read, which a refused HEAD never makes:
    // settle it here, so a bad key is 401/403 before 405, as for every other wrong method.
    const keyCheck: FoldedKeyCheck | undefined = c.get("keyCheck");
    if (keyCheck && !keyCheck.settled) await keyCheck.settleAlone(c.env.DB);
    throw methodNotAllowed(c, allowedMethods(routesAt(c.req.path)));
  };
}

/** The routes of the table whose pattern matches a path. */
function routeMatcher(routes: readonly RouteDef[]): (path: string) => RouteDef[] {
  // Hono's own router, so a path matches here exactly when it would match a registered route.
  const byPath = new TrieRouter<RouteDef>();
  for (const route of routes) byPath.add("ALL", route.path, route);
  return (path) => byPath.match("ALL", path)[0].map(([route]) => route);
}

function methodNotAllowed(c: Context<AppEnv>, allowed: readonly string[]): ApiError {
  c.header("Allow", allowed.join(", "));
  return new ApiError(
    405,
    "method_not_allowed",
    `${c.req.path} does not answer ${c.req.method}; it answers ${allowed.join(", ")}.`,
  );
}

/**
 * The methods a path answers, in a stable order: HEAD wherever a GET route without side effects is
 * (Hono answers it as GET), never for a GET with side effects alone.
 */
function allowedMethods(routes: readonly RouteDef[]): string[] {
  const methods = new Set<string>(routes.map((route) => route.method));
  if (routes.some((route) => route.method === "GET" && !route.sideEffects)) methods.add("HEAD");
  return ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].filter((method) => methods.has(method));
}

function firstSegment(path: string): string {
  return path.split("/")[1] ?? "";
}
