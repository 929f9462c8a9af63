// API keys: every route but /healthz and the dashboard's page needs one; scopes decide what it may
// do; admins manage keys; the dashboard's session cookie reads the metrics and nothing else.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../worker/api/app";
import { presentedCredential } from "../../worker/auth/authenticate";
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

/**
 * The routes a request without a key may reach, and what they answer one. The dashboard's page, its
 * script and style, and its sign-in are public because a browser arrives without a key and the
 * sign-in is how it presents one; none of them answers a figure (the "dashboard" tests below check
 * the page holds no data). A keyless sign-in is refused like any keyless request.
 */
const PUBLIC_ROUTES: Readonly<Record<string, number>> = {
  "GET /healthz": 200,
  "GET /dashboard": 200,
  "GET /dashboard/app.js": 200,
  "GET /dashboard/app.css": 200,
  "POST /dashboard/session/end": 303,
  // The API's description and its reference page: documentation of a public API, no data.
  "GET /openapi.json": 200,
  "GET /reference": 200,
};

/**
 * Billing-provider webhooks (worker/api/routes/provider-webhooks.ts) take no key: the provider's own
 * signature or Basic credentials, checked below, stand in for it.
 */
const PROVIDER_ROUTES: readonly string[] = [
  "POST /v1/webhooks/stripe",
  "POST /v1/webhooks/paddle",
  "POST /v1/webhooks/chargebee",
];

describe("authentication", () => {
  it("refuses an unsigned or unauthenticated request on every provider webhook route with 401", async () => {
    const providerRoutes = registeredRoutes().filter(({ method, path }) =>
      `${method} ${path}`.includes("/v1/webhooks/"),
    );
    expect(providerRoutes.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(
      [...PROVIDER_ROUTES].sort(),
    );
    const secrets = {
      STRIPE_WEBHOOK_SECRET: "whsec_auth_test",
      PADDLE_WEBHOOK_SECRET: "pdl_auth_test",
      CHARGEBEE_WEBHOOK_USERNAME: "user",
      CHARGEBEE_WEBHOOK_PASSWORD: "pass",
    };
    for (const { method, path } of providerRoutes) {
      for (const headers of [{}, { authorization: "Bearer rbk_not-a-real-key" }] as Record<
        string,
        string
      >[]) {
        const response = await app.fetch(
          new Request(`http://rebound.test${path}`, {
            method,
            headers: { "content-type": "application/json", ...headers },
            body: "{}",
          }),
          { ...env, ...secrets },
        );
        expect({ route: `${method} ${path}`, status: response.status }).toEqual({
          route: `${method} ${path}`,
          status: 401,
        });
        const { error } = (await response.json()) as { error: { code: string } };
        expect(error.code).toMatch(/^webhook_signature_(missing|invalid)$/);
      }
    }
  });

  it("refuses every registered route without a key, except GET /healthz and the dashboard's page", async () => {
    const routes = registeredRoutes().filter(
      ({ method, path }) => !PROVIDER_ROUTES.includes(`${method} ${path}`),
    );
    expect(routes.length).toBeGreaterThanOrEqual(5);
    for (const { method, path } of routes) {
      const url = `http://rebound.test${path.replaceAll(/:(\w+)/g, "sample-$1")}`;
      const response = await exports.default.fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "GET" || method === "HEAD" ? undefined : "{}",
        redirect: "manual",
      });
      const expected = PUBLIC_ROUTES[`${method} ${path}`] ?? 401;
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
      if (`${method} ${path}` in PUBLIC_ROUTES || PROVIDER_ROUTES.includes(`${method} ${path}`)) continue;
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

// The dashboard (worker/api/routes/dashboard.ts): a public page that holds no figure, a sign-in that
// keeps the key in an HttpOnly cookie, and that cookie accepted for reading the metrics only.
describe("the dashboard's page and session", () => {
  const page = (path: string, init: RequestInit = {}) =>
    exports.default.fetch(`http://rebound.test${path}`, init);
  const signIn = (key: string, headers: Record<string, string> = {}) =>
    page("/dashboard/session", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ key }).toString(),
    });

  it("serves a shell that holds no data, under a CSP without inline script, never cached", async () => {
    const writer = await issueKey(["events:write"]);
    await call("/v1/events", {
      key: writer,
      body: event("subscription.started", "shell-secret-customer", "2026-03-01T00:00:00Z", {
        plan: "shell-secret-plan",
        mrr: 987_654,
        currency: "USD",
      }),
    });
    const reader = await issueKey(["metrics:read"]);
    for (const cookie of [undefined, `rebound_session=${reader}`]) {
      const response = await page("/dashboard", { headers: cookie ? { cookie } : {} });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      const html = await response.text();
      expect(html).toContain(`data-session="${cookie ? "signed-in" : "signed-out"}"`);
      expect(html).toContain('<form method="post" action="/dashboard/session">');
      expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
      expect(html).not.toContain("data-metric");
      for (const secret of ["shell-secret", "987654", "9,876.54", reader]) expect(html).not.toContain(secret);
    }
  });

  it("serves its script and style with an ETag, for good under the versioned URL the shell links", async () => {
    const html = await (await page("/dashboard")).text();
    for (const [path, type] of [
      ["/dashboard/app.js", "text/javascript; charset=utf-8"],
      ["/dashboard/app.css", "text/css; charset=utf-8"],
    ] as const) {
      const linked = new RegExp(`${path.replace(".", "\\.")}\\?v=[0-9a-f]+`).exec(html)?.[0];
      expect(linked).toBeDefined();
      const cached = await page(linked!);
      expect(cached.status).toBe(200);
      expect(cached.headers.get("content-type")).toBe(type);
      expect(cached.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(cached.headers.get("x-content-type-options")).toBe("nosniff");
      expect((await cached.text()).length).toBeGreaterThan(1000);
      const etag = cached.headers.get("etag")!;
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      const unversioned = await page(path);
      expect(unversioned.headers.get("cache-control")).toBe("no-cache");
      const again = await page(path, { headers: { "if-none-match": etag } });
      expect(again.status).toBe(304);
    }
  });

  it("signs in a metrics:read or admin key into an HttpOnly, Secure, SameSite=Strict cookie that lasts eight hours", async () => {
    for (const key of [await issueKey(["metrics:read"]), await issueKey(["admin"])]) {
      const response = await signIn(key, { origin: "http://rebound.test" });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/dashboard");
      expect(response.headers.get("set-cookie")).toBe(
        `rebound_session=${key}; Max-Age=28800; HttpOnly; Secure; SameSite=Strict; Path=/`,
      );
    }
    const json = await page("/dashboard/session", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: await issueKey(["metrics:read"]) }),
    });
    expect(json.status).toBe(303);
    expect(json.headers.get("set-cookie")).toMatch(/^rebound_session=rbk_/);
  });

  it("shows the form again with the reason for a wrong key, a key without the scope, or another site's post", async () => {
    const cases: { key: string; headers: Record<string, string>; status: number; says: string }[] = [
      { key: "rbk_not-a-real-key", headers: {}, status: 401, says: "unknown or revoked" },
      { key: "", headers: {}, status: 401, says: "Enter an API key" },
      { key: await issueKey(["events:write"]), headers: {}, status: 403, says: "metrics:read" },
      {
        key: await issueKey(["metrics:read"]),
        headers: { origin: "https://elsewhere.example" },
        status: 403,
        says: "Sign in from this page",
      },
    ];
    for (const { key, headers, status, says } of cases) {
      const response = await signIn(key, headers);
      expect({ key, status: response.status }).toEqual({ key, status });
      expect(response.headers.get("set-cookie")).toBeNull();
      const html = await response.text();
      expect(html).toContain('data-session="signed-out"');
      expect(html).toContain(says);
      if (key) expect(html).not.toContain(key);
    }
  });

  it("signs out by clearing the cookie", async () => {
    const response = await page("/dashboard/session/end", { method: "POST", redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/dashboard");
    expect(response.headers.get("set-cookie")).toBe(
      "rebound_session=; Max-Age=0; HttpOnly; Secure; SameSite=Strict; Path=/",
    );
  });

  it("lets the cookie stand in for the key on GET /v1/metrics/... only", async () => {
    const at = (method: string, path: string, headers: Record<string, string>) =>
      presentedCredential(new Request(`http://rebound.test${path}`, { method, headers }));
    const cookie = { cookie: "theme=dark; rebound_session=rbk_abc" };
    expect(at("GET", "/v1/metrics/retention?interval=month", cookie)).toBe("Bearer rbk_abc");
    expect(at("GET", "/v1/metrics/winback/customers", cookie)).toBe("Bearer rbk_abc");
    expect(at("POST", "/v1/metrics/retention", cookie)).toBeUndefined();
    expect(at("GET", "/v1/customers/c1", cookie)).toBeUndefined();
    expect(at("GET", "/v1/metricsx", cookie)).toBeUndefined();
    expect(at("GET", "/v1/metrics/retention", { ...cookie, authorization: "Bearer rbk_header" })).toBe(
      "Bearer rbk_header",
    );

    const reader = await issueKey(["metrics:read"]);
    const withCookie = (path: string, key: string) =>
      page(path, { headers: { cookie: `rebound_session=${key}` } });
    expect((await withCookie("/v1/metrics/retention", reader)).status).toBe(200);
    expect((await withCookie("/v1/metrics/retention", "rbk_not-a-real-key")).status).toBe(401);
    expect((await withCookie("/v1/metrics/retention", await issueKey(["events:write"]))).status).toBe(403);
    const admin = await issueKey(["admin"]);
    expect((await withCookie("/v1/customers/shell-secret-customer", admin)).status).toBe(401);
  });
});
