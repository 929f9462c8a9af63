// Production decisions run the offers' compiled first-match program and build no trace; `explain`
// evaluates offer by offer and records why. Both must give the same answer: every field but the
// trace, including the offers evaluated (what the stored `inputs` record), for random customers,
// histories and asks, on the shipped rules and on generated rule packs with every kind of limit.

import { describe, expect, it } from "vitest";
import { readRuleDirectory } from "../../dsl/cli/rule-files";
import { buildScope, DEFAULT_REASONS, parseFieldType } from "../../dsl/expr/fields";
import { parseExpression } from "../../dsl/expr/parser";
import { checkExpression } from "../../dsl/expr/typecheck";
import type { EvalContext, EventRecord, ExprType, Scope } from "../../dsl/expr/types";
import { checkRuleset } from "../../dsl/rules/check";
import { OFFER_CONTEXTS, type OfferContext } from "../../dsl/rules/ruleset";
import { inHoldout } from "../../dsl/runtime/bucket";
import { decideOffer, type OfferDecision, type OfferRequest, type PastOffer } from "../../dsl/runtime/decide";
import { loadRuleset, type Ruleset } from "../../dsl/runtime/ruleset";
import { prng } from "../prng";
import {
  ExpressionGenerator,
  PLANS,
  Random,
  randomCustomer,
  randomEvents,
} from "../worker/random-expressions";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15, 9, 30);
const REWARD_KINDS = ["amount_off", "percent_off", "months_off", "credit", "bonus_points", "consultation"];

/** Every outcome the suite must have met at least once, so agreement is shown where it is hard. */
const OUTCOMES: Readonly<Record<string, (decision: OfferDecision) => boolean>> = {
  offered: (d) => d.reasonCode === "offered",
  "offered, a variant": (d) => d.reasonCode === "offered" && d.variant !== null,
  holdout: (d) => d.reasonCode === "holdout",
  "ineligible, reason": (d) => d.reasonCode === "ineligible" && d.matched === null,
  "ineligible, anti-abuse": (d) => d.reasonCode === "ineligible" && d.matched !== null,
  "capped by the policy": (d) => d.reasonCode === "capped" && d.why.startsWith("already given"),
  "cooldown of the policy": (d) => d.reasonCode === "cooldown" && d.why.includes("was given less than"),
  "the only matching offer was limited": (d) => d.why.startsWith("the only matching offer was limited"),
  "every matching offer was limited": (d) => d.why.startsWith("every matching offer was limited"),
  "no match, a currency note": (d) =>
    d.reasonCode === "no_matching_rule" && d.why.includes("would match, but"),
  "no match": (d) => d.reasonCode === "no_matching_rule",
};

function declared(text: string): ExprType {
  const type = parseFieldType(text);
  if ("error" in type) throw new Error(type.error);
  return type;
}

const FIELDS: Readonly<Record<string, string>> = {
  seats: "number",
  vip: "boolean",
  company_size: "enum(small, medium, large)",
  renewal_at: "timestamp",
  budget: "money(EUR)",
  trial_length: "duration",
};
const SEGMENTS: Readonly<Record<string, string>> = {
  high_value: "ltv >= $500 or referrals >= 2",
  engaged: "count(activity, 30d) >= 2",
};

// GBP has no rate: a GBP customer still meets offers skipped as `currency_mismatch`.
const EXCHANGE_RATES = { EUR: 1.08, AUD: 0.66, JPY: 0.0067 };

/** The scope the generated packs declare, to keep only the generated conditions that check. */
function generatedScope(): Scope {
  return buildScope({
    defaultCurrency: "USD",
    exchangeRates: EXCHANGE_RATES,
    reasons: DEFAULT_REASONS,
    plans: PLANS,
    customFields: Object.entries(FIELDS).map(([name, type]) => ({ name, type: declared(type) })),
    segments: Object.keys(SEGMENTS).map((name) => ({ name, sqlTranslatable: true })),
  });
}

function someOf<T>(r: Random, items: readonly T[], max: number): T[] {
  const chosen = new Set<T>();
  for (let n = r.int(1, max); n > 0; n--) chosen.add(r.pick(items));
  return [...chosen];
}

/**
 * A random rule pack: offers with and without contexts, reasons, segments and conditions, money
 * rewards in the customer's currency and in others, own caps and cooldowns, experiments with
 * holdouts and variants, and an offer policy whose cap and cooldown are scoped or customer-wide.
 */
function generatedPack(seed: number): Ruleset {
  const r = new Random(prng(seed));
  const scope = generatedScope();
  const expressions = new ExpressionGenerator(r);
  const condition = (): string | null => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const text = expressions.boolean(r.int(0, 2));
      const parsed = parseExpression(text);
      if (parsed.ast && checkExpression(parsed.ast, scope, { kind: "boolean" }).diagnostics.length === 0)
        return text;
    }
    return null;
  };
  const rewards = [
    "  usd_off: { amount_off: $10, expires_after: 14d }",
    "  eur_off: { amount_off: €10, expires_after: 14d }",
    "  gbp_credit: { credit: { GBP: £5 }, expires_after: 30d }",
    "  usd_credit: { credit: $25, expires_after: 30d }",
    "  half: { percent_off: 50, for_months: 3, expires_after: 7d }",
    "  free_month: { months_off: 1, expires_after: 21d }",
    "  points: { bonus_points: 500, expires_after: 60d }",
    "  session: { consultation: 45m, expires_after: 30d }",
  ];
  const rewardKeys = rewards.map((line) => line.trim().split(":")[0]!);
  const offers: string[] = [];
  const offerCount = r.int(2, 9);
  for (let i = 0; i < offerCount; i++) {
    const lines = [`  - key: offer_${i}`, `    priority: ${r.int(1, 4)}`];
    if (r.chance(0.35)) lines.push(`    contexts: [${someOf(r, OFFER_CONTEXTS, 2).join(", ")}]`);
    if (r.chance(0.5)) lines.push(`    reasons: [${someOf(r, DEFAULT_REASONS, 3).join(", ")}]`);
    if (r.chance(0.3)) lines.push(`    segment: ${r.pick(Object.keys(SEGMENTS))}`);
    const when = r.chance(0.6) ? condition() : null;
    if (when) lines.push(`    when: ${JSON.stringify(when)}`);
    lines.push(`    reward: ${r.pick(rewardKeys)}`, "    message: note");
    if (r.chance(0.3)) lines.push(`    cap: { max: ${r.int(1, 2)}, per: ${r.pick([30, 90, 180])}d }`);
    if (r.chance(0.3)) lines.push(`    cooldown: ${r.pick([7, 30, 60])}d`);
    if (r.chance(0.3)) {
      lines.push(
        "    experiment:",
        `      holdout: ${r.pick([0, 10, 30, 50])}`,
        "      variants:",
        "        - { key: a, weight: 1 }",
        `        - { key: b, weight: 1, reward: ${r.pick(rewardKeys)} }`,
      );
    }
    offers.push(lines.join("\n"));
  }
  const policy: string[] = [];
  const kinds = () => (r.chance(0.5) ? `, reward_kinds: [${someOf(r, REWARD_KINDS, 3).join(", ")}]` : "");
  if (r.chance(0.5)) policy.push(`  cap: { max: ${r.int(1, 3)}, per: 365d${kinds()} }`);
  if (r.chance(0.5)) policy.push(`  cooldown: { for: ${r.pick([14, 30])}d${kinds()} }`);
  if (r.chance(0.4)) policy.push("  redeemed_then_churned_within: 60d");
  const text = [
    "settings: { currency: USD, default_timezone: UTC, exchange_rates: { EUR: 1.08, AUD: 0.66, JPY: 0.0067 } }",
    `plans: [${PLANS.join(", ")}]`,
    "fields:",
    ...Object.entries(FIELDS).map(([name, type]) => `  ${name}: { type: "${type}" }`),
    "segments:",
    ...Object.entries(SEGMENTS).map(([name, when]) => `  ${name}: ${JSON.stringify(when)}`),
    "rewards:",
    ...rewards,
    "messages:",
    '  note: { body: "An offer for you" }',
    "offers:",
    ...offers,
    ...(policy.length > 0 ? ["offer_policy:", ...policy] : []),
  ].join("\n");
  const checked = checkRuleset([{ path: `generated-${seed}.yaml`, text }]);
  expect(checked.diagnostics, text).toEqual([]);
  return loadRuleset(checked.ruleset!);
}

function shippedPack(): Ruleset {
  const checked = checkRuleset(readRuleDirectory("rules").rules);
  expect(checked.diagnostics).toEqual([]);
  return loadRuleset(checked.ruleset!);
}

/** A customer, their events and offer history, and an ask, at random. */
function randomAsk(r: Random, ruleset: Ruleset, n: number): { ctx: EvalContext; request: OfferRequest } {
  const row = randomCustomer(r, `cus_${n}`, NOW);
  const customer: Record<string, unknown> = {
    ...row,
    attributes: JSON.parse(row.attributes as string),
    currency: r.pick([row.currency, "USD", "USD", "EUR", "GBP", null]),
    ltv: r.pick([row.ltv, 90_000]),
  };
  const events: EventRecord[] = randomEvents(r, `cus_${n}`, NOW).map((event) => ({
    id: event.id,
    type: event.type,
    occurred_at: event.occurred_at,
    properties: event.properties,
  }));
  if (r.chance(0.2)) {
    events.push({
      id: `cancel_${n}`,
      type: "subscription.canceled",
      occurred_at: NOW - r.int(0, 90) * DAY,
      properties: {},
    });
  }
  const keys = [...ruleset.offers.map((offer) => offer.key), "retired_offer"];
  const offers: PastOffer[] = Array.from({ length: r.pick([0, 0, 1, 2, 4]) }, () => {
    const at = NOW - r.int(-2, 400) * DAY + r.pick([0, 0, 1, -1]);
    return {
      offerKey: r.pick(keys),
      rewardKind: r.chance(0.2) ? null : r.pick(REWARD_KINDS),
      at,
      redeemedAt: r.chance(0.3) ? at + r.int(0, 20) * DAY : null,
    };
  });
  const cancellations = r.chance(0.3) ? [NOW - r.int(0, 120) * DAY] : [];
  const request: OfferRequest = {
    context: r.pick<OfferContext>(OFFER_CONTEXTS),
    reason: r.pick([null, null, ...DEFAULT_REASONS, "not_a_reason"]),
    history: { offers, cancellations },
    ...(r.chance(0.15) ? { only: someOf(r, keys, 3) } : {}),
  };
  return { ctx: { now: NOW, customer, events }, request };
}

/** Decides both ways and says how the answers differ (empty: they agree). */
function disagreement(ruleset: Ruleset, ctx: EvalContext, request: OfferRequest): OfferDecision {
  const { trace: noTrace, ...compiled } = decideOffer(ruleset, ctx, { ...request, explain: false });
  const { trace, ...traced } = decideOffer(ruleset, ctx, { ...request, explain: true });
  const what = JSON.stringify({ customer: ctx.customer, events: ctx.events, request });
  expect(noTrace, what).toEqual([]);
  expect(compiled, what).toEqual(traced);
  // What the stored `inputs` were derived from before: the trace's evaluated offers.
  const fromTrace = trace
    .filter((entry) => !["not_in_context", "reason_mismatch", "not_evaluated"].includes(entry.outcome))
    .map((entry) => entry.offer);
  expect(compiled.evaluated, what).toEqual(fromTrace);
  return { ...compiled, trace };
}

function runDifferential(rulesets: readonly Ruleset[], asks: number, seed: number): Map<string, number> {
  const seen = new Map<string, number>();
  const r = new Random(prng(seed));
  for (const ruleset of rulesets) {
    for (let n = 0; n < asks; n++) {
      const { ctx, request } = randomAsk(r, ruleset, n);
      const decision = disagreement(ruleset, ctx, request);
      for (const [name, test] of Object.entries(OUTCOMES)) {
        if (test(decision)) seen.set(name, (seen.get(name) ?? 0) + 1);
      }
    }
  }
  return seen;
}

describe("the compiled and the traced decision agree", () => {
  it("on the shipped rules, for random customers, histories and asks", () => {
    const seen = runDifferential([shippedPack()], 3_000, 20_261_204);
    for (const name of [
      "offered",
      "offered, a variant",
      "holdout",
      "ineligible, reason",
      "ineligible, anti-abuse",
    ]) {
      expect(seen.get(name) ?? 0, name).toBeGreaterThan(0);
    }
  });

  it("on generated rule packs, meeting every kind of answer", () => {
    const packs = Array.from({ length: 40 }, (_, i) => generatedPack(1_000 + i));
    const seen = runDifferential(packs, 150, 7);
    for (const name of Object.keys(OUTCOMES)) expect(seen.get(name) ?? 0, name).toBeGreaterThan(0);
  });

  it("builds no trace without explain, and compiles the offer list once per ruleset", () => {
    const ruleset = shippedPack();
    const ask: OfferRequest = { context: "cancel_flow", reason: "too_expensive" };
    // Someone outside the price test's 10% holdout, so the offer is made.
    const offered = Array.from({ length: 100 }, (_, i) => `cus_${i + 1}`).find(
      (id) => !inHoldout("offer_price_high_value", id, 10),
    )!;
    const ctx: EvalContext = {
      now: NOW,
      customer: {
        id: offered,
        status: "active",
        plan: "pro",
        ltv: 80_000,
        mrr: 4900,
        currency: "USD",
        attributes: {},
      },
      events: [],
    };
    const first = decideOffer(ruleset, ctx, ask);
    expect(first.trace).toEqual([]);
    expect(first.offer?.key).toBe("price_high_value");
    expect(first.evaluated).toEqual(["price_high_value"]);
    // The same answer from the same program: the evaluated list is shared, not rebuilt.
    expect(decideOffer(ruleset, ctx, ask).evaluated).toBe(first.evaluated);
  });
});
