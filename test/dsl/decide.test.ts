// Decisions and programmes on small inline rulesets: the order of evaluation, traces with actual
// values, expiry from the request time, message rendering and the scheduled programmes' positions.
import { describe, expect, it } from "vitest";
import type { EvalContext } from "../../dsl/expr/types";
import { checkRuleset } from "../../dsl/rules/check";
import { decideOffer } from "../../dsl/runtime/decide";
import { describeReward, renderMessage, rewardCost, rewardJson } from "../../dsl/runtime/messages";
import {
  campaignAssignment,
  campaignStepTimes,
  cardRemindersDue,
  dunningPosition,
  frequencyCapAllows,
} from "../../dsl/runtime/programmes";
import { loadRuleset, type Ruleset, segmentsOf } from "../../dsl/runtime/ruleset";

const DAY = 86_400_000;
const NOW = Date.parse("2026-03-03T15:00:00Z");

function ruleset(text: string): Ruleset {
  const result = checkRuleset([{ path: "rules/test.yaml", text }]);
  expect(result.diagnostics).toEqual([]);
  return loadRuleset(JSON.parse(JSON.stringify(result.ruleset)));
}

function ctx(customer: Record<string, unknown>, events: EvalContext["events"] = []): EvalContext {
  return {
    now: NOW,
    customer: { id: "cus_1", status: "active", currency: "USD", attributes: {}, ...customer },
    events,
  };
}

const BASE = `
settings: { currency: USD, default_timezone: Europe/Berlin }
segments:
  vip: ltv >= $500
rewards:
  twenty: { amount_off: $20, expires_after: 14d }
  half: { percent_off: 50, for_months: 3, expires_after: 7d }
  session: { consultation: 45m, expires_after: 30d }
messages:
  price: { subject: "{{ offer_amount }} for {{ first_name | default: \\"you\\" }}", body: "Until {{ offer_expires_at }}" }
  pay: { body: "Card {{ card_last4 }}: {{ update_url }} ({{ failed_amount }})" }
  expiring: { body: "Expires {{ card_expires_at }}" }
offers:
  - key: low
    priority: 1
    reasons: [too_expensive]
    reward: half
    message: price
  - key: vip_price
    priority: 10
    reasons: [too_expensive]
    segment: vip
    when: days_since(signed_up_at) >= 30
    reward: twenty
    message: price
  - key: help
    reasons: [hard_to_use]
    contexts: [cancel_flow]
    reward: session
    message: price
dunning:
  - key: standard
    steps: [{ day: 0, message: pay }, { day: 3, message: pay }]
    final: { day: 10, action: [cancel, webhook], message: pay }
card_expiry: { days_before: [30, 7], message: expiring }
frequency_caps:
  marketing: { max: 2, per: 7d }
`;

describe("offer decisions", () => {
  const rules = ruleset(BASE);

  it("takes the highest priority offer that matches, with expiry from the request time", () => {
    const decision = decideOffer(rules, ctx({ ltv: 90000, signed_up_at: NOW - 90 * DAY }), {
      context: "cancel_flow",
      reason: "too_expensive",
      explain: true,
    });
    expect(decision.reasonCode).toBe("offered");
    expect(decision.offer?.key).toBe("vip_price");
    expect(decision.offer?.expiresAt).toBe(NOW + 14 * DAY);
    expect(decision.trace.map((t) => [t.offer, t.outcome])).toEqual([
      ["vip_price", "chosen"],
      ["low", "not_evaluated"],
      ["help", "not_evaluated"],
    ]);
    expect(decision.rulesetVersion).toBe(rules.version);
  });

  it("explains the first failing condition with the values it read", () => {
    const decision = decideOffer(rules, ctx({ ltv: 90000, signed_up_at: NOW - 10 * DAY }), {
      context: "cancel_flow",
      reason: "too_expensive",
      explain: true,
    });
    expect(decision.offer?.key).toBe("low");
    const vip = decision.trace[0]!;
    expect(vip.outcome).toBe("condition_failed");
    expect(vip.condition?.failure?.text).toBe("days_since(signed_up_at) >= 30");
    expect(vip.condition?.failure?.values).toEqual([{ expression: "days_since(signed_up_at)", value: "10" }]);
  });

  it("says every matching offer was limited when more than one was, naming each", () => {
    const limitedRules = ruleset(
      BASE.replace("    reward: half\n", "    reward: half\n    cap: { max: 1, per: 90d }\n").replace(
        "    reward: twenty\n",
        "    reward: twenty\n    cooldown: 60d\n",
      ),
    );
    const history = {
      offers: [
        { offerKey: "vip_price", rewardKind: "amount_off", at: NOW - 40 * DAY },
        { offerKey: "low", rewardKind: "percent_off", at: NOW - 50 * DAY },
      ],
    };
    const decision = decideOffer(limitedRules, ctx({ ltv: 90000, signed_up_at: NOW - 90 * DAY }), {
      context: "cancel_flow",
      reason: "too_expensive",
      history,
    });
    expect(decision.offer).toBeNull();
    expect(decision.reasonCode).toBe("cooldown");
    expect(decision.why).toBe(
      "every matching offer was limited: vip_price given less than 60d ago; low already given 1 time(s) within 90d",
    );
    const one = decideOffer(limitedRules, ctx({ ltv: 100, signed_up_at: NOW - 90 * DAY }), {
      context: "cancel_flow",
      reason: "too_expensive",
      history,
    });
    expect(one.why).toBe("the only matching offer was limited: already given 1 time(s) within 90d");
  });

  it("uses the reason passed in the cancel flow over the profile's churn reason", () => {
    const decision = decideOffer(rules, ctx({ churn_reason: "too_expensive" }), {
      context: "cancel_flow",
      reason: "hard_to_use",
    });
    expect(decision.offer?.key).toBe("help");
    expect(decision.reason).toBe("hard_to_use");
  });

  it("never offers an amount in another currency than the customer pays in", () => {
    const rules = ruleset(`
settings: { currency: USD, default_timezone: Europe/Berlin }
rewards:
  ten: { amount_off: $10, expires_after: 14d }
  half: { percent_off: 50, expires_after: 7d }
messages:
  price: { body: "{{ offer_amount }} off" }
offers:
  - { key: flat, priority: 10, reasons: [too_expensive], reward: ten, message: price }
  - { key: percent, priority: 1, reasons: [too_expensive], reward: half, message: price }
`);
    const ask = { context: "cancel_flow", reason: "too_expensive" } as const;
    const pound = decideOffer(rules, ctx({ currency: "GBP" }), { ...ask, explain: true });
    expect(pound.offer?.key).toBe("percent");
    expect(pound.trace[0]).toMatchObject({ offer: "flat", outcome: "currency_mismatch" });
    expect(decideOffer(rules, ctx({ currency: "USD" }), ask).offer?.key).toBe("flat");
    // A lead who never paid has no currency yet: nothing to mismatch.
    expect(decideOffer(rules, ctx({ currency: null }), ask).offer?.key).toBe("flat");
    // With only the amount offer, why says it was the currency, not that nothing matched.
    const onlyFlat = decideOffer(rules, ctx({ currency: "GBP" }), { ...ask, only: ["flat"] });
    expect(onlyFlat.reasonCode).toBe("no_matching_rule");
    expect(onlyFlat.why).toBe(
      "no offer matches in context `cancel_flow` for reason `too_expensive`; flat would match, but reward ten is in USD; the customer pays in GBP, for which it lists no amount and settings.exchange_rates has no rate",
    );
  });

  it("respects contexts", () => {
    const decision = decideOffer(rules, ctx({}), { context: "in_app", reason: "hard_to_use", explain: true });
    expect(decision.reasonCode).toBe("no_matching_rule");
    expect(decision.trace.find((t) => t.offer === "help")?.outcome).toBe("not_in_context");
  });

  it("answers a customer with no reason and no matching offer with no_matching_rule", () => {
    expect(decideOffer(rules, ctx({}), { context: "winback" }).reasonCode).toBe("no_matching_rule");
  });

  it("can be restricted to one offer (a campaign step naming it)", () => {
    const decision = decideOffer(rules, ctx({ ltv: 90000, signed_up_at: NOW - 90 * DAY }), {
      context: "winback",
      reason: "too_expensive",
      only: ["low"],
      explain: true,
    });
    expect(decision.offer?.key).toBe("low");
    expect(decision.trace.map((t) => t.offer)).toEqual(["low"]);
  });
});

describe("caps and cooldowns scoped to reward kinds", () => {
  const MONEY = "[amount_off, percent_off, months_off, credit]";
  const scoped = (policy: string) =>
    ruleset(`
settings: { currency: USD, default_timezone: Europe/Berlin }
rewards:
  twenty: { amount_off: $20, expires_after: 14d }
  points: { bonus_points: 500, expires_after: 60d }
  session: { consultation: 45m, expires_after: 30d }
messages:
  note: { body: "An offer for you" }
offers:
  - { key: price, priority: 10, reasons: [too_expensive], reward: twenty, message: note }
  - { key: nudge, priority: 5, contexts: [in_app], reward: points, message: note }
  - { key: session_only, priority: 2, reasons: [hard_to_use], reward: session, message: note }
  - key: session_or_discount
    priority: 1
    reasons: [hard_to_use]
    reward: session
    message: note
    experiment:
      variants:
        - { key: session, weight: 1 }
        - { key: discount, weight: 1, reward: twenty }
offer_policy:
${policy}
`);
  const cancelFlow = { context: "cancel_flow", reason: "too_expensive" } as const;
  const past = (offerKey: string, rewardKind: string | null, daysAgo: number) => ({
    offerKey,
    rewardKind,
    at: NOW - daysAgo * DAY,
  });

  describe("a cooldown on money rewards", () => {
    const rules = scoped(`  cooldown: { for: 30d, reward_kinds: ${MONEY} }`);

    it("is read into the IR with its kinds", () => {
      expect(rules.offerPolicy.cooldown).toEqual({
        forMs: 30 * DAY,
        rewardKinds: ["amount_off", "percent_off", "months_off", "credit"],
      });
    });

    it("ignores a declined points offer: the cancel flow still gets the save offer", () => {
      const decision = decideOffer(rules, ctx({}), {
        ...cancelFlow,
        history: { offers: [past("nudge", "bonus_points", 10)] },
      });
      expect(decision.reasonCode).toBe("offered");
      expect(decision.offer?.key).toBe("price");
    });

    it("blocks a money offer after a money offer, saying what it limits", () => {
      const decision = decideOffer(rules, ctx({}), {
        ...cancelFlow,
        history: { offers: [past("price", "amount_off", 10)] },
        explain: true,
      });
      expect(decision.reasonCode).toBe("cooldown");
      expect(decision.offer).toBeNull();
      expect(decision.why).toBe(
        "the only matching offer was limited: an amount_off, percent_off, months_off or credit offer was given less than 30d ago",
      );
      expect(decision.trace[0]).toMatchObject({
        offer: "price",
        outcome: "cooldown",
        detail: "an amount_off, percent_off, months_off or credit offer was given less than 30d ago",
      });
    });

    it("passes the ask on to a lesser offer of another kind, as an offer's own cooldown would", () => {
      const withFallback = ruleset(`
settings: { currency: USD, default_timezone: Europe/Berlin }
rewards:
  twenty: { amount_off: $20, expires_after: 14d }
  points: { bonus_points: 500, expires_after: 60d }
messages:
  note: { body: "An offer for you" }
offers:
  - { key: price, priority: 10, reasons: [too_expensive], reward: twenty, message: note }
  - { key: price_points, priority: 5, reasons: [too_expensive], reward: points, message: note }
offer_policy:
  cooldown: { for: 30d, reward_kinds: ${MONEY} }
`);
      const history = { offers: [past("price", "amount_off", 10)] };
      const decision = decideOffer(withFallback, ctx({}), { ...cancelFlow, history, explain: true });
      expect(decision.offer?.key).toBe("price_points");
      expect(decision.trace.map((entry) => [entry.offer, entry.outcome])).toEqual([
        ["price", "cooldown"],
        ["price_points", "chosen"],
      ]);
      // Without the discount in the window, the discount answers first.
      expect(decideOffer(withFallback, ctx({}), { ...cancelFlow }).offer?.key).toBe("price");
    });

    it("does not limit an offer whose rewards are all out of scope", () => {
      const history = { offers: [past("price", "amount_off", 10)] };
      const nudge = decideOffer(rules, ctx({}), { context: "in_app", history });
      expect(nudge.offer?.key).toBe("nudge");
      const session = decideOffer(rules, ctx({}), {
        context: "cancel_flow",
        reason: "hard_to_use",
        history,
        only: ["session_only"],
      });
      expect(session.offer?.key).toBe("session_only");
    });

    it("limits an offer when any experiment variant may give a reward in scope", () => {
      const decision = decideOffer(rules, ctx({}), {
        context: "cancel_flow",
        reason: "hard_to_use",
        history: { offers: [past("price", "amount_off", 10)] },
        only: ["session_or_discount"],
      });
      expect(decision.reasonCode).toBe("cooldown");
    });

    it("counts a past offer of unknown kind, and none older than the window", () => {
      const unknown = decideOffer(rules, ctx({}), {
        ...cancelFlow,
        history: { offers: [past("retired_offer", null, 10)] },
      });
      expect(unknown.reasonCode).toBe("cooldown");
      const old = decideOffer(rules, ctx({}), {
        ...cancelFlow,
        history: { offers: [past("price", "amount_off", 31)] },
      });
      expect(old.offer?.key).toBe("price");
    });
  });

  describe("a cap on money rewards", () => {
    const rules = scoped(`  cap: { max: 2, per: 365d, reward_kinds: [amount_off, credit] }`);

    it("counts only offers of its kinds", () => {
      const pointsAndOne = decideOffer(rules, ctx({}), {
        ...cancelFlow,
        history: {
          offers: [
            past("nudge", "bonus_points", 100),
            past("nudge", "bonus_points", 50),
            past("price", "credit", 200),
          ],
        },
      });
      expect(pointsAndOne.offer?.key).toBe("price");
      const two = decideOffer(rules, ctx({}), {
        ...cancelFlow,
        history: { offers: [past("price", "amount_off", 100), past("other", "credit", 200)] },
      });
      expect(two.reasonCode).toBe("capped");
      expect(two.why).toBe(
        "the only matching offer was limited: already given 2 amount_off or credit offer(s) within 365d",
      );
    });

    it("does not limit an out-of-scope offer, and counts unknown kinds", () => {
      const history = { offers: [past("price", "amount_off", 100), past("retired_offer", null, 200)] };
      expect(decideOffer(rules, ctx({}), { context: "in_app", history }).offer?.key).toBe("nudge");
      expect(decideOffer(rules, ctx({}), { ...cancelFlow, history }).reasonCode).toBe("capped");
    });
  });

  describe("the plain forms limit every kind, as before", () => {
    const rules = scoped("  cap: { max: 2, per: 365d }\n  cooldown: 30d");

    it("reads no kinds", () => {
      expect(rules.offerPolicy.cap).toEqual({ max: 2, perMs: 365 * DAY, rewardKinds: null });
      expect(rules.offerPolicy.cooldown).toEqual({ forMs: 30 * DAY, rewardKinds: null });
    });

    it("lets a points offer block the save offer, and count toward the cap", () => {
      const cooled = decideOffer(rules, ctx({}), {
        ...cancelFlow,
        history: { offers: [past("nudge", "bonus_points", 10)] },
      });
      expect(cooled.reasonCode).toBe("cooldown");
      expect(cooled.why).toBe("an offer was given less than 30d ago");
      const capped = decideOffer(rules, ctx({}), {
        context: "in_app",
        history: { offers: [past("nudge", "bonus_points", 100), past("price", "amount_off", 200)] },
      });
      expect(capped.reasonCode).toBe("capped");
      expect(capped.why).toBe("already given 2 offer(s) within 365d");
    });
  });
});

describe("rewards and messages", () => {
  const rules = ruleset(BASE);

  it("describes and prices rewards", () => {
    expect(describeReward(rules.rewards.get("twenty")!)).toBe("$20 off");
    expect(describeReward(rules.rewards.get("half")!)).toBe("50% off for 3 months");
    expect(describeReward(rules.rewards.get("session")!)).toBe("a free 45-minute session with an expert");
    expect(rewardCost(rules.rewards.get("half")!, { mrr: 4900, currency: "USD" })).toEqual({
      amount: 7350,
      currency: "USD",
    });
    expect(rewardJson(rules.rewards.get("twenty")!)).toMatchObject({
      type: "amount_off",
      amount: 2000,
      currency: "USD",
    });
  });

  it("renders an offer message in the customer's time zone", () => {
    const context = ctx({
      ltv: 90000,
      signed_up_at: NOW - 90 * DAY,
      first_name: "Ada",
      timezone: "Pacific/Auckland",
    });
    const decision = decideOffer(rules, context, { context: "cancel_flow", reason: "too_expensive" });
    const rendered = renderMessage(rules, decision.offer!.message, {
      customer: context.customer,
      companyName: "Acme",
      offer: decision.offer,
    });
    expect(rendered.subject).toBe("$20 off for Ada");
    expect(rendered.body).toBe("Until March 18, 2026");
  });

  it("renders the decision id into an offer message, for the link that accepts it", () => {
    const linked = ruleset(
      BASE.replace(
        'body: "Until {{ offer_expires_at }}"',
        'body: "https://app.example/offers/{{ decision_id }}"',
      ),
    );
    const context = ctx({ ltv: 90000, signed_up_at: NOW - 90 * DAY });
    const decision = decideOffer(linked, context, { context: "cancel_flow", reason: "too_expensive" });
    const rendered = renderMessage(linked, decision.offer!.message, {
      customer: context.customer,
      companyName: "Acme",
      offer: decision.offer,
      decisionId: "dec_019cb4c1a2c0f3a1c9e07b6d2e11",
    });
    expect(rendered.body).toBe("https://app.example/offers/dec_019cb4c1a2c0f3a1c9e07b6d2e11");
  });

  it("renders dunning variables and falls back to the default zone for a junk profile zone", () => {
    const customer = {
      card_last4: "4242",
      update_url: "https://pay.example/u",
      failed_amount: 4900,
      currency: "USD",
      timezone: "Not/AZone",
      card_expires_at: NOW + 5 * DAY,
    };
    expect(renderMessage(rules, "pay", { customer, companyName: "Acme" }).body).toBe(
      "Card 4242: https://pay.example/u ($49)",
    );
    expect(renderMessage(rules, "expiring", { customer, companyName: "Acme" }).body).toBe(
      "Expires March 8, 2026",
    );
  });
});

describe("scheduled programmes", () => {
  const rules = ruleset(BASE);

  it("places a failed payment in its cadence and runs the final action on its day", () => {
    expect(dunningPosition(rules, ctx({}))).toBeNull();
    const day4 = dunningPosition(rules, ctx({ payment_failed_at: NOW - 4 * DAY }))!;
    expect(day4.stepIndex).toBe(1);
    expect(day4.final).toBe(false);
    expect(day4.schedule.map((s) => s.dueAt)).toEqual([NOW - 4 * DAY, NOW - DAY]);
    const day10 = dunningPosition(rules, ctx({ payment_failed_at: NOW - 10 * DAY }))!;
    expect(day10.final).toBe(true);
    expect(day10.cadence.ir.final.actions).toEqual(["cancel", "webhook"]);
  });

  it("reminds before a card expires, each reminder once its day has come", () => {
    expect(cardRemindersDue(rules, ctx({ card_expires_at: NOW + 40 * DAY }))).toEqual([]);
    expect(
      cardRemindersDue(rules, ctx({ card_expires_at: NOW + 20 * DAY })).map((r) => r.daysBefore),
    ).toEqual([30]);
    expect(cardRemindersDue(rules, ctx({ card_expires_at: NOW + 5 * DAY })).map((r) => r.daysBefore)).toEqual(
      [30, 7],
    );
    expect(cardRemindersDue(rules, ctx({ card_expires_at: NOW - DAY }))).toEqual([]);
  });

  it("counts a frequency-cap class's sends in its window", () => {
    expect(frequencyCapAllows(rules, "marketing", [NOW - DAY], NOW)).toBe(true);
    expect(frequencyCapAllows(rules, "marketing", [NOW - DAY, NOW - 2 * DAY], NOW)).toBe(false);
    expect(frequencyCapAllows(rules, "marketing", [NOW - 8 * DAY, NOW - 9 * DAY], NOW)).toBe(true);
    expect(frequencyCapAllows(rules, null, [NOW, NOW, NOW], NOW)).toBe(true);
  });

  it("spaces campaign steps by their delays from the occurrence", () => {
    const steps = [
      { day: null, afterMs: 0, message: "a", offer: null, fallbackMessage: null },
      { day: null, afterMs: 5 * DAY, message: "b", offer: null, fallbackMessage: null },
      { day: null, afterMs: 2 * DAY, message: "c", offer: null, fallbackMessage: null },
    ];
    expect(campaignStepTimes(steps, NOW)).toEqual([NOW, NOW + 5 * DAY, NOW + 7 * DAY]);
  });

  it("lists the segments a customer is in", () => {
    expect(segmentsOf(rules, ctx({ ltv: 50000 }))).toEqual(["vip"]);
    expect(segmentsOf(rules, ctx({}))).toEqual([]);
  });

  it("assigns campaign variants and holdouts the same way every time", () => {
    const pack = checkRuleset([
      {
        path: "c.yaml",
        text: `messages:\n  a: { body: hi }\n  b: { body: hello }\ncampaigns:\n  c:\n    schedule: "0 9 * * MON"\n    timezone: UTC\n    audience: status == "canceled"\n    steps: [{ message: a }]\n    experiment:\n      holdout: 20\n      variants:\n        - { key: x, weight: 1 }\n        - { key: y, weight: 1, steps: [{ message: b }] }\n`,
      },
    ]);
    const campaign = loadRuleset(pack.ruleset!).campaigns.get("c")!;
    const assignments = Array.from({ length: 1000 }, (_, i) => campaignAssignment(campaign, `cus_${i}`));
    const held = assignments.filter((a) => a.holdout);
    expect(held.length).toBeGreaterThan(150);
    expect(held.length).toBeLessThan(250);
    expect(held.every((a) => a.steps.length === 0 && a.variant === null)).toBe(true);
    expect(assignments.filter((a) => a.variant === "y").every((a) => a.steps[0]!.message === "b")).toBe(true);
    expect(campaignAssignment(campaign, "cus_7")).toEqual(assignments[7]);
  });
});
