// POST /v1/decisions and GET /v1/customers/:id/next-offer: the offer the app shows, why, and what is
// stored about it. Runs the shipped rules (rules/*.yaml) on real D1 inside workerd.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assignVariant } from "../../dsl/runtime/bucket";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { ruleset } from "../../worker/generated/ruleset";
import {
  at,
  cancel,
  DAY,
  decide,
  heldOutId,
  offeredIds,
  PRICE_EXPERIMENT,
  payingCustomer,
  T0,
  useDecisionKeys,
} from "./decision-fixtures";
import { call, event, ingest } from "./helpers";

const keys = useDecisionKeys();

const priceVariants = ruleset.offers.find((offer) => offer.key === "price_high_value")!.experiment!.variants;

describe("the next-offer decision", () => {
  it("gives a high-value customer leaving over price the fixed discount with a 14-day expiry", async () => {
    const id = offeredIds("price", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 80_000 });
    const { status, body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(status).toBe(200);
    const variant = assignVariant(PRICE_EXPERIMENT, id, priceVariants)!;
    expect(body).toMatchObject({
      customer_id: id,
      context: "cancel_flow",
      reason: "too_expensive",
      reason_code: "offered",
      experiment: PRICE_EXPERIMENT,
      variant: variant.key,
      holdout: false,
      ruleset: ruleset.version,
      status: "outstanding",
      reused: false,
    });
    expect(body.decision_id).toMatch(/^dec_[0-9a-f]{28}$/);
    expect(body.offer.key).toBe("price_high_value");
    expect(body.offer.expires_at).toBe(at(14));
    if (variant.key === "twenty") {
      expect(body.offer.reward).toMatchObject({
        type: "amount_off",
        amount: 2000,
        currency: "USD",
        key: "twenty_off",
      });
      expect(body.offer.message.key).toBe("offer_price");
    } else {
      expect(body.offer.reward).toMatchObject({ type: "percent_off", percent: 50, for_months: 3 });
      expect(body.offer.message.key).toBe("offer_price_habit");
    }
    expect(body.offer.message.body).toContain("Acme Analytics");
    expect(body.meta.rows_read).toBeGreaterThan(0);
  });

  it("shows both price variants with their own reward, as dsl/runtime/bucket.ts assigns them", async () => {
    // The first offered customer in each variant, asked of the bucketing.
    const inVariant = (key: string) =>
      offeredIds("variants", 100).find(
        (id) => assignVariant(PRICE_EXPERIMENT, id, priceVariants)!.key === key,
      )!;
    for (const [id, reward] of [
      [inVariant("twenty"), "twenty_off"],
      [inVariant("habit"), "half_off_three_months"],
    ] as const) {
      await payingCustomer(keys.writer, id);
      const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
      expect(body.offer.reward.key).toBe(reward);
    }
  });

  it("evaluates offers in priority order: the first eligible one wins", async () => {
    // Eligible for both price_high_value (100) and price_everyone_else (90): the higher one wins.
    const [high, mid] = offeredIds("priority", 2);
    await payingCustomer(keys.writer, high!, { ltv: 80_000 });
    // Not high value (ltv $200) and not low value (mrr $49): only price_everyone_else matches.
    await payingCustomer(keys.writer, mid!, { ltv: 20_000 });
    const first = await decide(high!, "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
      explain: true,
    });
    expect(first.body.offer.key).toBe("price_high_value");
    const outcomes = first.body.trace.map((entry: { offer: string; outcome: string }) => [
      entry.offer,
      entry.outcome,
    ]);
    expect(outcomes[0]).toEqual(["price_high_value", "chosen"]);
    expect(outcomes).toContainEqual(["price_everyone_else", "not_evaluated"]);

    const second = await decide(mid!, "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
      explain: true,
    });
    expect(second.body.offer.key).toBe("price_everyone_else");
    expect(second.body.offer.reward).toMatchObject({ amount: 1000, currency: "USD" });
    expect(second.body.trace[0]).toMatchObject({ offer: "price_high_value", outcome: "not_in_segment" });
  });

  it("gives a customer whose business is shutting down no offer, with a reason code", async () => {
    await payingCustomer(keys.writer, "closing-1", { ltv: 500_000 });
    const { status, body } = await decide("closing-1", "cancel_flow", {
      key: keys.admin,
      reason: "shutting_down",
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ offer: null, reason_code: "ineligible", status: "no_offer" });
    expect(body.why).toContain("shutting_down");
    // With ?explain=1 every offer is listed, none looked at, each saying why.
    const explained = await decide("closing-1", "cancel_flow", {
      key: keys.admin,
      reason: "shutting_down",
      explain: true,
    });
    expect(explained.body.trace.map((entry: { offer: string }) => entry.offer)).toEqual(
      ruleset.offers.map((offer) => offer.key),
    );
    for (const entry of explained.body.trace) {
      expect(entry).toMatchObject({ outcome: "not_evaluated", detail: body.why });
    }
  });

  it("gives a low-value customer no discount: no_matching_rule", async () => {
    await payingCustomer(keys.writer, "cheap-1", { ltv: 5_000, mrr: 900, plan: "starter" });
    const { body } = await decide("cheap-1", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(body).toMatchObject({ offer: null, reason_code: "no_matching_rule" });
  });

  it("uses the profile's churn reason when the request passes none (win-back after cancelling)", async () => {
    const id = offeredIds("winback", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    await cancel(keys.writer, id, "2026-03-01T09:00:00Z", "too_expensive");
    const { body } = await decide(id, "winback", { key: keys.admin });
    expect(body).toMatchObject({ reason: "too_expensive", reason_code: "offered" });
    expect(body.offer.key).toBe("price_everyone_else");
  });

  it("takes the cancel flow's reason before any cancellation event exists", async () => {
    const id = offeredIds("flow", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 9_000 });
    // Without a reason the active customer matches nothing in the cancel flow.
    const without = await decide(id, "cancel_flow", { key: keys.admin, now: at(-30) });
    expect(without.body).toMatchObject({ offer: null, reason: null, reason_code: "no_matching_rule" });
    const withReason = await decide(id, "cancel_flow", { key: keys.admin, reason: "hard_to_use" });
    expect(withReason.body.offer.key).toBe("hard_to_use_session");
    expect(withReason.body.reason).toBe("hard_to_use");
  });

  it("merges request attributes into the profile for this decision only", async () => {
    const id = "attrs-1";
    await payingCustomer(keys.writer, id, { ltv: 20_000, attributes: { seats: 3 } });
    const { body } = await decide(id, "cancel_flow", {
      key: keys.admin,
      reason: "missing_features",
      attributes: { seats: 40, company_size: "large" },
    });
    expect(body.offer.key).toBe("missing_features_unlock");
    const stored = await call(`/v1/decisions/${body.decision_id}`, { key: keys.reader });
    expect(stored.body.inputs.request.attributes).toEqual({ seats: 40, company_size: "large" });
    const profile = await call(`/v1/customers/${id}`, { key: keys.reader });
    expect(profile.body.customer.attributes).toEqual({ seats: 3 });
  });

  it("stores every decision with its ruleset version, variant and the inputs that mattered", async () => {
    const id = offeredIds("stored", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 80_000 });
    const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    const stored = await call(`/v1/decisions/${body.decision_id}`, { key: keys.reader });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      decision_id: body.decision_id,
      ruleset: ruleset.version,
      variant: body.variant,
      source: "api",
      offer: body.offer,
    });
    // Like every decision answer, it says what the read cost (one row, by primary key).
    expect(stored.body.meta).toMatchObject({ rows_read: 1, rows_written: 0 });
    expect(stored.body.inputs).toMatchObject({
      reason_used: "too_expensive",
      reason_from: "request",
      matched: "price_high_value",
      segments: { high_value: true },
      profile: { ltv: { amount: 80_000, currency: "USD" } },
      buckets: { experiment: PRICE_EXPERIMENT },
    });
    const row = await env.DB.prepare(
      "SELECT ruleset_version, variant, holdout, cost, cost_currency FROM decisions WHERE id = ?",
    )
      .bind(body.decision_id)
      .first();
    expect(row).toMatchObject({ ruleset_version: ruleset.version, variant: body.variant, holdout: 0 });
  });

  it("answers an unknown customer with 200, no offer and reason_code unknown_customer", async () => {
    const { status, body } = await decide("nobody-ever", "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ offer: null, reason_code: "unknown_customer", customer_id: "nobody-ever" });
    const next = await call("/v1/customers/nobody-ever-2/next-offer?context=in_app", { key: keys.reader });
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ offer: null, reason_code: "unknown_customer" });
  });

  it("adds the rule trace with ?explain=1 and leaves it out otherwise", async () => {
    await payingCustomer(keys.writer, "explain-1", { ltv: 5_000, mrr: 900, plan: "starter" });
    const plain = await decide("explain-1", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(plain.body.trace).toBeUndefined();
    const explained = await decide("explain-1", "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
      explain: true,
    });
    const everyone = explained.body.trace.find(
      (entry: { offer: string }) => entry.offer === "price_everyone_else",
    );
    expect(everyone).toMatchObject({
      outcome: "condition_failed",
      at: expect.stringMatching(/^rules\/offers\.yaml:\d+:\d+$/),
    });
    expect(everyone.condition.failure.text).toContain("low_value");
    expect(explained.body.trace.length).toBe(ruleset.offers.length);
  });

  it("serves GET /v1/customers/:id/next-offer to simple callers", async () => {
    const id = offeredIds("next", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    await cancel(keys.writer, id, "2026-03-01T09:00:00Z", "too_expensive");
    const next = await call(`/v1/customers/${id}/next-offer?context=winback`, {
      key: keys.admin,
      headers: { "x-rebound-now": at(0) },
    });
    expect(next.status).toBe(200);
    expect(next.body.offer.key).toBe("price_everyone_else");
    expect(next.body.offer.expires_at).toBe(at(14));
  });

  it("reports the D1 rows each decision read, in the body and a header", async () => {
    await payingCustomer(keys.writer, "rows-1");
    const response = await fetchDecision("rows-1");
    const rows = Number(response.headers.get("x-rebound-rows-read"));
    const body = (await response.json()) as { meta: { rows_read: number } };
    expect(rows).toBe(body.meta.rows_read);
    // The profile, the events the rules read and the history: a handful of rows, not a scan.
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(20);
  });
});

describe("the benchmark floor route", () => {
  it("reads one customer row by primary key, for admin keys only", async () => {
    await payingCustomer(keys.writer, "floor-1");
    const found = await call("/v1/admin/floor/floor-1", { key: keys.admin });
    expect(found.status).toBe(200);
    expect(found.body).toEqual({ customer: { id: "floor-1", status: "active" }, meta: { rows_read: 1 } });
    expect((await call("/v1/admin/floor/nobody", { key: keys.admin })).body.customer).toBeNull();
    expect((await call("/v1/admin/floor/floor-1", { key: keys.reader })).status).toBe(403);
  });
});

describe("what a decision reads", () => {
  it("uses rules compiled once per isolate, not per request", () => {
    const first = deployedRuleset();
    expect(deployedRuleset()).toBe(first);
    expect(first.version).toBe(ruleset.version);
    // The shipped offers and segments count activity only: that is the one event type a decision reads.
    expect(first.reads.decision.eventTypes).toEqual(["activity"]);
  });

  it("reads only recent events of the types the rules use, so history does not make it dearer", async () => {
    await payingCustomer(keys.writer, "quiet-1");
    await payingCustomer(keys.writer, "busy-1");
    const busy = [
      // Custom page views: no offer or segment counts them.
      ...Array.from({ length: 300 }, (_, n) =>
        event("x.page_view", "busy-1", new Date(T0 - (n + 1) * 60_000).toISOString()),
      ),
      // Activity older than the rules' 30-day window.
      ...Array.from({ length: 150 }, (_, n) =>
        event("activity", "busy-1", new Date(T0 - (40 + n) * DAY).toISOString()),
      ),
    ];
    await ingest(keys.writer, busy);
    const quiet = await decide("quiet-1", "in_app", { key: keys.admin });
    const heavy = await decide("busy-1", "in_app", { key: keys.admin });
    expect(heavy.body.meta.rows_read).toBeLessThanOrEqual(quiet.body.meta.rows_read + 1);
  });
});

describe("the request clock", () => {
  it("is the request's time unless an admin key moves it with X-Rebound-Now", async () => {
    await payingCustomer(keys.writer, "clock-1", { ltv: 9_000 });
    const before = Date.now();
    const live = await decide("clock-1", "cancel_flow", {
      key: keys.reader,
      now: null,
      reason: "hard_to_use",
    });
    expect(Date.parse(live.body.created_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(live.body.created_at)).toBeLessThanOrEqual(Date.now());
    const epoch = await decide("clock-2", "in_app", { key: keys.admin, now: String(T0 + 5 * DAY) });
    expect(epoch.body.created_at).toBe(at(5));
  });

  it("refuses X-Rebound-Now from a key without admin scope, and a malformed one", async () => {
    const refused = await decide("clock-3", "in_app", { key: keys.reader, now: at(1) });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    const malformed = await decide("clock-3", "in_app", { key: keys.admin, now: "next tuesday" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatchObject({
      code: "validation_failed",
      details: [{ path: "header:X-Rebound-Now" }],
    });
  });
});

describe("bad decision requests", () => {
  it("refuses a body that is not a decision request, listing every problem", async () => {
    const result = await call("/v1/decisions", {
      key: keys.reader,
      body: {
        customer_id: "",
        context: "checkout",
        reason: "too_cheap",
        extra: 1,
        attributes: { "bad name": 1 },
      },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("validation_failed");
    const paths = result.body.error.details.map((detail: { path: string }) => detail.path);
    expect(paths).toEqual(expect.arrayContaining(["/customer_id", "/context", "/extra", "/reason"]));
  });

  it("refuses a reason the rules do not declare instead of silently offering nothing", async () => {
    const result = await call("/v1/decisions", {
      key: keys.reader,
      body: { customer_id: "c1", context: "cancel_flow", reason: "too_expensiv" },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.details).toEqual([
      { path: "/reason", message: expect.stringContaining("too_expensive") },
    ]);
  });

  it("refuses a next-offer request without a valid context", async () => {
    const missing = await call("/v1/customers/c1/next-offer", { key: keys.reader });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ path: "?context", message: expect.any(String) }]);
    const wrong = await call("/v1/customers/c1/next-offer?context=checkout&reason=nope", {
      key: keys.reader,
    });
    expect(wrong.body.error.details.map((detail: { path: string }) => detail.path)).toEqual([
      "?context",
      "?reason",
    ]);
  });

  it("refuses an over-long customer id in the path and too many attributes", async () => {
    const long = await call(`/v1/customers/${"c".repeat(129)}/next-offer?context=in_app`, {
      key: keys.reader,
    });
    expect(long.status).toBe(400);
    expect(long.body.error.details).toEqual([{ path: "path:id", message: expect.any(String) }]);
    const attributes = Object.fromEntries(Array.from({ length: 51 }, (_, n) => [`a${n}`, n]));
    const many = await call("/v1/decisions", {
      key: keys.reader,
      body: { customer_id: "c1", context: "in_app", attributes },
    });
    expect(many.status).toBe(400);
    expect(many.body.error.details.map((detail: { path: string }) => detail.path)).toEqual(["/attributes"]);
  });

  it("refuses malformed JSON and a non-JSON body", async () => {
    const broken = await call("/v1/decisions", {
      key: keys.reader,
      rawBody: "{",
      headers: { "content-type": "application/json" },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_json");
    const text = await call("/v1/decisions", {
      key: keys.reader,
      rawBody: "x",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
  });

  it("answers 404 decision_not_found for a decision id that does not exist", async () => {
    for (const id of ["dec_0000000000000000000000000000", "nope"]) {
      const missing = await call(`/v1/decisions/${id}`, { key: keys.reader });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("decision_not_found");
    }
  });

  it("needs a decisions:read key", async () => {
    const writerOnly = await decide("c1", "in_app", { key: keys.writer, now: null });
    expect(writerOnly.status).toBe(403);
  });

  it("keeps a held-out customer's answer honest: no offer, holdout recorded", async () => {
    const id = heldOutId("held");
    await payingCustomer(keys.writer, id, { ltv: 80_000 });
    const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(body).toMatchObject({
      offer: null,
      reason_code: "holdout",
      holdout: true,
      experiment: PRICE_EXPERIMENT,
    });
  });
});

async function fetchDecision(customerId: string): Promise<Response> {
  const { exports } = await import("cloudflare:workers");
  return await exports.default.fetch("http://rebound.test/v1/decisions", {
    method: "POST",
    headers: {
      authorization: `Bearer ${keys.admin}`,
      "content-type": "application/json",
      "x-rebound-now": at(0),
    },
    body: JSON.stringify({ customer_id: customerId, context: "in_app" }),
  });
}
