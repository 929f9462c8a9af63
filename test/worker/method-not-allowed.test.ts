// A known path asked with the wrong method: 405 with an Allow header and the usual JSON error, for
// every route in the table, but only after the key is checked (a caller without one gets 401).
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../worker/api/app";
import { ROUTES } from "../../worker/api/route-table";
import { issueKey } from "./helpers";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

let adminKey = "";
beforeAll(async () => {
  adminKey = await issueKey(["admin"]);
});

async function send(method: string, path: string, key?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  return exports.default.fetch(`http://rebound.test${path}`, {
    method,
    headers,
    body: method === "GET" || method === "HEAD" ? undefined : "{}",
  });
}

/** Each registered path pattern with the methods the app registered on it. */
function registeredPaths(): Map<string, Set<string>> {
  const paths = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const methods = paths.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    paths.set(route.path, methods);
  }
  return paths;
}

function samplePath(pattern: string): string {
  return pattern.replaceAll(/:(\w+)/g, "sample-$1");
}

describe("a wrong method on a known path", () => {
  it("DELETE /v1/events is 405 with Allow: POST and a method_not_allowed error", async () => {
    const response = await send("DELETE", "/v1/events", adminKey);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({
      error: {
        code: "method_not_allowed",
        message: expect.stringContaining("DELETE"),
        details: [],
      },
    });
  });

  it("GET /v1/decisions is 405 with Allow: POST, not 404", async () => {
    const response = await send("GET", "/v1/decisions", adminKey);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
  });

  it("answers every method a path of the route table lacks with 405 and exactly the methods it has", async () => {
    const paths = registeredPaths();
    expect(paths.size).toBeGreaterThanOrEqual(10);
    for (const [pattern, methods] of paths) {
      const allow: string[] = METHODS.filter((m) => methods.has(m));
      // HEAD runs the GET handler, so a GET that writes (sideEffects) does not offer it.
      const quietGet = ROUTES.some((r) => r.path === pattern && r.method === "GET" && !r.sideEffects);
      if (quietGet) allow.splice(1, 0, "HEAD");
      for (const method of METHODS.filter((m) => !methods.has(m))) {
        const response = await send(method, samplePath(pattern), adminKey);
        const body = (await response.json()) as { error: { code: string } };
        expect({
          request: `${method} ${pattern}`,
          status: response.status,
          allow: response.headers.get("allow"),
          code: body.error.code,
        }).toEqual({
          request: `${method} ${pattern}`,
          status: 405,
          allow: allow.join(", "),
          code: "method_not_allowed",
        });
      }
    }
  });

  it("checks the key first: without one every wrong method under /v1 is 401 and reveals no Allow", async () => {
    for (const [pattern, methods] of registeredPaths()) {
      // The public paths (the health check, the dashboard's page and assets) are not under /v1.
      if (!pattern.startsWith("/v1/")) continue;
      // A billing provider's webhook takes no key (its signature is checked in the handler), so
      // its methods are no secret: the next test covers it.
      if (ROUTES.every((r) => r.path !== pattern || r.scope === "provider")) continue;
      for (const method of METHODS.filter((m) => !methods.has(m))) {
        const response = await send(method, samplePath(pattern));
        expect({ request: `${method} ${pattern}`, status: response.status }).toEqual({
          request: `${method} ${pattern}`,
          status: 401,
        });
        expect(response.headers.get("allow")).toBeNull();
        expect(response.headers.get("www-authenticate")).toContain("Bearer");
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
    }
    const unknownKey = await send("DELETE", "/v1/events", "rbk_not-a-real-key");
    expect(unknownKey.status).toBe(401);
    expect(unknownKey.headers.get("allow")).toBeNull();
  });

  it("answers a wrong method on a provider's webhook with 405 and Allow: POST, without a key", async () => {
    const webhooks = ROUTES.filter((r) => r.scope === "provider");
    expect(webhooks.map((r) => r.path).sort()).toEqual([
      "/v1/webhooks/chargebee",
      "/v1/webhooks/paddle",
      "/v1/webhooks/stripe",
    ]);
    for (const route of webhooks) {
      const response = await send("GET", route.path);
      expect({ path: route.path, status: response.status, allow: response.headers.get("allow") }).toEqual({
        path: route.path,
        status: 405,
        allow: "POST",
      });
    }
  });

  it("is 405 for any valid key, whatever its scopes, since the methods of a path are public", async () => {
    const writer = await issueKey(["events:write"]);
    const response = await send("GET", "/v1/decisions", writer);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });

  it("answers POST /healthz with 405 without a key, as the path itself is public", async () => {
    const response = await send("POST", "/healthz");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers POST /dashboard with 405 without a key, as the dashboard's page is public", async () => {
    const response = await send("POST", "/dashboard");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers HEAD on a POST-only path with 405 and the Allow header, and HEAD on a GET path normally", async () => {
    const head = await send("HEAD", "/v1/events", adminKey);
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("POST");
    expect((await send("HEAD", "/healthz")).status).toBe(200);
  });
});

describe("an unknown path", () => {
  it("under /v1 is 401 without a key, so a caller without one cannot map the API, and 404 with one", async () => {
    const anonymous = await send("GET", "/v1/nothing-here");
    expect(anonymous.status).toBe(401);
    const known = await send("GET", "/v1/nothing-here", adminKey);
    expect(known.status).toBe(404);
    expect(known.headers.get("allow")).toBeNull();
    expect(((await known.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("outside the API is 404 without a key", async () => {
    const response = await send("GET", "/nothing-here");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});
