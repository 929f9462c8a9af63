// The offers report prices what was granted in the currency it was granted in, and adds it up in
// the rules' currency with settings.exchange_rates (rules/settings.yaml: GBP 1.27, no CHF rate).
import { beforeAll, describe, expect, it } from "vitest";
import { at, decide, payingCustomer, respond, useDecisionKeys } from "./decision-fixtures";
import { call, event, ingest, issueKey } from "./helpers";

const keys = useDecisionKeys();
let admin = "";

beforeAll(async () => {
  admin = await issueKey(["admin"]);
  // $10 off for a USD customer, £8 off for a GBP one (both answer price), and one free month for a
  // CHF referrer who moved to a competitor: its cost is a month of their MRR, in CHF.
  await payingCustomer(keys.writer, "usd", { ltv: 10_000, mrr: 4_900 });
  await payingCustomer(keys.writer, "gbp", { ltv: 10_000, mrr: 1_900, currency: "GBP" });
  await payingCustomer(keys.writer, "chf", { ltv: 10_000, mrr: 4_900, currency: "CHF" });
  await ingest(keys.writer, [
    event("referral.made", "chf", "2026-02-10T00:00:00Z", { referred_customer_id: "friend" }),
  ]);
  const answers = [
    ["usd", "too_expensive", "price_everyone_else"],
    ["gbp", "too_expensive", "price_everyone_else"],
    ["chf", "switched_to_competitor", "competitor_switch"],
  ] as const;
  for (const [id, reason, offer] of answers) {
    const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason });
    expect(body.offer?.key, id).toBe(offer);
    expect((await respond(body.decision_id, "accept", keys.admin, at(1))).status).toBe(200);
  }
});

describe("offer costs across currencies", () => {
  it("lists the cost per currency and adds it up in USD, naming the currency without a rate", async () => {
    const { status, body } = await call("/v1/metrics/offers?from=2026-03-01&to=2026-03-31", {
      key: admin,
      headers: { "x-rebound-now": "2026-04-10T12:00:00Z" },
    });
    expect(status).toBe(200);
    expect(body.total.cost_granted).toEqual([
      { currency: "CHF", amount: 4900 },
      { currency: "GBP", amount: 800 },
      { currency: "USD", amount: 1000 },
    ]);
    // £8 is $10.16 at 1.27; CHF has no rate, so it is left out and named.
    expect(body.total.cost_granted_reporting).toEqual({
      currency: "USD",
      amount: 2016,
      unconverted_currencies: ["CHF"],
    });
    const price = body.rows.find((row: { key: string }) => row.key === "price_everyone_else");
    expect(price.cost_granted_reporting).toEqual({
      currency: "USD",
      amount: 2016,
      unconverted_currencies: [],
    });
  });
});
