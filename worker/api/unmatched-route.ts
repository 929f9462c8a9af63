/**
 * What the API answers when no route takes a request (Hono `app.notFound`), worked out from the
 * route table so every new route gets it for free: a path the table knows, asked with another
 * method, is 405 `method_not_allowed` with an `Allow` header; any other path is 404 `not_found`.
 *
 * Stage: HTTP, after routing found no handler; errors go through the one error boundary. A caller
 * without a key learns nothing: under a keyed prefix (`/v1`) the key is checked before 404 or 405.
 */
import type { Context } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { authenticate } from "../auth/authenticate";
import type { AppEnv, RouteDef } from "./app-env";
import { ApiError } from "./errors";

/** Hono `notFound` handler for a route table. */
export function unmatchedRoute(routes: readonly RouteDef[]): (c: Context<AppEnv>) => Promise<Response> {
  // Hono's own router, so a path matches here exactly when it would match a registered route.
  const byPath = new TrieRouter<RouteDef>();
  for (const route of routes) byPath.add("ALL", route.path, route);
  const keyedPrefixes = new Set(routes.filter((r) => r.scope !== "public").map((r) => firstSegment(r.path)));

  return async (c) => {
    const matching = byPath.match("ALL", c.req.path)[0].map(([route]) => route);
    const needsKey =
      matching.length > 0
        ? matching.some((route) => route.scope !== "public")
        : keyedPrefixes.has(firstSegment(c.req.path));
    if (needsKey) await authenticate(c.req.header("authorization"), c.env);

    const allowed = allowedMethods(matching);
    const method = c.req.method;
    // A handler that answers "no such thing" on its own route reaches here too: that is a 404.
    if (allowed.length === 0 || allowed.includes(method)) {
      throw new ApiError(404, "not_found", `No route for ${method} ${c.req.path}.`);
    }
    c.header("Allow", allowed.join(", "));
    throw new ApiError(
      405,
      "method_not_allowed",
      `${c.req.path} does not answer ${method}; it answers ${allowed.join(", ")}.`,
    );
  };
}

/** The methods a path answers, in a stable order; HEAD wherever GET is (Hono answers it as GET). */
function allowedMethods(routes: readonly RouteDef[]): string[] {
  const methods = new Set<string>(routes.map((route) => route.method));
  if (methods.has("GET")) methods.add("HEAD");
  return ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].filter((method) => methods.has(method));
}

function firstSegment(path: string): string {
  return path.split("/")[1] ?? "";
}
