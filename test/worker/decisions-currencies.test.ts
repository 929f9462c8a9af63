// Customers who pay in pounds, euros or Australian dollars meet the rules' dollar thresholds through
// settings.exchange_rates (rules/settings.yaml: GBP 1.27) and get the reward's amount in their own
// currency (rules/rewards.yaml lists one per currency), in the decision and in its message; a
// currency with neither a rate nor a listed amount is still a currency mismatch.
import { describe, expect, it } from "vitest";
import { decide, payingCustomer, useDecisionKeys } from "./decision-fixtures";
import { call } from "./helpers";

const keys = useDecisionKeys();

describe("decisions for customers in other currencies", () => {
  it("a GBP customer whose MRR meets the $20 threshold at the rate gets £8 off, in GBP", async () => {
    // low_value is `not high_value and (mrr is null or mrr < $20)`: £19 is $24.13, so not low value.
    await payingCustomer(keys.writer, "gbp-mid", { ltv: 10_000, mrr: 1_900, currency: "GBP" });
    const { status, body } = await decide("gbp-mid", "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
    });
    expect(status).toBe(200);
    expect(body.offer).toMatchObject({
      key: "price_everyone_else",
      reward: { type: "amount_off", key: "ten_off", amount: 800, currency: "GBP", description: "£8 off" },
      message: { subject: "Hi, here is £8 off to stay" },
    });
    expect(body.offer.message.body).toContain("Take £8 off on us");
    // The stored decision (GET) and the redemption's cost say the same.
    const stored = await call(`/v1/decisions/${body.decision_id}`, { key: keys.reader });
    expect(stored.body.offer.reward).toMatchObject({ amount: 800, currency: "GBP" });
    const accepted = await call(`/v1/offers/${body.decision_id}/accept`, {
      key: keys.admin,
      method: "POST",
      headers: { "x-rebound-now": "2026-03-04T15:00:00Z" },
    });
    expect(accepted.body.redemption.cost).toEqual({ amount: 800, currency: "GBP" });
  });

  it("a GBP customer below the converted threshold is low value and gets no discount", async () => {
    // £15 is $19.05: below $20, so low_value, and `price_everyone_else` needs `not low_value`.
    await payingCustomer(keys.writer, "gbp-low", { ltv: 10_000, mrr: 1_500, currency: "GBP" });
    const { body } = await decide("gbp-low", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(body.offer).toBeNull();
    expect(body.reason_code).toBe("no_matching_rule");
    expect(body.why).not.toContain("currency");
  });

  it("an AUD customer gets the listed A$15, and a EUR one €9", async () => {
    await payingCustomer(keys.writer, "aud-mid", { ltv: 10_000, mrr: 4_900, currency: "AUD" });
    await payingCustomer(keys.writer, "eur-mid", { ltv: 10_000, mrr: 4_900, currency: "EUR" });
    const aud = await decide("aud-mid", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    const eur = await decide("eur-mid", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(aud.body.offer.reward).toMatchObject({ amount: 1500, currency: "AUD", description: "A$15 off" });
    expect(eur.body.offer.reward).toMatchObject({ amount: 900, currency: "EUR", description: "€9 off" });
  });

  it("a customer in a currency with no rate and no listed amount gets currency_mismatch", async () => {
    await payingCustomer(keys.writer, "chf-mid", { ltv: 10_000, mrr: 4_900, currency: "CHF" });
    const { body } = await decide("chf-mid", "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
      explain: true,
    });
    expect(body.offer).toBeNull();
    const trace = body.trace as { offer: string; outcome: string; detail: string }[];
    expect(trace.find((entry) => entry.offer === "price_everyone_else")).toMatchObject({
      outcome: "currency_mismatch",
      detail: expect.stringContaining("reward ten_off is in USD; the customer pays in CHF"),
    });
    // The same answer without the trace (the production path) says why too.
    const plain = await decide("chf-mid", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(plain.body.why).toContain("CHF");
  });
});
