// Dunning on the clock: a failed payment opens a case and gets the cadence's steps on their days;
// a successful payment for the invoice closes it (recording what it saved) and stops the cadence;
// an unpaid case runs its final action; card.expiring gets the pre-expiry reminders.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { ruleset as deployedIr } from "../../worker/generated/ruleset";
import { runTick } from "../../worker/tick/run-tick";
import { call, issueKey } from "./helpers";
import {
  at,
  DAY,
  deliver,
  events,
  HOUR,
  MINUTE,
  outboxOf,
  resetTick,
  sendsOf,
  stepsOf,
  subscriber,
  tick,
} from "./tick-fixtures";

const T0 = at("2031-03-03T15:00:00Z");

beforeEach(resetTick);

async function failedPayment(customerId: string, invoiceId: string, when: number, amount = 4900) {
  await events([
    "payment.failed",
    customerId,
    when,
    {
      invoice_id: invoiceId,
      amount,
      currency: "USD",
      card_last4: "4242",
      update_url: "https://pay.example/u",
    },
  ]);
}

async function dunningCase(customerId: string) {
  return env.DB.prepare("SELECT * FROM dunning_cases WHERE customer_id = ?")
    .bind(customerId)
    .first<Record<string, unknown>>();
}

describe("a failed payment", () => {
  it("opens one case per failed invoice across pages, ties included", async () => {
    // 450 failures at three instants: pages of 200 end inside runs of equal payment_failed_at.
    const ids = Array.from({ length: 450 }, (_, n) => `cus_fail_${String(n).padStart(3, "0")}`);
    for (let start = 0; start < ids.length; start += 150) {
      await events(
        ...ids.slice(start, start + 150).flatMap(
          (id, n): Parameters<typeof events> => [
            ["subscription.started", id, T0 - 90 * DAY, { plan: "pro", mrr: 4900, currency: "USD" }],
            [
              "payment.failed",
              id,
              T0 + ((start + n) % 3) * MINUTE,
              { invoice_id: `in_${id}`, amount: 4900, currency: "USD", update_url: "https://pay.example/u" },
            ],
          ],
        ),
      );
    }
    await tick(T0 + 5 * MINUTE);
    const cases = await env.DB.prepare(
      "SELECT count(*) AS n, count(DISTINCT customer_id) AS customers FROM dunning_cases",
    ).first<{ n: number; customers: number }>();
    expect(cases).toEqual({ n: ids.length, customers: ids.length });
  });

  it("gets the day-0 email at the next tick, the day-3 one three days later, and nothing after payment.succeeded", async () => {
    await subscriber("cus_dun", T0 - 90 * DAY, { mrr: 4900 });
    await failedPayment("cus_dun", "inv_1", T0);

    await tick(T0 + 5 * MINUTE);
    expect(await stepsOf("cus_dun")).toEqual(["dunning/standard/day-0"]);
    const [day0] = await sendsOf("cus_dun");
    expect(day0).toMatchObject({
      occurrence: "inv_1",
      message_key: "dunning_day_0",
      recipient: "cus_dun@example.com",
    });

    // The consumer renders the message with the case's card, amount and link.
    await deliver([day0!.id], T0 + 6 * MINUTE);
    const email = await outboxOf(day0!.id);
    expect(email?.subject).toBe("Your payment did not go through");
    expect(email?.text).toContain("ending in 4242");
    expect(email?.text).toContain("for $49.");
    expect(email?.text).toContain("https://pay.example/u");

    // Ticks in between send nothing new.
    await tick(T0 + 1 * DAY);
    await tick(T0 + 2 * DAY + 23 * HOUR);
    expect(await stepsOf("cus_dun")).toEqual(["dunning/standard/day-0"]);

    await tick(T0 + 3 * DAY + 5 * MINUTE);
    expect(await stepsOf("cus_dun")).toEqual(["dunning/standard/day-0", "dunning/standard/day-3"]);

    await events([
      "payment.succeeded",
      "cus_dun",
      T0 + 4 * DAY,
      { invoice_id: "inv_1", amount: 4900, currency: "USD" },
    ]);
    const report = await tick(T0 + 7 * DAY + 5 * MINUTE);
    expect(report.dunning.recovered).toBe(1);
    await tick(T0 + 14 * DAY + 5 * MINUTE);
    await tick(T0 + 31 * DAY);
    expect(await stepsOf("cus_dun")).toEqual(["dunning/standard/day-0", "dunning/standard/day-3"]);

    expect(await dunningCase("cus_dun")).toMatchObject({
      invoice_id: "inv_1",
      status: "recovered",
      recovered_at: T0 + 4 * DAY,
      mrr_saved: 4900,
      recovered_after_step: "day-3",
    });
    const admin = await issueKey(["admin"]);
    const listed = await call("/v1/admin/dunning-cases?status=recovered&customer_id=cus_dun", { key: admin });
    expect(listed.body.cases).toEqual([
      expect.objectContaining({
        invoice_id: "inv_1",
        status: "recovered",
        recovered_at: new Date(T0 + 4 * DAY).toISOString(),
        mrr_saved: 4900,
        recovered_after_step: "day-3",
      }),
    ]);
    expect((await call("/v1/admin/dunning-cases?status=paid", { key: admin })).status).toBe(400);
  });

  it("ticking the same moment twice (or concurrently) sends nothing new", async () => {
    await subscriber("cus_twice", T0 - 90 * DAY);
    await failedPayment("cus_twice", "inv_2", T0);
    const [first, second] = await Promise.all([tick(T0 + MINUTE), tick(T0 + MINUTE)]);
    expect(first.dunning.sent + second.dunning.sent).toBe(1);
    const again = await tick(T0 + MINUTE);
    expect(again.dunning.sent).toBe(0);
    expect(await stepsOf("cus_twice")).toEqual(["dunning/standard/day-0"]);
  });

  it("a tick that catches up after days away sends only the latest step due, not every missed one", async () => {
    await subscriber("cus_late", T0 - 90 * DAY);
    await failedPayment("cus_late", "inv_3", T0);
    await tick(T0 + MINUTE);
    await tick(T0 + 8 * DAY);
    expect(await stepsOf("cus_late")).toEqual(["dunning/standard/day-0", "dunning/standard/day-7"]);
  });

  it("a tick dated before an earlier one does not move a case's last step back", async () => {
    await subscriber("cus_back", T0 - 90 * DAY);
    await failedPayment("cus_back", "inv_back", T0);
    await tick(T0 + MINUTE);
    await tick(T0 + 8 * DAY);
    expect(await dunningCase("cus_back")).toMatchObject({ last_step: "day-7", last_step_at: T0 + 8 * DAY });
    // Replayed or out-of-order: day-0 is due again at this moment, but was sent long ago.
    const replay = await tick(T0 + 2 * MINUTE);
    expect(replay.dunning.sent).toBe(0);
    expect(await dunningCase("cus_back")).toMatchObject({ last_step: "day-7", last_step_at: T0 + 8 * DAY });
    // So a recovery after it is credited to the step really sent last.
    await events([
      "payment.succeeded",
      "cus_back",
      T0 + 9 * DAY,
      { invoice_id: "inv_back", amount: 4900, currency: "USD" },
    ]);
    await tick(T0 + 9 * DAY + HOUR);
    expect(await dunningCase("cus_back")).toMatchObject({
      status: "recovered",
      recovered_after_step: "day-7",
    });
  });

  it("runs the final action after the last day: the customer is canceled for payment_failed and told", async () => {
    await subscriber("cus_final", T0 - 90 * DAY);
    await failedPayment("cus_final", "inv_4", T0);
    for (const day of [0, 3, 7, 14, 21, 28]) await tick(T0 + day * DAY + MINUTE);
    expect(await stepsOf("cus_final")).toEqual(
      [0, 3, 7, 14, 21, 28].map((day) => `dunning/standard/day-${day}`),
    );
    const report = await tick(T0 + 30 * DAY + MINUTE);
    expect(report.dunning.final_actions).toBe(1);
    expect((await stepsOf("cus_final")).at(-1)).toBe("dunning/standard/final");
    const customer = await env.DB.prepare(
      "SELECT status, churn_reason, canceled_at FROM customers WHERE id = ?",
    )
      .bind("cus_final")
      .first();
    expect(customer).toMatchObject({
      status: "canceled",
      churn_reason: "payment_failed",
      canceled_at: T0 + 30 * DAY + MINUTE,
    });
    expect(await dunningCase("cus_final")).toMatchObject({ status: "final", final_actions: '["cancel"]' });

    // Nothing more for this case, and a repeated tick does not cancel twice or resend.
    await tick(T0 + 30 * DAY + MINUTE);
    await tick(T0 + 35 * DAY);
    expect((await stepsOf("cus_final")).filter((step) => step.startsWith("dunning"))).toHaveLength(7);
  });

  it("a customer who cancels during dunning gets no further reminders", async () => {
    await subscriber("cus_quit", T0 - 90 * DAY);
    await failedPayment("cus_quit", "inv_5", T0);
    await tick(T0 + MINUTE);
    await events(["subscription.canceled", "cus_quit", T0 + DAY, { reason: "too_expensive" }]);
    const report = await tick(T0 + 3 * DAY + MINUTE);
    expect(report.dunning.canceled).toBe(1);
    expect(await stepsOf("cus_quit")).toEqual(["dunning/standard/day-0"]);
  });
});

describe("cost", () => {
  it("a tick reads only customers with something due, not every customer", async () => {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
       INSERT INTO customers (id, status, plan, signed_up_at, last_active_at, first_seen_at, last_event_at)
       SELECT printf('cus_quiet_%04d', i), 'active', 'pro', ?1 - 400 * 86400000, ?1 - (i % 3) * 86400000, ?1 - 400 * 86400000, ?1 FROM n`,
    )
      .bind(T0)
      .run();
    await subscriber("cus_due", T0 - 90 * DAY);
    await failedPayment("cus_due", "inv_c", T0);
    const report = await tick(T0 + MINUTE);
    expect(report.dunning.opened).toBe(1);
    expect(report.rows_read).toBeLessThan(100);
  });
});

describe("a final action that emits a webhook", () => {
  it("sends a webhook-channel message for the case besides the closing email", async () => {
    const ir = structuredClone(deployedIr) as RulesetIR;
    ir.dunning[0]!.final.actions = ["cancel", "webhook"];
    const rules = loadRuleset({ ...ir, version: `${ir.version}+webhook` });
    await subscriber("cus_hook", T0 - 90 * DAY);
    await failedPayment("cus_hook", "inv_h", T0);
    await runTick(env, T0 + MINUTE, { ruleset: rules });
    await runTick(env, T0 + 30 * DAY + MINUTE, { ruleset: rules });
    const finals = (await sendsOf("cus_hook")).filter((send) => send.step.startsWith("final"));
    expect(finals.map((send) => [send.step, send.channel, send.message_key])).toEqual([
      ["final", "outbox", "dunning_closed"],
      ["final-webhook", "webhook", "dunning_closed"],
    ]);
    expect(JSON.parse(finals[1]!.variables)).toMatchObject({ event: "dunning.final", invoice_id: "inv_h" });
    expect(await dunningCase("cus_hook")).toMatchObject({
      status: "final",
      final_actions: '["cancel","webhook"]',
    });
  });
});

describe("card expiry", () => {
  it("reminds 30 and 7 days before the card expires, once each", async () => {
    const expires = T0 + 40 * DAY;
    await subscriber("cus_card", T0 - 90 * DAY);
    await events(["card.expiring", "cus_card", T0, { expires_at: new Date(expires).toISOString() }]);
    await tick(T0 + MINUTE);
    expect(await stepsOf("cus_card")).toEqual([]);
    for (let day = 5; day <= 40; day += 1) await tick(T0 + day * DAY + MINUTE);
    expect(await stepsOf("cus_card")).toEqual([
      "card_expiry/card_expiry/30d-before",
      "card_expiry/card_expiry/7d-before",
    ]);
  });
});
