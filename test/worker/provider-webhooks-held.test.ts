// A provider delivery Rebound cannot store yet (a price that maps to no plan, a reason that maps to
// none, events ingest refuses) is held with its raw body, not lost: once the rules map it, a replay
// ingests it as the delivery would have been, idempotently; the customer's export shows held
// deliveries and erasure deletes them.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { createApp } from "../../worker/api/app";
import { ROUTES } from "../../worker/api/route-table";
import { ruleset as deployed } from "../../worker/generated/ruleset";
import { call, issueKey } from "./helpers";
import {
  copy,
  deliverPaddle,
  deliverStripe,
  fixtures,
  SECRETS,
  stripeEvent,
  stripeHeader,
  stripeSubscription,
} from "./provider-webhooks-fixtures";

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

/** The deployed rules, with `billing.plans` mapping `price_team_monthly` to `pro`. */
const mappingRules = loadRuleset({
  ...deployed,
  billing: { ...deployed.billing, plans: { ...deployed.billing.plans, price_team_monthly: "pro" } },
});
const appWithMapping = createApp(ROUTES, { ruleset: () => mappingRules });

/** Calls the app running `mappingRules`. */
async function callMapped(path: string, key: string, body?: unknown) {
  const response = await appWithMapping.fetch(
    new Request(`http://rebound.test${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
    env,
  );
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
  return { status: response.status, body: (await response.json()) as any };
}

function teamSubscription(eventId: string, customer: string) {
  return stripeEvent(
    eventId,
    "customer.subscription.created",
    T0,
    stripeSubscription(customer, [{ price: "price_team_monthly", amount: 9900, quantity: 3 }]),
  );
}

async function heldOf(admin: string, query = "") {
  const listed = await call(`/v1/admin/provider-events/held${query}`, { key: admin });
  expect(listed.status).toBe(200);
  return listed.body;
}

describe("a delivery whose price maps to no plan", () => {
  it("is held once however often it is delivered, and stores nothing", async () => {
    const admin = await issueKey(["admin"]);
    const event = teamSubscription("evt_held_team", "cus_held_team");
    const first = await deliverStripe(event);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: "unmapped_plan", events: 0, held: true });
    expect(first.body.details[0].message).toContain("price_team_monthly");
    const again = await deliverStripe(event);
    expect(again.body).toMatchObject({ outcome: "unmapped_plan", held: true });

    const counts = await call("/v1/admin/provider-events?provider=stripe", { key: admin });
    expect(counts.body.held).toBe(1);
    const listed = await heldOf(admin);
    expect(listed.total).toBe(1);
    expect(listed.held).toEqual([
      expect.objectContaining({
        provider: "stripe",
        provider_event_id: "evt_held_team",
        event_type: "customer.subscription.created",
        customer_id: "cus_held_team",
        outcome: "unmapped_plan",
        attempts: 2,
      }),
    ]);
    expect(listed.held[0].payload).toBeUndefined();
    const reader = await issueKey(["decisions:read"]);
    expect((await call("/v1/customers/cus_held_team", { key: reader })).status).toBe(404);
  });

  it("is ingested by a replay once the rules map the price, and a second replay changes nothing", async () => {
    const admin = await issueKey(["admin"]);
    // Under the deployed rules the price still maps to nothing: it stays held.
    const unchanged = await call("/v1/admin/provider-events/replay", { key: admin, body: {} });
    expect(unchanged.status).toBe(200);
    expect(unchanged.body).toEqual({
      replayed: 1,
      outcomes: { unmapped_plan: 1 },
      released: 0,
      still_held: 1,
      next_cursor: null,
      remaining: 0,
      held: 1,
    });
    expect((await heldOf(admin)).held[0].attempts).toBe(3);

    const replayed = await callMapped("/v1/admin/provider-events/replay", admin, { provider: "stripe" });
    expect(replayed.body).toEqual({
      replayed: 1,
      outcomes: { ingested: 1 },
      released: 1,
      still_held: 0,
      next_cursor: null,
      remaining: 0,
      held: 0,
    });
    const reader = await issueKey(["decisions:read"]);
    const customer = (await call("/v1/customers/cus_held_team", { key: reader })).body.customer;
    expect([customer.plan, customer.mrr, customer.currency, customer.status]).toEqual([
      "pro",
      3 * 9900,
      "USD",
      "active",
    ]);

    const second = await callMapped("/v1/admin/provider-events/replay", admin, {});
    expect(second.body).toMatchObject({ replayed: 0, outcomes: {}, held: 0 });
    // The provider resending it finds it stored: a duplicate, nothing held again.
    const body = JSON.stringify(teamSubscription("evt_held_team", "cus_held_team"));
    const response = await appWithMapping.fetch(
      new Request("http://rebound.test/v1/webhooks/stripe", {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": await stripeHeader(body) },
        body,
      }),
      { ...env, ...SECRETS },
    );
    const resent = { status: response.status, body: (await response.json()) as Record<string, unknown> };
    expect(resent.body).toMatchObject({ outcome: "duplicate", events: 0, duplicates: 1 });
    expect(resent.body.held).toBeUndefined();
    expect((await heldOf(admin)).total).toBe(0);
    const after = (await call("/v1/customers/cus_held_team", { key: reader })).body.customer;
    expect(after).toEqual(customer);
  });

  it("is replayed with the same events a delivery under the new rules would have written", async () => {
    const admin = await issueKey(["admin"]);
    await deliverStripe(teamSubscription("evt_held_twin", "cus_held_twin"));
    await callMapped("/v1/admin/provider-events/replay", admin, {});
    const events = await env.DB.prepare(
      "SELECT id, type, occurred_at, properties FROM events WHERE customer_id = 'cus_held_twin'",
    ).all<{ properties: string }>();
    expect(events.results.map((row) => ({ ...row, properties: JSON.parse(row.properties) }))).toEqual([
      {
        id: "stripe_evt_held_twin",
        type: "subscription.started",
        occurred_at: T0 * 1000,
        properties: { plan: "pro", mrr: 29_700, currency: "USD" },
      },
    ]);
  });
});

describe("replay and the listing", () => {
  it("go through many held deliveries a bounded slice at a time, with a cursor", async () => {
    const admin = await issueKey(["admin"]);
    for (const suffix of ["a", "b", "c"]) {
      const published = copy(fixtures.paddleSubscriptionCreated);
      published.event_id = `evt_paddle_held_${suffix}`;
      expect((await deliverPaddle(published)).body).toMatchObject({ outcome: "unmapped_plan", held: true });
    }
    const page1 = await heldOf(admin, "?provider=paddle&limit=2");
    expect(page1.held.map((row: { provider_event_id: string }) => row.provider_event_id)).toHaveLength(2);
    expect(page1.total).toBe(3);
    const page2 = await heldOf(admin, `?provider=paddle&limit=2&cursor=${page1.next_cursor}`);
    expect(page2.held).toHaveLength(1);
    expect(page2.next_cursor).toBeNull();

    const first = await call("/v1/admin/provider-events/replay", {
      key: admin,
      body: { provider: "paddle", limit: 2 },
    });
    expect(first.body).toMatchObject({ replayed: 2, still_held: 2, remaining: 1, held: 3 });
    expect(typeof first.body.next_cursor).toBe("string");
    const rest = await call("/v1/admin/provider-events/replay", {
      key: admin,
      body: { provider: "paddle", limit: 2, cursor: first.body.next_cursor },
    });
    expect(rest.body).toMatchObject({ replayed: 1, remaining: 0, next_cursor: null, held: 3 });
    expect((await heldOf(admin, "?provider=stripe")).total).toBe(0);
  });

  it("refuses a bad provider, limit, cursor or field, each at its place", async () => {
    const admin = await issueKey(["admin"]);
    const refused = await call("/v1/admin/provider-events/replay", {
      key: admin,
      body: { provider: "braintree", limit: 0, cursor: "not a cursor", all: true },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("validation_failed");
    expect(refused.body.error.details.map((detail: { path: string }) => detail.path).sort()).toEqual([
      "/all",
      "/cursor",
      "/limit",
      "/provider",
    ]);
    const listing = await call("/v1/admin/provider-events/held?limit=999&cursor=%25&provider=x", {
      key: admin,
    });
    expect(listing.status).toBe(400);
    expect(listing.body.error.details.map((detail: { path: string }) => detail.path).sort()).toEqual([
      "?cursor",
      "?limit",
      "?provider",
    ]);
    const writer = await issueKey(["events:write"]);
    expect((await call("/v1/admin/provider-events/replay", { key: writer, body: {} })).status).toBe(403);
  });
});

describe("a mapped event that ingest refuses", () => {
  it("is held as rejected with the reasons, under its customer", async () => {
    const admin = await issueKey(["admin"]);
    const customer = `cus_${"x".repeat(140)}`;
    const result = await deliverStripe(
      stripeEvent(
        "evt_held_rejected",
        "customer.subscription.created",
        T0,
        stripeSubscription(customer, [{ price: "price_pro_monthly", amount: 4900 }]),
      ),
    );
    expect(result.body).toMatchObject({ outcome: "rejected", events: 0, held: true });
    const listed = await heldOf(admin);
    expect(listed.held).toContainEqual(
      expect.objectContaining({ provider_event_id: "evt_held_rejected", customer_id: customer }),
    );
  });
});

describe("a customer's held deliveries", () => {
  it("are in the customer's export and go with the erasure; a later delivery is not held", async () => {
    const admin = await issueKey(["admin"]);
    const event = teamSubscription("evt_held_gdpr", "cus_held_gdpr");
    await deliverStripe(event);
    const exported = await call("/v1/admin/customers/cus_held_gdpr/export", { key: admin });
    expect(exported.body.provider_held_events).toEqual([
      expect.objectContaining({
        provider: "stripe",
        provider_event_id: "evt_held_gdpr",
        outcome: "unmapped_plan",
        payload: event,
      }),
    ]);
    const erased = await call("/v1/admin/customers/cus_held_gdpr/erase", { method: "POST", key: admin });
    expect(erased.status).toBe(200);
    expect(erased.body.deleted.provider_held_events).toBe(1);
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM provider_held_events WHERE customer_id = 'cus_held_gdpr'",
    ).first<{ n: number }>();
    expect(left?.n).toBe(0);
    const resent = await deliverStripe(event);
    expect(resent.body).toMatchObject({ outcome: "unmapped_plan", held: false });
    expect(
      (await heldOf(admin)).held.some((row: { customer_id: string }) => row.customer_id === "cus_held_gdpr"),
    ).toBe(false);
  });
});
