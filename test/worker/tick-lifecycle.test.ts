// Inactivity and win-back on the clock: a nudge once per spell of inactivity (activity starts a new
// spell), and the churn reason's win-back sequence on its days, with its offer a real decision,
// ending at reactivation.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { renderSend } from "../../dsl/runtime/messages";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import {
  at,
  DAY,
  events,
  HOUR,
  isoOf,
  MINUTE,
  resetTick,
  sendsOf,
  stepsOf,
  subscriber,
  tick,
} from "./tick-fixtures";

const T0 = at("2031-05-06T16:00:00Z");

beforeEach(resetTick);

const only = (steps: string[], kind: string) => steps.filter((step) => step.startsWith(`${kind}/`));

describe("inactivity", () => {
  it("nudges once per spell: crossing the threshold sends it, later ticks do not, new activity starts a new spell", async () => {
    await subscriber("cus_idle", T0 - 60 * DAY, { plan: "starter", mrr: 900 });
    await events(["activity", "cus_idle", T0]);

    await tick(T0 + 6 * DAY);
    expect(only(await stepsOf("cus_idle"), "inactivity")).toEqual([]);
    await tick(T0 + 7 * DAY + MINUTE);
    await tick(T0 + 7 * DAY + MINUTE);
    await tick(T0 + 8 * DAY);
    const first = (await sendsOf("cus_idle")).filter((send) => send.programme_kind === "inactivity");
    expect(first.map((send) => [send.programme_key, send.occurrence, send.message_key])).toEqual([
      ["starter_quiet_week", isoOf(T0), "nudge_getting_started"],
    ]);

    await events(["activity", "cus_idle", T0 + 9 * DAY]);
    await tick(T0 + 10 * DAY);
    await tick(T0 + 16 * DAY + MINUTE);
    await tick(T0 + 20 * DAY);
    const all = (await sendsOf("cus_idle")).filter((send) => send.programme_kind === "inactivity");
    expect(all.map((send) => send.occurrence)).toEqual([isoOf(T0), isoOf(T0 + 9 * DAY)]);
  });

  it("does not nudge a plan the rule is not for, nor a customer who canceled", async () => {
    await subscriber("cus_pro", T0 - 60 * DAY, { plan: "pro" });
    await events(["activity", "cus_pro", T0]);
    await subscriber("cus_gone", T0 - 60 * DAY, { plan: "starter", mrr: 900 });
    await events(
      ["activity", "cus_gone", T0],
      ["subscription.canceled", "cus_gone", T0 + DAY, { reason: "unused" }],
    );
    await tick(T0 + 7 * DAY + MINUTE);
    expect(only(await stepsOf("cus_pro"), "inactivity")).toEqual([]);
    expect(only(await stepsOf("cus_gone"), "inactivity")).toEqual([]);
  });
});

describe("win-back", () => {
  it("pages through a cohort larger than a page, ties included, sending each step once", async () => {
    // 450 cancellations at three instants: pages of 200 end inside runs of equal canceled_at.
    const ids = Array.from({ length: 450 }, (_, n) => `cus_cohort_${String(n).padStart(3, "0")}`);
    const canceledAt = (n: number) => T0 + (n % 3) * HOUR;
    for (let start = 0; start < ids.length; start += 150) {
      const batch = ids.slice(start, start + 150);
      await events(
        ...batch.flatMap(
          (id): Parameters<typeof events> => [
            ["subscription.started", id, T0 - 200 * DAY, { plan: "pro", mrr: 4900, currency: "USD" }],
            ["subscription.canceled", id, canceledAt(ids.indexOf(id)), { reason: "too_expensive" }],
          ],
        ),
      );
    }
    await tick(T0 + 7 * DAY + 3 * HOUR);
    const sent = await env.DB.prepare(
      "SELECT customer_id, count(*) AS n FROM sends WHERE programme_kind = 'winback' AND step = 'day-7' GROUP BY customer_id",
    ).all<{ customer_id: string; n: number }>();
    expect(sent.results.length).toBe(ids.length);
    expect(sent.results.every((row) => row.n === 1)).toBe(true);
  });

  it("follows the reason's sequence (day 7, day 30 with an offer) and stops at reactivation", async () => {
    const canceledAt = T0;
    for (const id of ["cus_back", "cus_stays_gone"]) {
      await subscriber(id, T0 - 200 * DAY, { mrr: 4900 });
      await events(["subscription.canceled", id, canceledAt, { reason: "too_expensive" }]);
    }
    await tick(canceledAt + 7 * DAY + MINUTE);
    await tick(canceledAt + 7 * DAY + 2 * MINUTE);
    expect(only(await stepsOf("cus_back"), "winback")).toEqual(["winback/price/day-7"]);

    await tick(canceledAt + 30 * DAY + MINUTE);
    const day30 = (await sendsOf("cus_back")).find((send) => send.step === "day-30")!;
    const variables = JSON.parse(day30.variables) as Record<string, string | null>;
    // The offer in the message is a stored decision, the same record the decision API keeps.
    const decision = await env.DB.prepare("SELECT * FROM decisions WHERE id = ?")
      .bind(variables.decision_id)
      .first<Record<string, unknown>>();
    expect(decision).toMatchObject({
      customer_id: "cus_back",
      context: "winback",
      source: "campaign",
      offer_key: "price_everyone_else",
      status: "outstanding",
    });
    expect(day30.message_key).toBe("winback_offer");
    expect(variables.offer_amount).toBe("$10 off");
    expect(variables.offer_expires_at_iso).toBe(isoOf(Number(decision!.expires_at)));
    // The email names the decision, so the customer's click can accept that very offer.
    const email = renderSend(deployedRuleset(), "winback_offer", { company_name: "Acme", ...variables });
    expect(email?.body).toContain(`Your offer code: ${variables.decision_id}`);

    await events(["subscription.reactivated", "cus_back", canceledAt + 40 * DAY, { plan: "pro", mrr: 4900 }]);
    await tick(canceledAt + 60 * DAY + MINUTE);
    expect(only(await stepsOf("cus_back"), "winback")).toEqual([
      "winback/price/day-7",
      "winback/price/day-30",
    ]);
    expect(only(await stepsOf("cus_stays_gone"), "winback")).toEqual([
      "winback/price/day-7",
      "winback/price/day-30",
      "winback/price/day-60",
    ]);
  });

  it("sends no win-back to a business that shut down", async () => {
    await subscriber("cus_closed", T0 - 200 * DAY);
    await events(["subscription.canceled", "cus_closed", T0, { reason: "shutting_down" }]);
    for (const day of [7, 30, 60]) await tick(T0 + day * DAY + MINUTE);
    expect(only(await stepsOf("cus_closed"), "winback")).toEqual([]);
  });
});
