// The shipped rules' offer_policy caps and cools down money rewards only (amount_off, percent_off,
// months_off, credit): "not too many discounts". A loyalty-points nudge the customer declined in the
// app does not block the save offer the cancel flow makes (issue 15, scenario 3), while a discount
// still holds back the next discount.
import { describe, expect, it } from "vitest";
import { at, decide, offeredIds, payingCustomer, respond, useDecisionKeys } from "./decision-fixtures";
import { call, event, ingest } from "./helpers";

const keys = useDecisionKeys();

/** A Pro customer at $49/month who has paid $600 (high_value), one activity 20 days ago (fading). */
async function quietHighValueCustomer(id: string): Promise<void> {
  await payingCustomer(keys.writer, id, { ltv: 60_000, mrr: 4_900, plan: "pro" });
  await ingest(keys.writer, [event("activity", id, at(-20))]);
}

async function nextOffer(id: string, context: string, now: string) {
  return await call(`/v1/customers/${id}/next-offer?context=${context}`, {
    key: keys.admin,
    headers: { "x-rebound-now": now },
  });
}

describe("caps and cooldowns scoped to money rewards (shipped rules)", () => {
  it("a declined points banner does not block the cancel flow's price save offer", async () => {
    const id = offeredIds("scoped-declined-points", 1)[0]!;
    await quietHighValueCustomer(id);

    const banner = await nextOffer(id, "in_app", at(0));
    expect(banner.status).toBe(200);
    expect(banner.body).toMatchObject({ reason_code: "offered", offer: { key: "fading_points" } });
    expect(banner.body.offer.reward.type).toBe("bonus_points");
    expect((await respond(banner.body.decision_id, "decline", keys.admin, at(0))).status).toBe(200);

    const save = await decide(id, "cancel_flow", { key: keys.admin, now: at(1), reason: "too_expensive" });
    expect(save.status).toBe(200);
    expect(save.body).toMatchObject({
      reason_code: "offered",
      status: "outstanding",
      offer: { key: "price_high_value" },
    });
    expect(["amount_off", "percent_off"]).toContain(save.body.offer.reward.type);
  });

  it("a declined discount still cools down the next discount, saying what it limits", async () => {
    const id = offeredIds("scoped-declined-discount", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 60_000, mrr: 4_900 });
    const credit = await decide(id, "cancel_flow", { key: keys.admin, reason: "technical_issues" });
    expect(credit.body).toMatchObject({ reason_code: "offered", offer: { key: "technical_credit" } });
    expect((await respond(credit.body.decision_id, "decline", keys.admin, at(0))).status).toBe(200);

    const price = await decide(id, "cancel_flow", { key: keys.admin, now: at(10), reason: "too_expensive" });
    expect(price.body).toMatchObject({ offer: null, reason_code: "cooldown" });
    // Both price offers give money, so the cooldown stops each in turn, and says so once.
    expect(price.body.why).toBe(
      "every matching offer was limited: an amount_off, percent_off, months_off or credit offer was given less than 30d ago (price_high_value, price_everyone_else)",
    );
  });
});
