// Smoke test: the built Worker under a real `wrangler dev`, spoken to over real HTTP. The Workers
// vitest pool would hide runtime code generation (ajv compiling at run time, eval); this would not.
import { describe, expect, it } from "vitest";
import { checkHealth, expectedHealth } from "../../worker/tools/cloudflare-account";
import { useDevServer } from "./dev-server";

const smoke = useDevServer("rebound-smoke-");
const { adminKey, request } = smoke;

const batch = [
  {
    id: "smoke-1",
    type: "subscription.started",
    customer_id: "smoke-customer",
    occurred_at: "2026-01-05T10:00:00Z",
    properties: { plan: "pro", mrr: 4900, currency: "USD" },
  },
  {
    id: "smoke-2",
    type: "payment.succeeded",
    customer_id: "smoke-customer",
    occurred_at: "2026-01-05T10:00:01Z",
    properties: { invoice_id: "in_1", amount: 4900, currency: "USD" },
  },
  {
    id: "smoke-3",
    type: "activity",
    customer_id: "smoke-customer",
    occurred_at: "2026-02-01T08:00:00Z",
    properties: { feature: "reports" },
  },
];

describe("the Worker under wrangler dev", () => {
  it("serves /healthz without a key and refuses the API without one", async () => {
    expect((await request("GET", "/healthz")).status).toBe(200);
    const refused = await request("POST", "/v1/events", undefined, batch);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("unauthorized");
  });

  it("reports on /healthz the ruleset and migration this checkout built, as the deploy check expects", async () => {
    const expected = expectedHealth();
    expect(await checkHealth(smoke.url, expected, { timeoutMs: 0 })).toEqual({
      ok: true,
      ruleset_version: expected.rulesetVersion,
      last_migration: expected.lastMigration,
    });
    const stale = { ...expected, rulesetVersion: "sha256:the-ruleset-before" };
    await expect(checkHealth(smoke.url, stale, { timeoutMs: 0 })).rejects.toThrow(
      `did not report ruleset_version sha256:the-ruleset-before`,
    );
  });

  it("ingests a batch, reads the profile back, and counts a resend as duplicates", async () => {
    const created = await request("POST", "/v1/admin/api-keys", adminKey, {
      name: "smoke",
      scopes: ["events:write", "decisions:read"],
    });
    expect(created.status).toBe(201);
    const key = created.body.api_key.key as string;

    const first = await request("POST", "/v1/events", key, { events: batch });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 3, duplicates: 0 });

    const read = await request("GET", "/v1/customers/smoke-customer", key);
    expect(read.status).toBe(200);
    expect(read.body.customer).toMatchObject({
      status: "active",
      plan: "pro",
      mrr: 4900,
      ltv: 4900,
      currency: "USD",
      signed_up_at: "2026-01-05T10:00:00.000Z",
      last_active_at: "2026-02-01T08:00:00.000Z",
    });

    const again = await request("POST", "/v1/events", key, { events: batch });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3 });
    expect((await request("GET", "/v1/customers/smoke-customer", key)).body).toEqual(read.body);
  });

  it("answers a bad request with 400 and the path of the problem (validators compiled at build time)", async () => {
    const bad = await request("POST", "/v1/events", adminKey, {
      events: [{ ...batch[0], id: "smoke-bad", properties: { plan: "pro", mrr: "49.00", currency: "USD" } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    expect(bad.body.error.details).toEqual([
      { path: "/events/0/properties/mrr", message: expect.any(String) },
    ]);
  });
});
