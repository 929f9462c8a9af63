// API keys: every route but /healthz needs one; scopes decide what it may do; admins manage keys.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../worker/api/app";
import { call, event, issueKey } from "./helpers";

/** Every (method, path) the app actually registered, whatever table or module it came from. */
function registeredRoutes(): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    seen.set(`${route.method} ${route.path}`, { method: route.method, path: route.path });
  }
  return [...seen.values()];
}

describe("authentication", () => {
  it("refuses every registered route without a key, except GET /healthz", async () => {
    const routes = registeredRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(5);
    for (const { method, path } of routes) {
      const url = `http://rebound.test${path.replaceAll(/:(\w+)/g, "sample-$1")}`;
      const response = await exports.default.fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "GET" || method === "HEAD" ? undefined : "{}",
      });
      const expected = method === "GET" && path === "/healthz" ? 200 : 401;
      expect({ route: `${method} ${path}`, status: response.status }).toEqual({
        route: `${method} ${path}`,
        status: expected,
      });
      if (expected === 401) {
        expect(response.headers.get("www-authenticate")).toContain("Bearer");
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
    }
  });

  it("refuses an unknown key and a malformed header with 401", async () => {
    expect((await call("/v1/customers/c1", { key: "rbk_not-a-real-key" })).status).toBe(401);
    const malformed = await call("/v1/customers/c1", { headers: { authorization: "Basic abc" } });
    expect(malformed.status).toBe(401);
    expect(malformed.body.error.code).toBe("unauthorized");
  });

  it("refuses a key without the route's scope with 403", async () => {
    const reader = await issueKey(["decisions:read"]);
    const result = await call("/v1/events", {
      key: reader,
      body: event("activity", "c1", "2026-03-01T00:00:00Z"),
    });
    expect(result.status).toBe(403);
    expect(result.body.error.code).toBe("forbidden");
    const writer = await issueKey(["events:write"]);
    expect((await call("/v1/admin/api-keys", { key: writer })).status).toBe(403);
  });

  it("lets an admin key do everything", async () => {
    const admin = await issueKey(["admin"]);
    const result = await call("/v1/events", {
      key: admin,
      body: event("activity", "c-admin", "2026-03-01T00:00:00Z"),
    });
    expect(result.status).toBe(200);
    expect((await call("/v1/customers/c-admin", { key: admin })).status).toBe(200);
  });

  it("accepts the bootstrap admin key from the environment", async () => {
    const bootstrapKey = "local-admin-key-for-this-test";
    const request = (key: string) =>
      app.fetch(
        new Request("http://rebound.test/v1/admin/api-keys", { headers: { authorization: `Bearer ${key}` } }),
        { ...env, REBOUND_ADMIN_KEY: bootstrapKey },
      );
    expect((await request(bootstrapKey)).status).toBe(200);
    expect((await request(`${bootstrapKey}x`)).status).toBe(401);
  });
});

describe("key management", () => {
  it("creates a key shown once, lists it without the secret, and revokes it", async () => {
    const admin = await issueKey(["admin"]);
    const created = await call("/v1/admin/api-keys", {
      key: admin,
      body: { name: "billing webhook", scopes: ["events:write"] },
    });
    expect(created.status).toBe(201);
    const { key, id, prefix } = created.body.api_key;
    expect(key).toMatch(/^rbk_[\w-]{40,}$/);
    expect(key.startsWith(prefix)).toBe(true);

    const stored = await env.DB.prepare("SELECT key_hash FROM api_keys WHERE id = ?")
      .bind(id)
      .first<{ key_hash: string }>();
    expect(stored?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await env.DB.prepare("SELECT * FROM api_keys").all())).not.toContain(key);

    const accepted = await call("/v1/events", {
      key,
      body: event("activity", "c-new-key", "2026-03-01T00:00:00Z"),
    });
    expect(accepted.status).toBe(200);

    const listed = await call("/v1/admin/api-keys", { key: admin });
    const entry = listed.body.api_keys.find((k: { id: string }) => k.id === id);
    expect(entry).toEqual({
      id,
      name: "billing webhook",
      prefix,
      scopes: ["events:write"],
      created_at: expect.any(String),
      revoked_at: null,
    });
    expect(JSON.stringify(listed.body)).not.toContain(key);

    const revoked = await call(`/v1/admin/api-keys/${id}`, { key: admin, method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect(revoked.body.api_key.revoked_at).toEqual(expect.any(String));
    const again = await call(`/v1/admin/api-keys/${id}`, { key: admin, method: "DELETE" });
    expect(again.body.api_key.revoked_at).toBe(revoked.body.api_key.revoked_at);

    const refused = await call("/v1/events", {
      key,
      body: event("activity", "c-new-key", "2026-03-02T00:00:00Z"),
    });
    expect(refused.status).toBe(401);
  });

  it("rejects a key request with unknown scopes or no name", async () => {
    const admin = await issueKey(["admin"]);
    const result = await call("/v1/admin/api-keys", { key: admin, body: { scopes: ["everything"] } });
    expect(result.status).toBe(400);
    expect(result.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      "/name",
      "/scopes/0",
    ]);
  });

  it("answers 404 when revoking a key that does not exist", async () => {
    const admin = await issueKey(["admin"]);
    const result = await call("/v1/admin/api-keys/key_missing", { key: admin, method: "DELETE" });
    expect(result.status).toBe(404);
    expect(result.body.error.code).toBe("api_key_not_found");
  });
});
