// An app that asks for an offer on every page view: asks that come out with no offer, for the same
// reasons on the same inputs, return the customer's last such decision instead of storing a copy
// each time, while anything that changes the answer still decides and stores anew.
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
import { call, event, ingest } from "./helpers";

const keys = useDecisionKeys();

describe("repeated asks without an offer", () => {
  it("return the same stored decision, write nothing, and say it was reused", async () => {
    await payingCustomer(keys.writer, "poll-closing", { ltv: 500_000 });
    const first = await decide("poll-closing", "cancel_flow", { key: keys.admin, reason: "shutting_down" });
    expect(first.body).toMatchObject({ offer: null, reason_code: "ineligible", reused: false });
    expect(first.body.meta.rows_written).toBeGreaterThan(0);
    for (const days of [0, 0.01, 2]) {
      const again = await decide("poll-closing", "cancel_flow", {
        key: keys.admin,
        now: at(days),
        reason: "shutting_down",
      });
      expect(again.body).toMatchObject({
        decision_id: first.body.decision_id,
        created_at: first.body.created_at,
        offer: null,
        reason_code: "ineligible",
        reused: true,
      });
      expect(again.body.meta.rows_written).toBe(0);
    }
    expect(await storedDecisions("poll-closing")).toBe(1);
  });

  it("are reused across new activity and attributes sent in another order", async () => {
    await payingCustomer(keys.writer, "poll-active", { ltv: 500_000 });
    const ask = (attributes: Record<string, unknown>) =>
      decide("poll-active", "cancel_flow", { key: keys.admin, reason: "shutting_down", attributes });
    const first = await ask({ seats: 4, company_size: "mid" });
    // Logins add events to the decision's read, but the answer and what the rules read are the same.
    await ingest(keys.writer, [
      event("activity", "poll-active", "2026-03-02T10:00:00Z"),
      event("activity", "poll-active", "2026-03-03T09:00:00Z"),
    ]);
    const again = await ask({ company_size: "mid", seats: 4 });
    expect(again.body).toMatchObject({ decision_id: first.body.decision_id, reused: true });
    expect(await storedDecisions("poll-active")).toBe(1);
  });

  it("still explain themselves with ?explain=1", async () => {
    await payingCustomer(keys.writer, "poll-explain", { ltv: 5_000, mrr: 900, plan: "starter" });
    const first = await decide("poll-explain", "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    const again = await decide("poll-explain", "cancel_flow", {
      key: keys.admin,
      reason: "too_expensive",
      explain: true,
    });
    expect(again.body).toMatchObject({ decision_id: first.body.decision_id, reused: true });
    expect(again.body.trace.length).toBeGreaterThan(0);
  });

  it("poll for an unknown customer without growing the table", async () => {
    for (let n = 0; n < 3; n++) {
      const result = await call("/v1/customers/poll-nobody/next-offer?context=in_app", { key: keys.reader });
      expect(result.body).toMatchObject({ offer: null, reason_code: "unknown_customer" });
    }
    expect(await storedDecisions("poll-nobody")).toBe(1);
  });

  it("decide anew when the request, the context or the profile changes the inputs", async () => {
    await payingCustomer(keys.writer, "poll-changes", { ltv: 5_000, mrr: 900, plan: "starter" });
    const ids = new Set<string>();
    const ask = async (context: string, reason?: string) => {
      const { body } = await decide("poll-changes", context, {
        key: keys.admin,
        ...(reason ? { reason } : {}),
      });
      expect(body.offer).toBeNull();
      ids.add(body.decision_id);
      return body;
    };
    await ask("cancel_flow", "too_expensive");
    await ask("cancel_flow", "too_expensive");
    expect(ids.size).toBe(1);
    // Another reason in the cancel flow is another ask.
    await ask("cancel_flow", "technical_issues");
    expect(ids.size).toBe(2);
    // Another context keeps its own last decision.
    await ask("in_app");
    expect(ids.size).toBe(3);
    // Back to the first reason: the last no-offer decision in the cancel flow had another reason.
    await ask("cancel_flow", "too_expensive");
    expect(ids.size).toBe(4);
    // A payment moves the lifetime value the offers read: the inputs differ, so a new decision.
    await ingest(keys.writer, [
      event("payment.succeeded", "poll-changes", "2026-03-02T00:00:00Z", {
        invoice_id: "in_poll_changes_2",
        amount: 1_000,
        currency: "USD",
      }),
    ]);
    const afterPayment = await ask("cancel_flow", "too_expensive");
    expect(ids.size).toBe(5);
    expect(afterPayment.reused).toBe(false);
    expect(await storedDecisions("poll-changes")).toBe(5);
  });

  it("follow the offers in between, and never reuse a decision from a moved clock's future", async () => {
    const id = offeredIds("poll-offer", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000, mrr: 4_900 });
    // Day 0: an offer, declined on the spot. Day 1: that offer's cap says no, asked twice: one row.
    const offered = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(offered.body.offer).not.toBeNull();
    expect((await respond(offered.body.decision_id, "decline", keys.admin, at(0))).status).toBe(200);
    const capped = await decide(id, "cancel_flow", { key: keys.admin, now: at(1), reason: "too_expensive" });
    expect(capped.body).toMatchObject({ reason_code: "capped", reused: false });
    const again = await decide(id, "cancel_flow", { key: keys.admin, now: at(1.5), reason: "too_expensive" });
    expect(again.body).toMatchObject({ decision_id: capped.body.decision_id, reused: true });
    // Asked at an instant before that decision was made: it is in this ask's future, so not reused.
    const earlier = await decide(id, "cancel_flow", {
      key: keys.admin,
      now: at(0.5),
      reason: "too_expensive",
    });
    expect(earlier.body.decision_id).not.toBe(capped.body.decision_id);
    expect(earlier.body.reused).toBe(false);
    expect(await storedDecisions(id)).toBe(3);
  });

  it("are never reused for a campaign, whose sends each cite their own decision", async () => {
    const { decideAndRecord } = await import("../../worker/decisions/decide-and-record");
    await payingCustomer(keys.writer, "poll-campaign", { ltv: 500_000 });
    const { deployedRuleset } = await import("../../worker/deployed-ruleset");
    const ask = () =>
      decideAndRecord(
        env,
        { customerId: "poll-campaign", context: "winback", now: Date.parse(at(3)), source: "campaign" },
        deployedRuleset(),
      );
    const first = await ask();
    const second = await ask();
    expect(first.decision.offer).toBeNull();
    expect(second.outcome).toBe("created");
    expect(second.decision.id).not.toBe(first.decision.id);
  });
});
