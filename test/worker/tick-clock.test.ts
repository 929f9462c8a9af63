// Time is a parameter: a tick at T acts as if only events with occurred_at <= T existed, wherever
// it reads a timestamp or an event. Tests, replays and simulations store the whole history first and
// then move the clock, so a failure, a payment, a cancellation or a card report later than the
// tick's now must neither start nor end anything at that tick.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { at, DAY, events, MINUTE, resetTick, stepsOf, subscriber, tick } from "./tick-fixtures";

const T0 = at("2031-07-01T12:00:00Z");

beforeEach(resetTick);

async function failedPayment(customerId: string, invoiceId: string, when: number) {
  await events([
    "payment.failed",
    customerId,
    when,
    { invoice_id: invoiceId, amount: 4900, currency: "USD", card_last4: "4242" },
  ]);
}

async function caseOf(customerId: string) {
  return env.DB.prepare("SELECT * FROM dunning_cases WHERE customer_id = ?")
    .bind(customerId)
    .first<Record<string, unknown>>();
}

describe("dunning at a tick before the failure", () => {
  it("opens no case for a payment that fails after now; the tick after the failure opens it and sends day 0", async () => {
    await subscriber("cus_future", T0 - 90 * DAY);
    await failedPayment("cus_future", "inv_f", T0 + 29 * DAY);

    const early = await tick(T0 + MINUTE);
    expect(early.dunning.opened).toBe(0);
    expect(await caseOf("cus_future")).toBeNull();
    expect(await stepsOf("cus_future")).toEqual([]);

    const due = await tick(T0 + 29 * DAY + 5 * MINUTE);
    expect(due.dunning.opened).toBe(1);
    expect(await caseOf("cus_future")).toMatchObject({
      status: "open",
      failed_at: T0 + 29 * DAY,
      opened_at: T0 + 29 * DAY + 5 * MINUTE,
    });
    expect(await stepsOf("cus_future")).toEqual(["dunning/standard/day-0"]);
  });

  it("an open case is not advanced by a tick earlier than its failure (the clock moved back)", async () => {
    await subscriber("cus_back", T0 - 90 * DAY);
    await failedPayment("cus_back", "inv_b", T0 + 10 * DAY);
    await tick(T0 + 10 * DAY + MINUTE);
    expect(await stepsOf("cus_back")).toEqual(["dunning/standard/day-0"]);

    const earlier = await tick(T0 + MINUTE);
    expect(earlier.dunning.final_actions + earlier.dunning.canceled + earlier.dunning.recovered).toBe(0);
    expect(await caseOf("cus_back")).toMatchObject({ status: "open" });
    expect(await stepsOf("cus_back")).toEqual(["dunning/standard/day-0"]);
  });
});

describe("facts later than now do not end a dunning case early", () => {
  it("a payment.succeeded after now leaves the case open and the step due now goes out", async () => {
    await subscriber("cus_paylater", T0 - 90 * DAY, { mrr: 4900 });
    await failedPayment("cus_paylater", "inv_p", T0);
    await tick(T0 + MINUTE);
    await events([
      "payment.succeeded",
      "cus_paylater",
      T0 + 5 * DAY,
      { invoice_id: "inv_p", amount: 4900, currency: "USD" },
    ]);

    const day3 = await tick(T0 + 3 * DAY + MINUTE);
    expect(day3.dunning.recovered).toBe(0);
    expect(await stepsOf("cus_paylater")).toEqual(["dunning/standard/day-0", "dunning/standard/day-3"]);
    expect(await caseOf("cus_paylater")).toMatchObject({ status: "open" });

    const paid = await tick(T0 + 5 * DAY + MINUTE);
    expect(paid.dunning.recovered).toBe(1);
    expect(await caseOf("cus_paylater")).toMatchObject({
      status: "recovered",
      recovered_at: T0 + 5 * DAY,
      recovered_after_step: "day-3",
    });
    await tick(T0 + 7 * DAY + MINUTE);
    expect(await stepsOf("cus_paylater")).toEqual(["dunning/standard/day-0", "dunning/standard/day-3"]);
  });

  it("a cancellation after now leaves the case open until the tick reaches it", async () => {
    await subscriber("cus_quitlater", T0 - 90 * DAY);
    await failedPayment("cus_quitlater", "inv_q", T0);
    await tick(T0 + MINUTE);
    await events(["subscription.canceled", "cus_quitlater", T0 + 5 * DAY, { reason: "too_expensive" }]);

    const day3 = await tick(T0 + 3 * DAY + MINUTE);
    expect(day3.dunning.canceled).toBe(0);
    expect(await stepsOf("cus_quitlater")).toEqual(["dunning/standard/day-0", "dunning/standard/day-3"]);

    const quit = await tick(T0 + 5 * DAY + MINUTE);
    expect(quit.dunning.canceled).toBe(1);
    await tick(T0 + 7 * DAY + MINUTE);
    expect(await stepsOf("cus_quitlater")).toEqual(["dunning/standard/day-0", "dunning/standard/day-3"]);
  });
});

describe("lifecycle facts later than now", () => {
  it("a cancellation after now starts no win-back at now", async () => {
    await subscriber("cus_wb", T0 - 200 * DAY);
    await events(["subscription.canceled", "cus_wb", T0 + 20 * DAY, { reason: "too_expensive" }]);
    for (const day of [1, 7, 14]) await tick(T0 + day * DAY + MINUTE);
    expect(await stepsOf("cus_wb")).toEqual([]);
    await tick(T0 + 27 * DAY + MINUTE);
    expect(await stepsOf("cus_wb")).toEqual(["winback/price/day-7"]);
  });

  it("a card reported expiring after now gets no reminder before the report", async () => {
    await subscriber("cus_card", T0 - 90 * DAY);
    const expires = T0 + 20 * DAY;
    await events([
      "card.expiring",
      "cus_card",
      T0 + 15 * DAY,
      { expires_at: new Date(expires).toISOString() },
    ]);
    // The 7-day reminder's window holds the expiry at T0 + 13d, but the card is reported two days later.
    await tick(T0 + DAY);
    await tick(T0 + 13 * DAY + MINUTE);
    expect(await stepsOf("cus_card")).toEqual([]);
    await tick(T0 + 15 * DAY + MINUTE);
    expect(await stepsOf("cus_card")).toEqual(["card_expiry/card_expiry/7d-before"]);
  });
});
