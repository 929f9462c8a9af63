// An outstanding offer is a stable answer in every context, except when the customer has since
// become ineligible for any offer: a reason whose rules say no offer, or the anti-abuse guard. Then
// the offer is withdrawn (accepting it is 410) and the ask is decided afresh.
import { describe, expect, it } from "vitest";
import {
  at,
  cancel,
  decide,
  offeredIds,
  payingCustomer,
  respond,
  useDecisionKeys,
} from "./decision-fixtures";
import { call, event, ingest } from "./helpers";

const keys = useDecisionKeys();

describe("an outstanding offer the customer is no longer eligible for", () => {
  it("is withdrawn when the cancel flow's reason gets no offer, and cannot be accepted", async () => {
    const id = offeredIds("withdraw-reason", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 90_000 });
    await cancel(keys.writer, id, "2026-03-01T00:00:00Z", "too_expensive");
    const offered = await decide(id, "winback", { key: keys.admin });
    expect(offered.body).toMatchObject({ reason_code: "offered", status: "outstanding" });

    // In another context, with nothing that refuses every offer: the same decision (stable answers).
    const inApp = await decide(id, "in_app", { key: keys.admin, now: at(1) });
    expect(inApp.body).toMatchObject({ decision_id: offered.body.decision_id, reused: true });

    const closing = await decide(id, "cancel_flow", { key: keys.admin, now: at(2), reason: "shutting_down" });
    expect(closing.body).toMatchObject({
      offer: null,
      reason_code: "ineligible",
      reason: "shutting_down",
      reused: false,
    });
    expect(closing.body.decision_id).not.toBe(offered.body.decision_id);
    expect(closing.body.why).toBe(
      `customers who leave for \`shutting_down\` never get an offer; withdrew offer ${offered.body.decision_id}`,
    );

    const accept = await respond(offered.body.decision_id, "accept", keys.admin, at(2));
    expect(accept.status).toBe(410);
    expect(accept.body.error.code).toBe("offer_withdrawn");
    const decline = await respond(offered.body.decision_id, "decline", keys.admin, at(2));
    expect(decline.status).toBe(410);
    const stored = await call(`/v1/decisions/${offered.body.decision_id}`, { key: keys.admin });
    expect(stored.body).toMatchObject({ status: "withdrawn", offer: { key: offered.body.offer.key } });

    // Taken back unanswered, it counts for no cap or cooldown: a customer who picks "shutting down"
    // by mistake and goes back gets the offer again (the same variant: buckets are stable).
    const back = await decide(id, "cancel_flow", { key: keys.admin, now: at(2), reason: "too_expensive" });
    expect(back.body).toMatchObject({ reason_code: "offered", status: "outstanding", reused: false });
    expect(back.body.offer.key).toBe(offered.body.offer.key);
    expect(back.body.variant).toBe(offered.body.variant);
  });

  it("is withdrawn by the anti-abuse guard when the customer churns again soon after redeeming", async () => {
    const id = offeredIds("withdraw-abuse", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000, mrr: 4_900 });
    // Day 0: an offer in the cancel flow, accepted (a redemption).
    const first = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(first.body.offer.key).toBe("price_everyone_else");
    expect((await respond(first.body.decision_id, "accept", keys.admin, at(0))).status).toBe(200);
    // Day 31: past the 30-day cooldown, the app shows a second offer.
    const second = await decide(id, "in_app", { key: keys.admin, now: at(31), reason: "technical_issues" });
    expect(second.body).toMatchObject({ reason_code: "offered", status: "outstanding" });
    // Day 32: the customer is in the cancel flow again, within 60 days of redeeming: no offer, and
    // the one they hold is taken back rather than handed out as a second redemption.
    const again = await decide(id, "cancel_flow", {
      key: keys.admin,
      now: at(32),
      reason: "technical_issues",
    });
    expect(again.body).toMatchObject({ offer: null, reason_code: "ineligible", reused: false });
    expect(again.body.why).toContain("redeemed an offer and canceled again");
    const accept = await respond(second.body.decision_id, "accept", keys.admin, at(32));
    expect(accept.status).toBe(410);
    expect(accept.body.error.code).toBe("offer_withdrawn");
  });

  it("stays the answer while the customer may still have it, at a read that history does not grow", async () => {
    const repeatAsk = async (id: string) => {
      const offered = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
      // The same moment asked again (an ask for another reason is another moment: superseding is
      // decisions-supersede.test.ts).
      const again = await decide(id, "cancel_flow", { key: keys.admin, now: at(1), reason: "too_expensive" });
      expect(again.body).toMatchObject({ decision_id: offered.body.decision_id, reused: true });
      expect(again.body.meta.rows_written).toBe(0);
      return again.body.meta.rows_read as number;
    };
    const [quiet, busy] = offeredIds("withdraw-stays", 2) as [string, string];
    await payingCustomer(keys.writer, quiet, { ltv: 90_000 });
    await payingCustomer(keys.writer, busy, { ltv: 90_000 });
    await ingest(
      keys.writer,
      Array.from({ length: 40 }, (_, n) =>
        event("activity", busy, new Date(Date.parse(at(-40 + n))).toISOString()),
      ),
    );
    const quietRows = await repeatAsk(quiet);
    // The outstanding offer, the profile, and the redemptions and cancellations the withdrawal
    // check needs (none here): no offer history, no events.
    expect(quietRows).toBeLessThanOrEqual(5);
    expect(await repeatAsk(busy)).toBe(quietRows);
  });
});
