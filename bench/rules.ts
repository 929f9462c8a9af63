/**
 * Benchmark: a 20-rule first-match offer list over 1,000 customers, decided by Rebound's production
 * path (`decideOffer` over a checked ruleset, no trace: what the decision API and campaign steps
 * run), by its parts (the first-match program alone, the closures rule by rule, `decideOffer` with
 * the `?explain=1` trace), by hand-written JavaScript closures (the limit), and by
 * json-rules-engine, json-logic-js and @marcbachmann/cel-js running the same rules, in one process.
 *
 * `npm run bench:rules`. Prints decisions per second and ratios; the headline ratio is the
 * production path against hand-written closures (the median of per-round ratios); the last line is
 * a JSON object. The production path is `decideOffer` from dsl/index.ts, the function
 * worker/decisions/decide-and-record.ts calls, with no `explain`: the offers' first-match program
 * (dsl/runtime/offer-program.ts, dsl/expr/first-match.ts) and the answer it builds. Every engine's
 * decisions are compared with Rebound's first, so the figures are for the same work.
 * Not a test: the numbers depend on the machine. On the project's 2-core machine (load 1-3) the
 * production path takes about 1.35-1.45x the time of hand-written closures (the target: within 2x)
 * and the first-match program alone about 1.1x; docs/expressions.md has the whole table.
 */

import { parse as parseCel } from "@marcbachmann/cel-js";
import jsonLogic from "json-logic-js";
import { Engine, type TopLevelCondition } from "json-rules-engine";
import type { EvalContext, EventRecord, Expr } from "../dsl";
import {
  buildScope,
  type Closure,
  checkRuleset,
  compileExpression,
  compileFirstMatch,
  DEFAULT_REASONS,
  decideOffer,
  holds,
  loadRuleset,
  parseExpression,
  type Ruleset,
} from "../dsl";
import { prng } from "../test/prng";

const CUSTOMERS = 1_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15, 9, 30);
const ROUNDS = 15;
const ROUND_MS = 150;

// ---------------------------------------------------------------------------------------------
// The rules, written once in a neutral form and translated for each engine.

type Op = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";
interface Cond {
  f: string;
  op: Op;
  v: number | string | boolean | readonly string[] | { money: number };
}
interface Rule {
  key: string;
  /** null: the rule matches and decides "no offer" (e.g. shutting_down). */
  offer: string | null;
  all?: readonly Cond[];
  any?: readonly Cond[];
}

const c = (f: string, op: Op, v: Cond["v"]): Cond => ({ f, op, v });
const usd = (dollars: number) => ({ money: dollars * 100 });

const RULES: readonly Rule[] = [
  { key: "shutting_down", offer: null, all: [c("churn_reason", "==", "shutting_down")] },
  {
    key: "dunning_grace",
    offer: "grace_period",
    all: [c("status", "==", "past_due"), c("failed_amount", ">=", usd(10))],
  },
  {
    key: "price_high_value",
    offer: "amount_off_20",
    all: [
      c("status", "==", "canceled"),
      c("churn_reason", "==", "too_expensive"),
      c("ltv", ">=", usd(500)),
      c("days_since_canceled", "<=", 90),
    ],
  },
  {
    key: "price_recent",
    offer: "percent_off_15",
    all: [
      c("status", "==", "canceled"),
      c("churn_reason", "==", "too_expensive"),
      c("days_since_canceled", "<=", 30),
    ],
  },
  {
    key: "competitor_high_value",
    offer: "amount_off_15",
    all: [c("churn_reason", "==", "switched_to_competitor"), c("ltv", ">=", usd(300))],
  },
  {
    key: "competitor",
    offer: "comparison_guide",
    all: [c("churn_reason", "==", "switched_to_competitor"), c("days_since_canceled", "<=", 60)],
  },
  { key: "hard_to_use", offer: "free_consultation", all: [c("churn_reason", "==", "hard_to_use")] },
  {
    key: "technical",
    offer: "support_callback",
    all: [c("churn_reason", "==", "technical_issues"), c("open_tickets", ">=", 1)],
  },
  {
    key: "missing_features",
    offer: "feature_unlock",
    all: [c("churn_reason", "==", "missing_features"), c("plan", "in", ["pro", "team"])],
  },
  {
    key: "poor_service",
    offer: "apology_credit",
    all: [c("churn_reason", "==", "poor_service"), c("last_ticket_satisfied", "==", false)],
  },
  {
    key: "unused",
    offer: "two_months_off",
    all: [c("churn_reason", "==", "unused"), c("activity_30d", "==", 0)],
  },
  { key: "referrer", offer: "bonus_points", all: [c("referrals", ">=", 2), c("status", "==", "canceled")] },
  { key: "big_baskets", offer: "amount_off_10", all: [c("aov", ">=", usd(120)), c("order_count", ">=", 3)] },
  { key: "promoter_lost", offer: "trial_extension", all: [c("nps", ">=", 9), c("status", "==", "canceled")] },
  {
    key: "going_quiet",
    offer: "nudge_credit",
    all: [c("status", "==", "active"), c("days_since_active", ">=", 14)],
  },
  {
    key: "low_engagement",
    offer: "onboarding_session",
    all: [c("status", "==", "active"), c("activity_30d", "<", 3), c("mrr", ">=", usd(49))],
  },
  { key: "detractor", offer: "service_call", all: [c("nps", "<=", 6), c("status", "==", "active")] },
  {
    key: "big_spender",
    offer: "loyalty_points",
    any: [c("orders_90d", ">=", usd(200)), c("ltv", ">=", usd(2000))],
  },
  {
    key: "eu_winback",
    offer: "eu_discount",
    all: [c("country", "in", ["DE", "FR", "AT"]), c("status", "==", "canceled")],
  },
  { key: "generic_winback", offer: "percent_off_10", all: [c("status", "==", "canceled")] },
];

/** How Rebound's language says each derived fact directly. */
const REBOUND_TERMS: Readonly<Record<string, string>> = {
  days_since_canceled: "days_since(canceled_at)",
  days_since_active: "days_since(last_active_at)",
  activity_30d: "count(activity, 30d)",
  orders_90d: "sum(order.completed.amount, 90d)",
};

const isMoney = (v: Cond["v"]): v is { money: number } => typeof v === "object" && !Array.isArray(v);

function reboundExpression(rule: Rule): string {
  const term = (k: Cond): string => {
    const v = k.v;
    const literal = isMoney(v) ? `$${v.money / 100}` : JSON.stringify(v);
    return `${REBOUND_TERMS[k.f] ?? k.f} ${k.op} ${literal}`;
  };
  return rule.all ? rule.all.map(term).join(" and ") : rule.any!.map(term).join(" or ");
}

/**
 * The same rules as a rule pack, as a marketer writes them: one offer per rule in priority order,
 * named by what it gives (so an answer's offer key is the outcome the other engines return), and
 * `shutting_down` as the reason that never gets an offer (the default reasons say so). Rewards
 * are percentages, which no customer's currency rules out, so the answers are the rules' alone.
 */
function reboundRuleset(): Ruleset {
  const offers = RULES.filter((rule) => rule.offer !== null);
  const text = [
    "settings: { currency: USD, default_timezone: UTC }",
    "rewards:",
    "  percent: { percent_off: 10, expires_after: 14d }",
    "messages:",
    '  note: { body: "An offer for you" }',
    "offers:",
    ...offers.map(
      (rule, i) =>
        `  - { key: ${rule.offer}, priority: ${offers.length - i}, when: ${JSON.stringify(reboundExpression(rule))}, reward: percent, message: note }`,
    ),
  ].join("\n");
  const checked = checkRuleset([{ path: "bench/rules.yaml", text }]);
  if (!checked.ruleset) throw new Error(`bench rules: ${checked.diagnostics[0]?.message}`);
  return loadRuleset(checked.ruleset);
}

// A faithful translation of Rebound's semantics: a comparison with a missing value does not hold,
// and money compares only in the same currency. The other engines need explicit guards for that.

const JRE_OPS: Readonly<Record<Op, string>> = {
  "==": "equal",
  "!=": "notEqual",
  "<": "lessThan",
  "<=": "lessThanInclusive",
  ">": "greaterThan",
  ">=": "greaterThanInclusive",
  in: "in",
};

function jreCondition(rule: Rule): TopLevelCondition {
  const term = (k: Cond) => {
    const v = k.v;
    const value = isMoney(v) ? v.money : (v as string | number | boolean | string[]);
    return {
      all: [
        { fact: k.f, operator: "notEqual", value: null },
        ...(isMoney(v) ? [{ fact: "currency", operator: "equal", value: "USD" }] : []),
        { fact: k.f, operator: JRE_OPS[k.op], value },
      ],
    };
  };
  return rule.all ? { all: rule.all.map(term) } : { any: rule.any!.map(term) };
}

function jsonLogicRule(rule: Rule): jsonLogic.RulesLogic {
  const term = (k: Cond): jsonLogic.RulesLogic => {
    const v = k.v;
    const field = { var: k.f };
    const compare = (
      k.op === "in"
        ? { in: [field, v as string[]] }
        : { [k.op === "==" ? "===" : k.op === "!=" ? "!==" : k.op]: [field, isMoney(v) ? v.money : v] }
    ) as jsonLogic.RulesLogic;
    return {
      and: [
        { "!=": [field, null] },
        ...(isMoney(v) ? [{ "==": [{ var: "currency" }, "USD"] } as jsonLogic.RulesLogic] : []),
        compare,
      ],
    };
  };
  return rule.all ? { and: rule.all.map(term) } : { or: rule.any!.map(term) };
}

function celExpression(rule: Rule): string {
  const term = (k: Cond): string => {
    const v = k.v;
    const literal = isMoney(v) ? String(v.money) : JSON.stringify(v);
    const guard = `c.${k.f} != null${isMoney(v) ? ' && c.currency == "USD"' : ""}`;
    return `(${guard} && c.${k.f} ${k.op} ${literal})`;
  };
  return rule.all ? rule.all.map(term).join(" && ") : rule.any!.map(term).join(" || ");
}

// ---------------------------------------------------------------------------------------------
// Hand-written closures: what a careful engineer writes for these 20 rules, with the same
// missing-value and currency rules. This is the speed limit.

const daysSince = (now: number, ts: unknown): number | null =>
  typeof ts === "number" ? Math.trunc((now - ts) / DAY) : null;

function countEvents(ctx: EvalContext, type: string, windowMs: number): number {
  let n = 0;
  for (const e of ctx.events)
    if (e.type === type && e.occurred_at <= ctx.now && e.occurred_at > ctx.now - windowMs) n++;
  return n;
}

function sumOrders(ctx: EvalContext, windowMs: number): number | null {
  const currency = ctx.customer.currency;
  if (typeof currency !== "string") return null;
  let total = 0;
  for (const e of ctx.events) {
    if (e.type !== "order.completed" || e.occurred_at > ctx.now || e.occurred_at <= ctx.now - windowMs)
      continue;
    const own = e.properties.currency;
    if ((typeof own === "string" ? own : currency) !== currency) continue;
    const amount = e.properties.amount;
    if (typeof amount === "number" && Number.isInteger(amount)) total += amount;
  }
  return total;
}

const usdAtLeast = (amount: unknown, currency: unknown, min: number): boolean =>
  typeof amount === "number" && currency === "USD" && amount >= min;

type Hand = (ctx: EvalContext) => boolean;
const HAND_WRITTEN: readonly Hand[] = [
  (x) => x.customer.churn_reason === "shutting_down",
  (x) => x.customer.status === "past_due" && usdAtLeast(x.customer.failed_amount, x.customer.currency, 1000),
  (x) => {
    const k = x.customer;
    if (
      k.status !== "canceled" ||
      k.churn_reason !== "too_expensive" ||
      !usdAtLeast(k.ltv, k.currency, 50000)
    )
      return false;
    const d = daysSince(x.now, k.canceled_at);
    return d !== null && d <= 90;
  },
  (x) => {
    const k = x.customer;
    const d = daysSince(x.now, k.canceled_at);
    return k.status === "canceled" && k.churn_reason === "too_expensive" && d !== null && d <= 30;
  },
  (x) =>
    x.customer.churn_reason === "switched_to_competitor" &&
    usdAtLeast(x.customer.ltv, x.customer.currency, 30000),
  (x) => {
    const d = daysSince(x.now, x.customer.canceled_at);
    return x.customer.churn_reason === "switched_to_competitor" && d !== null && d <= 60;
  },
  (x) => x.customer.churn_reason === "hard_to_use",
  (x) =>
    x.customer.churn_reason === "technical_issues" &&
    typeof x.customer.open_tickets === "number" &&
    x.customer.open_tickets >= 1,
  (x) =>
    x.customer.churn_reason === "missing_features" &&
    (x.customer.plan === "pro" || x.customer.plan === "team"),
  (x) => x.customer.churn_reason === "poor_service" && x.customer.last_ticket_satisfied === 0,
  (x) => x.customer.churn_reason === "unused" && countEvents(x, "activity", 30 * DAY) === 0,
  (x) =>
    typeof x.customer.referrals === "number" && x.customer.referrals >= 2 && x.customer.status === "canceled",
  (x) =>
    usdAtLeast(x.customer.aov, x.customer.currency, 12000) &&
    typeof x.customer.order_count === "number" &&
    x.customer.order_count >= 3,
  (x) => typeof x.customer.nps === "number" && x.customer.nps >= 9 && x.customer.status === "canceled",
  (x) => {
    const d = daysSince(x.now, x.customer.last_active_at);
    return x.customer.status === "active" && d !== null && d >= 14;
  },
  (x) =>
    x.customer.status === "active" &&
    countEvents(x, "activity", 30 * DAY) < 3 &&
    usdAtLeast(x.customer.mrr, x.customer.currency, 4900),
  (x) => typeof x.customer.nps === "number" && x.customer.nps <= 6 && x.customer.status === "active",
  (x) => {
    const orders = sumOrders(x, 90 * DAY);
    return (
      (orders !== null && x.customer.currency === "USD" && orders >= 20000) ||
      usdAtLeast(x.customer.ltv, x.customer.currency, 200000)
    );
  },
  (x) => {
    const country = x.customer.country;
    return (country === "DE" || country === "FR" || country === "AT") && x.customer.status === "canceled";
  },
  (x) => x.customer.status === "canceled",
];

/** The facts the general-purpose engines evaluate: the profile plus the derived values. */
function facts(ctx: EvalContext): Record<string, unknown> {
  const k = ctx.customer;
  const satisfied = k.last_ticket_satisfied;
  return {
    ...k,
    last_ticket_satisfied: typeof satisfied === "number" ? satisfied !== 0 : null,
    days_since_canceled: daysSince(ctx.now, k.canceled_at),
    days_since_active: daysSince(ctx.now, k.last_active_at),
    activity_30d: countEvents(ctx, "activity", 30 * DAY),
    orders_90d: sumOrders(ctx, 90 * DAY),
  };
}

// ---------------------------------------------------------------------------------------------
// Customers: a seeded mix of active, quiet, past-due and canceled customers with events.

function makeCustomers(count: number): EvalContext[] {
  const rand = prng(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const maybe = <T>(p: number, v: () => T): T | null => (rand() < p ? v() : null);
  const reasons = DEFAULT_REASONS;
  return Array.from({ length: count }, (_, i) => {
    const status = pick([
      "active",
      "active",
      "active",
      "past_due",
      "canceled",
      "canceled",
      "canceled",
      "lead",
    ]);
    const canceled = status === "canceled";
    const events: EventRecord[] = [];
    const n = Math.floor(rand() * 12);
    for (let j = 0; j < n; j++) {
      const type = pick(["activity", "activity", "activity", "order.completed", "nps.submitted"]);
      events.push({
        id: `e${i}-${j}`,
        type,
        occurred_at: NOW - Math.floor(rand() * 120 * DAY),
        properties:
          type === "order.completed" ? { amount: Math.floor(rand() * 300) * 100, currency: "USD" } : {},
      });
    }
    const customer: Record<string, unknown> = {
      id: `cust_${i}`,
      status,
      plan: pick(["basic", "pro", "team"]),
      currency: pick(["USD", "USD", "USD", "EUR"]),
      country: maybe(0.9, () => pick(["US", "DE", "FR", "GB", "AT"])),
      mrr: maybe(0.9, () => pick([1900, 4900, 9900])),
      ltv: Math.floor(rand() * 300_000),
      aov: maybe(0.6, () => Math.floor(rand() * 25_000)),
      order_count: Math.floor(rand() * 6),
      referrals: Math.floor(rand() * 3),
      nps: maybe(0.6, () => Math.floor(rand() * 11)),
      open_tickets: Math.floor(rand() * 2),
      last_ticket_satisfied: maybe(0.5, () => Math.floor(rand() * 2)),
      churn_reason: canceled ? pick(reasons) : null,
      canceled_at: canceled ? NOW - Math.floor(rand() * 150 * DAY) : null,
      last_active_at: maybe(0.9, () => NOW - Math.floor(rand() * 40 * DAY)),
      failed_amount: status === "past_due" ? pick([900, 4900]) : null,
      attributes: {},
    };
    return { now: NOW, customer, events };
  });
}

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Result {
  name: string;
  decisionsPerSecond: number;
  disagreements: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Decisions per second over whole passes through `contexts` lasting at least `ms`. */
function rate(decide: (ctx: EvalContext) => string, contexts: readonly EvalContext[], ms: number): number {
  let decisions = 0;
  let sink = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const ctx of contexts) if (decide(ctx) !== NONE) sink++;
    decisions += contexts.length;
    elapsed = performance.now() - start;
  }
  if (sink < 0) console.log(sink);
  return (decisions / elapsed) * 1000;
}

/**
 * Interleaved rounds, median per engine: on a shared machine load comes and goes, and measuring
 * one engine after another would hand the difference to whichever ran in the quiet moment.
 */
function measureSync(
  engines: Readonly<Record<string, (ctx: EvalContext) => string>>,
  contexts: readonly EvalContext[],
): { rates: Record<string, number>; slowdowns: Record<string, number> } {
  for (const decide of Object.values(engines)) rate(decide, contexts, 200);
  const names = Object.keys(engines);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const slowdowns: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so neither engine always runs right after the same neighbour.
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name]!.push(rate(engines[name]!, contexts, ROUND_MS));
    // Rebound against hand-written from the same round: both saw the same machine load.
    for (const name of names) {
      slowdowns[name]!.push(samples["hand-written"]!.at(-1)! / samples[name]!.at(-1)!);
    }
  }
  return {
    rates: Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, median(xs)])),
    slowdowns: Object.fromEntries(Object.entries(slowdowns).map(([name, xs]) => [name, median(xs)])),
  };
}

async function measureAsync(decide: (ctx: EvalContext) => Promise<string>, contexts: readonly EvalContext[]) {
  for (const ctx of contexts) await decide(ctx);
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    let decisions = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ROUND_MS * 2) {
      for (const ctx of contexts) await decide(ctx);
      decisions += contexts.length;
      elapsed = performance.now() - start;
    }
    samples.push((decisions / elapsed) * 1000);
  }
  return median(samples);
}

const NONE = "-";
const outcome = (rule: Rule | undefined): string => (rule ? (rule.offer ?? NONE) : NONE);

async function main(): Promise<void> {
  const contexts = makeCustomers(CUSTOMERS);

  const scope = buildScope({ defaultCurrency: "USD" });
  const env = { scope, segment: () => () => null };
  const conditions: Expr[] = RULES.map((rule) => {
    const parsed = parseExpression(reboundExpression(rule));
    if (!parsed.ast) throw new Error(`${rule.key}: ${parsed.diagnostics[0]?.message}`);
    return parsed.ast;
  });
  // Rebound's compiled offer list: every condition in one first-match program.
  const firstMatch = compileFirstMatch(conditions, env);
  const reboundFirstMatch = (ctx: EvalContext): string => {
    const index = firstMatch(ctx);
    return index < 0 ? NONE : outcome(RULES[index]);
  };
  // What production runs: the whole decision (reason guard, offers in priority order, currency,
  // caps, cooldowns, the offer policy, experiments) over the checked rule pack, without a trace.
  const ruleset = reboundRuleset();
  const history = { offers: [] };
  const rebound = (ctx: EvalContext): string =>
    decideOffer(ruleset, ctx, { context: "cancel_flow", history }).offer?.key ?? NONE;
  // The same with the rule trace `?explain=1` asks for (every offer looked at, failing conditions).
  const reboundTraced = (ctx: EvalContext): string =>
    decideOffer(ruleset, ctx, { context: "cancel_flow", history, explain: true }).offer?.key ?? NONE;
  // The same rules as separate closures, tried one after another.
  const compiled: Closure[] = conditions.map((condition) => compileExpression(condition, env));
  const reboundPerRule = (ctx: EvalContext): string => {
    for (let i = 0; i < compiled.length; i++) if (holds(compiled[i]!(ctx))) return outcome(RULES[i]);
    return NONE;
  };
  const hand = (ctx: EvalContext): string => {
    for (let i = 0; i < HAND_WRITTEN.length; i++) if (HAND_WRITTEN[i]!(ctx)) return outcome(RULES[i]);
    return NONE;
  };
  const logic = RULES.map(jsonLogicRule);
  const jsonLogicDecide = (ctx: EvalContext): string => {
    const data = facts(ctx);
    for (let i = 0; i < logic.length; i++)
      if (jsonLogic.apply(logic[i]!, data) === true) return outcome(RULES[i]);
    return NONE;
  };
  const cel = RULES.map((rule) => parseCel(celExpression(rule)));
  const celDecide = (ctx: EvalContext): string => {
    const data = { c: facts(ctx) };
    for (let i = 0; i < cel.length; i++) if (cel[i]!(data) === true) return outcome(RULES[i]);
    return NONE;
  };
  const engine = new Engine([], { allowUndefinedFacts: true });
  RULES.forEach((rule, i) => {
    engine.addRule({
      name: rule.key,
      priority: RULES.length - i,
      conditions: jreCondition(rule),
      event: { type: "offer", params: { index: i } },
      // First match: stop evaluating lower priorities once a rule fires.
      onSuccess: () => {
        engine.stop();
      },
    });
  });
  const jreDecide = async (ctx: EvalContext): Promise<string> => {
    const { events } = await engine.run(facts(ctx));
    const first = events[0];
    return first ? outcome(RULES[first.params!.index as number]) : NONE;
  };

  // Same decisions first, or the speed figures would compare different work.
  const expected = contexts.map(rebound);
  const disagreements = async (decide: (ctx: EvalContext) => string | Promise<string>): Promise<number> => {
    let n = 0;
    for (let i = 0; i < contexts.length; i++) if ((await decide(contexts[i]!)) !== expected[i]) n++;
    return n;
  };
  const offered = expected.filter((d) => d !== NONE).length;
  const distinct = new Set(expected).size;
  console.log(
    `${CUSTOMERS} customers, ${RULES.length} rules, first match: ${offered} get an offer, ${distinct} distinct outcomes`,
  );

  const sync = measureSync(
    {
      rebound,
      "hand-written": hand,
      "rebound, first-match program": reboundFirstMatch,
      "rebound, rule by rule": reboundPerRule,
      "rebound, with the trace": reboundTraced,
      "json-logic-js": jsonLogicDecide,
      "@marcbachmann/cel-js": celDecide,
    },
    contexts,
  );
  const results: Result[] = [
    ...Object.entries(sync.rates).map(([name, decisionsPerSecond]) => ({
      name,
      decisionsPerSecond,
      disagreements: 0,
    })),
    {
      name: "json-rules-engine",
      decisionsPerSecond: await measureAsync(jreDecide, contexts),
      disagreements: 0,
    },
  ];
  const deciders: Record<string, (ctx: EvalContext) => string | Promise<string>> = {
    rebound,
    "hand-written": hand,
    "rebound, first-match program": reboundFirstMatch,
    "rebound, rule by rule": reboundPerRule,
    "rebound, with the trace": reboundTraced,
    "json-logic-js": jsonLogicDecide,
    "@marcbachmann/cel-js": celDecide,
    "json-rules-engine": jreDecide,
  };
  for (const r of results) r.disagreements = await disagreements(deciders[r.name]!);

  const reboundRate = results[0]!.decisionsPerSecond;
  for (const r of results) {
    const vsRebound = reboundRate / r.decisionsPerSecond;
    console.log(
      `${r.name.padEnd(29)} ${Math.round(r.decisionsPerSecond).toLocaleString("en-US").padStart(12)} decisions/s` +
        `  rebound is ${vsRebound.toFixed(2)}x its speed` +
        (r.disagreements > 0 ? `  (${r.disagreements} decisions differ from rebound!)` : ""),
    );
  }
  // The median of per-round ratios: robust to load that changes between rounds.
  const slowdown = sync.slowdowns.rebound!;
  for (const name of ["rebound, first-match program", "rebound, rule by rule", "rebound, with the trace"]) {
    console.log(`${name} takes ${sync.slowdowns[name]!.toFixed(2)}x the time of hand-written closures`);
  }
  console.log(
    `rebound (decideOffer, the production path) takes ${slowdown.toFixed(2)}x the time of hand-written closures (target: within 2x)`,
  );
  const summary = {
    bench: "rules",
    customers: CUSTOMERS,
    rules: RULES.length,
    decisionsPerSecond: Object.fromEntries(results.map((r) => [r.name, Math.round(r.decisionsPerSecond)])),
    reboundSlowdownVsHandWritten: Number(slowdown.toFixed(3)),
    targetWithin2x: slowdown <= 2,
    slowdownVsHandWritten: Object.fromEntries(
      Object.entries(sync.slowdowns)
        .filter(([name]) => name.startsWith("rebound"))
        .map(([name, ratio]) => [name, Number(ratio.toFixed(3))]),
    ),
    reboundSpeedup: Object.fromEntries(
      results.slice(1).map((r) => [r.name, Number((reboundRate / r.decisionsPerSecond).toFixed(2))]),
    ),
    disagreements: Object.fromEntries(results.map((r) => [r.name, r.disagreements])),
  };
  console.log(JSON.stringify(summary));
  if (results.some((r) => r.disagreements > 0)) process.exitCode = 1;
}

await main();
