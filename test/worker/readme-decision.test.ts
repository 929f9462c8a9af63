// README's Decisions example, run as written: the customer it ingests gets the answer it shows.
import { describe, expect, it } from "vitest";
import { decide, useDecisionKeys } from "./decision-fixtures";
import { ingest } from "./helpers";

const keys = useDecisionKeys();

describe("README's decision example", () => {
  it("offers cus_9 the $20 price offer (variant twenty) with its message and a 14-day expiry", async () => {
    await ingest(keys.writer, [
      {
        id: "evt_c9_1",
        type: "customer.updated",
        customer_id: "cus_9",
        occurred_at: "2025-06-01T10:00:00Z",
        properties: { email: "grace@example.com", first_name: "Grace" },
      },
      {
        id: "evt_c9_2",
        type: "subscription.started",
        customer_id: "cus_9",
        occurred_at: "2025-06-01T10:05:00Z",
        properties: { plan: "pro", mrr: 4900, currency: "USD" },
      },
      {
        id: "evt_c9_3",
        type: "payment.succeeded",
        customer_id: "cus_9",
        occurred_at: "2026-02-01T10:00:00Z",
        properties: { invoice_id: "in_c9", amount: 90000, currency: "USD" },
      },
    ]);
    const { status, body } = await decide("cus_9", "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
      attributes: { seats: 12 },
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      customer_id: "cus_9",
      context: "cancel_flow",
      reason: "too_expensive",
      offer: {
        key: "price_high_value",
        reward: {
          type: "amount_off",
          key: "twenty_off",
          amount: 2000,
          currency: "USD",
          expires_after_ms: 1_209_600_000,
          description: "$20 off the next invoice",
        },
        message: { key: "offer_price", channel: null, subject: "Grace, here is $20 off to stay" },
        expires_at: "2026-03-17T15:00:00.000Z",
      },
      reason_code: "offered",
      why: "price_high_value: matched: reason is too_expensive; in segment high_value; variant twenty of offer_price_high_value",
      variant: "twenty",
      experiment: "offer_price_high_value",
      holdout: false,
      status: "outstanding",
      source: "api",
      created_at: "2026-03-03T15:00:00.000Z",
      responded_at: null,
      reused: false,
    });
  });
});
