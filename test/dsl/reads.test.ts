// What each offer, segment and programme reads, computed once when a ruleset is loaded
// (`ruleset.reads`): the Worker plans its D1 reads from these instead of walking rules itself.
import { describe, expect, it } from "vitest";
import { loadRules } from "../../dsl/cli/load-rules";
import { checkRuleset } from "../../dsl/rules/check";
import { loadRuleset, type Ruleset } from "../../dsl/runtime/ruleset";

const DAY = 86_400_000;

function shipped(): Ruleset {
  const loaded = loadRules("rules");
  expect(loaded.diagnostics).toEqual([]);
  return loaded.ruleset!;
}

function ruleset(text: string): Ruleset {
  const result = checkRuleset([{ path: "rules/test.yaml", text }]);
  expect(result.diagnostics).toEqual([]);
  return loadRuleset(JSON.parse(JSON.stringify(result.ruleset)));
}

describe("what the shipped rules read", () => {
  const { reads } = shipped();

  it("follows an offer's segments transitively, through `segment:` and through its `when`", () => {
    expect(reads.offers.get("price_high_value")).toEqual({
      fields: ["aov", "ltv", "referrals"],
      attributes: [],
      events: {},
      eventTypes: [],
      eventWindowMs: 0,
      segments: ["high_value"],
    });
    // `not low_value`, and low_value builds on high_value.
    expect(reads.offers.get("price_everyone_else")).toMatchObject({
      fields: ["aov", "ltv", "mrr", "referrals"],
      segments: ["high_value", "low_value"],
      eventTypes: [],
    });
    expect(reads.offers.get("missing_features_unlock")).toMatchObject({ fields: ["plan"], segments: [] });
    expect(reads.offers.get("hard_to_use_session")).toMatchObject({
      fields: [],
      segments: [],
      eventTypes: [],
    });
  });

  it("lists the event types an offer aggregates, through its segments, with the longest window", () => {
    expect(reads.offers.get("competitor_switch")).toMatchObject({
      segments: ["engaged", "high_value"],
      events: { activity: 30 * DAY },
      eventTypes: ["activity"],
      eventWindowMs: 30 * DAY,
    });
    expect(reads.offers.get("fading_points")).toMatchObject({
      fields: ["ltv", "open_tickets", "status"],
      segments: ["fading"],
      events: { activity: 30 * DAY },
    });
  });

  it("reads segments and programmes the same way", () => {
    expect(reads.segments.get("low_value")).toMatchObject({
      fields: ["aov", "ltv", "mrr", "referrals"],
      segments: ["high_value"],
    });
    expect(reads.segments.get("recently_canceled")).toMatchObject({
      fields: ["canceled_at", "status"],
      segments: [],
    });
    expect(reads.campaigns.get("spring_winback")).toMatchObject({
      fields: ["canceled_at", "churn_reason", "status"],
      eventTypes: [],
    });
    expect(reads.inactivity.get("high_value_quiet_month")).toMatchObject({ segments: ["high_value"] });
    expect(reads.inactivity.get("starter_quiet_week")).toMatchObject({ fields: [], segments: [] });
  });

  it("plans a decision's events from every offer and segment, and a lifecycle scan's from its conditions", () => {
    expect(reads.decision.eventTypes).toEqual(["activity"]);
    expect(reads.decision.eventWindowMs).toBe(30 * DAY);
    // The inactivity rule's segment, high_value, counts no events: a lifecycle scan reads none.
    expect(reads.lifecycle).toMatchObject({ segments: ["high_value"], eventTypes: [] });
    expect(reads.all.eventTypes).toEqual(["activity"]);
  });
});

describe("reads of conditions with custom attributes and all-time aggregates", () => {
  const { reads } = ruleset(`
settings: { currency: USD, default_timezone: Europe/Berlin }
fields:
  seats: { type: number }
segments:
  big_team: seats >= 10 and count(activity, 7d) > 1
  promoter: last(nps.submitted.score) >= 9 and count(activity, 90d) > 3
rewards:
  twenty: { amount_off: $20, expires_after: 14d }
messages:
  price: { body: "Hello" }
offers:
  - key: team
    reasons: [too_expensive]
    segment: big_team
    when: sum(order.completed.amount, 60d) >= $100
    reward: twenty
    message: price
  - key: fans
    when: promoter and ltv >= $10
    reward: twenty
    message: price
winback:
  - key: lapsed
    reasons: [too_expensive]
    when: count(order.completed) >= 1
    steps: [{ day: 7, message: price }]
`);

  it("tells custom attributes from built-in fields", () => {
    expect(reads.offers.get("team")).toMatchObject({
      fields: [],
      attributes: ["seats"],
      segments: ["big_team"],
    });
    expect(reads.offers.get("fans")).toMatchObject({ fields: ["ltv"], attributes: [] });
  });

  it("keeps the longest window per event type, and null for one read over all time", () => {
    expect(reads.offers.get("team")).toMatchObject({
      events: { activity: 7 * DAY, "order.completed": 60 * DAY },
      eventWindowMs: 60 * DAY,
    });
    expect(reads.offers.get("fans")).toMatchObject({
      events: { activity: 90 * DAY, "nps.submitted": null },
      eventTypes: ["activity", "nps.submitted"],
      eventWindowMs: null,
    });
    expect(reads.decision.events).toEqual({
      activity: 90 * DAY,
      "nps.submitted": null,
      "order.completed": 60 * DAY,
    });
    expect(reads.winback.get("lapsed")).toMatchObject({
      events: { "order.completed": null },
      eventWindowMs: null,
    });
    expect(reads.lifecycle.eventTypes).toEqual(["order.completed"]);
    expect(reads.cardExpiry.eventTypes).toEqual([]);
  });
});
