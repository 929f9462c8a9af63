// API keys: every route but /healthz needs one; scopes decide what it may do; admins manage keys.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../worker/api/app";
import { storedDecisions } from "./decision-fixtures";
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

  it("refuses every registered route an unknown key, whether it looks the key up itself or in its read", async () => {
    for (const { method, path } of registeredRoutes()) {
      if (path === "/healthz") continue;
      const url = `http://rebound.test${path.replaceAll(/:(\w+)/g, "sample-$1")}`;
      const response = await exports.default.fetch(url, {
        method,
        headers: { "content-type": "application/json", authorization: "Bearer rbk_not-a-real-key" },
        body: method === "GET" || method === "HEAD" ? undefined : "{}",
      });
      expect({ route: `${method} ${path}`, status: response.status }).toEqual({
        route: `${method} ${path}`,
        status: 401,
      });
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

// POST /v1/decisions and GET /v1/customers/:id/next-offer look the key up inside the decision's
// read (one D1 round trip fewer): the outcome for a bad key must be exactly that of every route.
describe("the key lookup folded into the decision read", () => {
  async function knownCustomer(id: string): Promise<void> {
    const writer = await issueKey(["events:write"]);
    const result = await call("/v1/events", {
      key: writer,
      body: event("subscription.started", id, "2026-01-01T00:00:00Z", {
        plan: "pro",
        mrr: 4900,
        currency: "USD",
      }),
    });
    expect(result.status).toBe(200);
  }

  const asks = (id: string) => [
    { path: "/v1/decisions", body: { customer_id: id, context: "in_app" } },
    { path: `/v1/customers/${id}/next-offer?context=in_app`, body: undefined },
  ];

  it("decides for a decisions:read key and counts the key's row in rows_read", async () => {
    await knownCustomer("folded-ok");
    const reader = await issueKey(["decisions:read"]);
    for (const ask of asks("folded-ok")) {
      const result = await call(ask.path, { key: reader, body: ask.body });
      expect(result.status).toBe(200);
      expect(result.body.decision_id).toMatch(/^dec_/);
      expect(result.body.meta.rows_read).toBeGreaterThanOrEqual(2);
    }
  });

  it("refuses an unknown, a revoked and an under-scoped key, and stores no decision", async () => {
    await knownCustomer("folded-refused");
    const admin = await issueKey(["admin"]);
    const created = await call("/v1/admin/api-keys", {
      key: admin,
      body: { name: "to revoke", scopes: ["decisions:read"] },
    });
    await call(`/v1/admin/api-keys/${created.body.api_key.id}`, { key: admin, method: "DELETE" });
    const cases = [
      { key: "rbk_not-a-real-key", status: 401, code: "unauthorized" },
      { key: created.body.api_key.key as string, status: 401, code: "unauthorized" },
      { key: await issueKey(["events:write"]), status: 403, code: "forbidden" },
    ];
    for (const { key, status, code } of cases) {
      for (const ask of asks("folded-refused")) {
        const result = await call(ask.path, { key, body: ask.body });
        expect({ path: ask.path, status: result.status, code: result.body.error?.code }).toEqual({
          path: ask.path,
          status,
          code,
        });
        expect(JSON.stringify(result.body)).not.toContain("decision_id");
      }
    }
    expect(await storedDecisions("folded-refused")).toBe(0);
  });

  it("answers a bad key with 401 even when the body is also bad, and a good key with 400", async () => {
    const bad = await call("/v1/decisions", { key: "rbk_not-a-real-key", body: { context: "nowhere" } });
    expect(bad.status).toBe(401);
    const badQuery = await call("/v1/customers/x/next-offer?context=nowhere", { key: "rbk_not-a-real-key" });
    expect(badQuery.status).toBe(401);
    const reader = await issueKey(["decisions:read"]);
    const invalid = await call("/v1/decisions", { key: reader, body: { context: "nowhere" } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe("validation_failed");
    const underScoped = await call("/v1/decisions", {
      key: await issueKey(["events:write"]),
      rawBody: "{not json",
    });
    expect(underScoped.status).toBe(403);
  });

  it("accepts the bootstrap admin key without a lookup", async () => {
    await knownCustomer("folded-bootstrap");
    const bootstrapKey = "local-admin-key-for-the-folded-test";
    const ask = (key: string) =>
      app.fetch(
        new Request("http://rebound.test/v1/decisions", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ customer_id: "folded-bootstrap", context: "in_app" }),
        }),
        { ...env, REBOUND_ADMIN_KEY: bootstrapKey },
      );
    expect((await ask(bootstrapKey)).status).toBe(200);
    expect((await ask(`${bootstrapKey}x`)).status).toBe(401);
    expect(await storedDecisions("folded-bootstrap")).toBe(1);
  });
});
