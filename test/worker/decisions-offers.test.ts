// Stable answers, accept and decline: an offer stays the same until it expires or the customer
// answers; accepting records a redemption once; the clock decides what "expired" means.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  at,
  decide,
  offeredIds,
  payingCustomer,
  respond,
  storedDecisions,
  useDecisionKeys,
} from "./decision-fixtures";
import { call } from "./helpers";

const keys = useDecisionKeys();

/** A customer with an outstanding $10-off offer made at T0 (expires at T0 + 14 days). */
async function offered(name: string) {
  const id = offeredIds(name, 1)[0]!;
  await payingCustomer(keys.writer, id, { ltv: 20_000, mrr: 4_900 });
  const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
  expect(body.offer.key).toBe("price_everyone_else");
  return { id, decision: body };
}

describe("stable answers", () => {
  it("returns the same decision (same id, same expiry) while the offer is outstanding", async () => {
    const { id, decision } = await offered("stable");
    for (const [days, context] of [
      [1, "cancel_flow"],
      [13.9, "in_app"],
    ] as const) {
      const again = await decide(id, context, { key: keys.admin, now: at(days), reason: "too_expensive" });
      expect(again.body).toMatchObject({
        decision_id: decision.decision_id,
        reused: true,
        status: "outstanding",
        offer: { expires_at: decision.offer.expires_at, key: "price_everyone_else" },
      });
      // Asking again writes nothing and reads the outstanding offer and what the withdrawal check
      // needs (redemptions, cancellations), not the offer history or the events
      // (decisions-withdrawal.test.ts shows that a long history does not add to it).
      expect(again.body.meta.rows_written).toBe(0);
      expect(again.body.meta.rows_read).toBeLessThanOrEqual(5);
    }
    expect(await storedDecisions(id)).toBe(1);
  });

  it("decides anew once the offer has expired, and marks the old one expired", async () => {
    const { id, decision } = await offered("lapse");
    const later = await decide(id, "cancel_flow", { key: keys.admin, now: at(14), reason: "too_expensive" });
    expect(later.body.decision_id).not.toBe(decision.decision_id);
    expect(later.body.reused).toBe(false);
    // The expired offer still counts: price_everyone_else is capped at one per 180 days.
    expect(later.body).toMatchObject({ offer: null, reason_code: "capped" });
    const old = await call(`/v1/decisions/${decision.decision_id}`, { key: keys.reader });
    expect(old.body.status).toBe("expired");
    const row = await env.DB.prepare("SELECT status FROM decisions WHERE id = ?")
      .bind(decision.decision_id)
      .first("status");
    expect(row).toBe("expired");
  });
});

describe("accepting an offer", () => {
  it("records one redemption with the offer's cost and is idempotent", async () => {
    const { decision } = await offered("accept");
    const first = await respond(decision.decision_id, "accept", keys.admin, at(2));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      decision_id: decision.decision_id,
      status: "accepted",
      responded_at: at(2),
      redemption: {
        offer_key: "price_everyone_else",
        cost: { amount: 1000, currency: "USD" },
        redeemed_at: at(2),
      },
    });
    const second = await respond(decision.decision_id, "accept", keys.admin, at(3));
    expect(second.status).toBe(200);
    expect(second.body.redemption).toEqual(first.body.redemption);
    expect(second.body.responded_at).toBe(at(2));
    // Still the same answer after the offer's expiry: it was accepted in time.
    expect((await respond(decision.decision_id, "accept", keys.admin, at(30))).status).toBe(200);
    const redemptions = await env.DB.prepare("SELECT cost, currency FROM redemptions WHERE decision_id = ?")
      .bind(decision.decision_id)
      .all();
    expect(redemptions.results).toEqual([{ cost: 1000, currency: "USD" }]);
    // Reading the decision back shows the same redemption, and where the decision came from.
    const stored = await call(`/v1/decisions/${decision.decision_id}`, { key: keys.admin });
    expect(stored.body).toMatchObject({
      status: "accepted",
      source: "api",
      redemption: first.body.redemption,
    });
    expect(first.body.source).toBe("api");
  });

  it("works with the app's decisions:read key and the request's own time", async () => {
    const { decision } = await offered("reader-accept");
    // The offer was made at T0 (March 2026) and expires 14 days later: in the real present it has
    // long expired, which is what the app would be told.
    const live = await call(`/v1/offers/${decision.decision_id}/accept`, {
      key: keys.reader,
      method: "POST",
    });
    expect(Date.now()).toBeGreaterThan(Date.parse(decision.offer.expires_at));
    expect(live.status).toBe(410);
    expect(live.body.error.code).toBe("offer_expired");
  });

  it("answers 410 offer_expired after expires_at, and the offer cannot be redeemed", async () => {
    const { decision } = await offered("late");
    const late = await respond(decision.decision_id, "accept", keys.admin, decision.offer.expires_at);
    expect(late.status).toBe(410);
    expect(late.body.error).toMatchObject({ code: "offer_expired" });
    expect(late.body.error.message).toContain(decision.offer.expires_at);
    const n = await env.DB.prepare("SELECT count(*) AS n FROM redemptions WHERE decision_id = ?")
      .bind(decision.decision_id)
      .first("n");
    expect(n).toBe(0);
  });

  it("refuses to accept a declined offer (409 offer_declined), and declining is idempotent", async () => {
    const { decision } = await offered("decline");
    const declined = await respond(decision.decision_id, "decline", keys.admin, at(1));
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: "declined", responded_at: at(1) });
    expect((await respond(decision.decision_id, "decline", keys.admin, at(2))).body.responded_at).toBe(at(1));
    const accept = await respond(decision.decision_id, "accept", keys.admin, at(2));
    expect(accept.status).toBe(409);
    expect(accept.body.error.code).toBe("offer_declined");
  });

  it("refuses to decline an accepted offer (409 offer_accepted)", async () => {
    const { decision } = await offered("accept-then-decline");
    expect((await respond(decision.decision_id, "accept", keys.admin, at(1))).status).toBe(200);
    const decline = await respond(decision.decision_id, "decline", keys.admin, at(2));
    expect(decline.status).toBe(409);
    expect(decline.body.error.code).toBe("offer_accepted");
  });

  it("lets only one of a concurrent accept and decline win", async () => {
    const { decision } = await offered("race");
    const [accept, decline] = await Promise.all([
      respond(decision.decision_id, "accept", keys.admin, at(1)),
      respond(decision.decision_id, "decline", keys.admin, at(1)),
    ]);
    expect([accept.status, decline.status].sort()).toEqual([200, 409]);
  });

  it("answers 409 no_offer for a decision that gave none, 404 for an unknown one", async () => {
    await payingCustomer(keys.writer, "none-1", { ltv: 5_000, mrr: 900, plan: "starter" });
    const { body } = await decide("none-1", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    const accept = await respond(body.decision_id, "accept", keys.admin);
    expect(accept.status).toBe(409);
    expect(accept.body.error.code).toBe("no_offer");
    for (const id of ["dec_0000000000000000000000000000", "not-a-decision"]) {
      const missing = await respond(id, "accept", keys.admin);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("decision_not_found");
    }
  });

  it("frees the customer for a new decision once the offer is answered", async () => {
    const { id, decision } = await offered("answered");
    await respond(decision.decision_id, "decline", keys.admin, at(1));
    const again = await decide(id, "cancel_flow", { key: keys.admin, now: at(2), reason: "too_expensive" });
    expect(again.body.decision_id).not.toBe(decision.decision_id);
    // A declined offer still counts toward the offer's cap of one per 180 days.
    expect(again.body.reason_code).toBe("capped");
  });
});
