// Smoke test: the decision API in the built Worker under a real `wrangler dev`, over real HTTP, at
// the real clock (no X-Rebound-Now): the Workers vitest pool would hide runtime code generation on
// this path (validators, compiled rules, message templates); this would not.
import { describe, expect, it } from "vitest";
import { inHoldout } from "../../dsl/runtime/bucket";
import { useDevServer } from "./dev-server";

const DAY = 86_400_000;
const smoke = useDevServer("rebound-smoke-decisions-");

/** Every decision call goes with the admin key (the clock stays real: no X-Rebound-Now). */
function request(method: string, path: string, body?: unknown) {
  return smoke.request(method, path, smoke.adminKey, body);
}

/** A customer id outside the price test's holdout, so the offer is shown. */
function offeredId(): string {
  for (let n = 0; ; n++) {
    const id = `smoke-decider-${n}`;
    if (!inHoldout("offer_price_high_value", id, 10)) return id;
  }
}

describe("decisions under wrangler dev", () => {
  it("offers, repeats the same decision, accepts once, and refuses the ineligible", async () => {
    const id = offeredId();
    const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    const ingest = await request("POST", "/v1/events", {
      events: [
        {
          id: `${id}-1`,
          type: "subscription.started",
          customer_id: id,
          occurred_at: ago(300),
          properties: { plan: "pro", mrr: 4900, currency: "USD" },
        },
        {
          id: `${id}-2`,
          type: "payment.succeeded",
          customer_id: id,
          occurred_at: ago(20),
          properties: { invoice_id: "in_1", amount: 90_000, currency: "USD" },
        },
        {
          id: `${id}-3`,
          type: "subscription.canceled",
          customer_id: id,
          occurred_at: ago(1),
          properties: { reason: "too_expensive" },
        },
      ],
    });
    expect(ingest.status).toBe(200);

    const first = await request("GET", `/v1/customers/${id}/next-offer?context=winback&explain=1`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ reason_code: "offered", reason: "too_expensive" });
    expect(first.body.offer.key).toBe("price_high_value");
    const expiresIn = Date.parse(first.body.offer.expires_at) - Date.parse(first.body.created_at);
    expect(expiresIn).toBe(14 * DAY);
    expect(first.body.trace[0]).toMatchObject({ offer: "price_high_value", outcome: "chosen" });

    const again = await request("POST", "/v1/decisions", { customer_id: id, context: "in_app" });
    expect(again.body).toMatchObject({ decision_id: first.body.decision_id, reused: true });

    const accepted = await request("POST", `/v1/offers/${first.body.decision_id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body.redemption.cost).not.toBeNull();
    const twice = await request("POST", `/v1/offers/${first.body.decision_id}/accept`);
    expect(twice.body.redemption).toEqual(accepted.body.redemption);

    const closing = await request("POST", "/v1/decisions", {
      customer_id: id,
      context: "cancel_flow",
      reason: "shutting_down",
    });
    expect(closing.body).toMatchObject({ offer: null, reason_code: "ineligible" });
    const stranger = await request("POST", "/v1/decisions", {
      customer_id: "smoke-nobody",
      context: "in_app",
    });
    expect(stranger).toMatchObject({ status: 200, body: { offer: null, reason_code: "unknown_customer" } });
  });

  it("checks a stored key inside the decision's read: a reader decides, an unknown key gets 401", async () => {
    const created = await request("POST", "/v1/admin/api-keys", {
      name: "smoke reader",
      scopes: ["decisions:read"],
    });
    expect(created.status).toBe(201);
    const reader: string = created.body.api_key.key;
    const ask = { customer_id: "smoke-reader-nobody", context: "in_app" };
    const decided = await smoke.request("POST", "/v1/decisions", reader, ask);
    expect(decided).toMatchObject({ status: 200, body: { reason_code: "unknown_customer" } });
    const refused = await smoke.request("POST", "/v1/decisions", "rbk_not-a-real-key", ask);
    expect(refused).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
  });
});
