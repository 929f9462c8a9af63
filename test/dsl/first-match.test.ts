// An offer list runs as one first-match program (dsl/expr/first-match.ts) whose column tests ask
// only "is it true?", in a loop of their own. It must pick exactly the rule that the three-valued
// closures pick rule by rule, for every kind of column test and operator, for customers whose
// columns hold anything D1 or a caller could hand over (NULL, NaN, infinities, -0, text in a number
// column, a number in a text column), from any starting rule and with any rules masked out.

import { describe, expect, it } from "vitest";
import type { Expr } from "../../dsl/expr/ast";
import { compileExpression } from "../../dsl/expr/compile";
import { buildExchange } from "../../dsl/expr/exchange";
import { compileFirstMatch } from "../../dsl/expr/first-match";
import { parseExpression } from "../../dsl/expr/parser";
import { holds } from "../../dsl/expr/three-valued";
import { checkExpression } from "../../dsl/expr/typecheck";
import type { EvalContext, EventRecord } from "../../dsl/expr/types";
import { prng } from "../prng";
import { ExpressionGenerator, Random, randomCustomer, randomEvents } from "../worker/random-expressions";
import { caseScope, segmentClosures } from "./expr-suite";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15, 9, 30);

/** One condition of each shape the program runs as a column test, with every operator. */
const COLUMN_TESTS = [
  'status == "active"',
  'status != "canceled"',
  'churn_reason == "too_expensive"',
  'plan != "pro"',
  'country == "DE"',
  'status in ["active", "past_due"]',
  'churn_reason not in ["unused", "other"]',
  'country in ["US", "FR"]',
  "nps == 7",
  "nps != 3",
  "referrals < 2",
  "order_count <= 1",
  "open_tickets > 0",
  "nps >= 9",
  "nps in [7, 8, 9]",
  "nps not in [0, 1]",
  "ltv >= $500",
  "mrr < $49",
  "aov == $120",
  "ltv != $0",
  "failed_amount <= €49",
  "ltv > 20 EUR",
  "days_since(canceled_at) <= 30",
  "days_since(last_active_at) == 14",
  "days_since(last_active_at) > 7",
  "days_until(card_expires_at) < 30",
  "days_until(card_expires_at) >= 0",
  "days_since(signed_up_at) != 90",
  // Within a day of now, either side: days truncate toward zero, so this is 0, never -1.
  "days_since(canceled_at) >= 0",
  "days_until(card_expires_at) == 0",
  "last_active_at < now - 30d",
  "canceled_at >= now - 7d",
  "card_expires_at > now",
  "payment_failed_at <= now + 1d",
  "signed_up_at == 2026-01-01",
];

/** What a column may hold besides its proper values. */
const HOSTILE = [
  null,
  undefined,
  Number.NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  7,
  2.5,
  "7",
  "",
  "active",
  true,
  {},
];

const NUMBER_COLUMNS = [
  "nps",
  "referrals",
  "order_count",
  "open_tickets",
  "ltv",
  "mrr",
  "aov",
  "failed_amount",
];
const TIME_COLUMNS = [
  "canceled_at",
  "last_active_at",
  "card_expires_at",
  "signed_up_at",
  "payment_failed_at",
];
const TEXT_COLUMNS = ["status", "churn_reason", "plan", "country", "currency"];

function parsed(text: string): Expr {
  const result = parseExpression(text);
  if (!result.ast) throw new Error(`${text}: ${result.diagnostics[0]?.message}`);
  return result.ast;
}

function randomContext(r: Random, n: number): EvalContext {
  const row = randomCustomer(r, `cus_${n}`, NOW);
  const customer: Record<string, unknown> = { ...row, attributes: JSON.parse(row.attributes as string) };
  // Edges the comparisons care about: exactly on a literal, and a day boundary away from now.
  if (r.chance(0.3)) customer.nps = r.pick([0, 3, 7, 9]);
  if (r.chance(0.3)) customer.ltv = r.pick([0, 50_000, 2_000]);
  if (r.chance(0.2)) customer.aov = 12_000;
  if (r.chance(0.2)) customer.last_active_at = NOW - r.pick([7, 14, 30]) * DAY + r.pick([0, 1, -1]);
  if (r.chance(0.2)) customer.signed_up_at = r.pick([Date.UTC(2026, 0, 1), NOW - 90 * DAY]);
  if (r.chance(0.2)) customer.canceled_at = NOW + r.int(-DAY, DAY);
  if (r.chance(0.2)) customer.card_expires_at = NOW + r.int(-DAY, DAY);
  const columns = [...NUMBER_COLUMNS, ...TIME_COLUMNS, ...TEXT_COLUMNS];
  for (let k = r.int(0, 4); k > 0; k--) {
    const column = r.pick(columns);
    const value = r.pick(HOSTILE);
    if (value === undefined) delete customer[column];
    else customer[column] = value;
  }
  const events: EventRecord[] = randomEvents(r, `cus_${n}`, NOW);
  return { now: NOW, customer, events };
}

// Without exchange rates a money column in another currency than the literal's is unknown; with
// them it compares in USD (EUR, GBP, AUD and JPY have rates; CHF, among the random customers, none).
const SCOPES = [
  ["without exchange rates", caseScope()],
  [
    "with exchange rates",
    { ...caseScope(), exchange: buildExchange("USD", { EUR: 1.08, GBP: 1.27, AUD: 0.66, JPY: 0.0067 }) },
  ],
] as const;

describe.each(SCOPES)("a first-match program, %s", (_label, scope) => {
  const segments = segmentClosures(scope);
  const env = { scope, segment: (name: string) => segments.get(name)! };
  const r = new Random(prng(20_261_205));
  const expressions = new ExpressionGenerator(r);
  const generated = (): string | null => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const text = expressions.boolean(r.int(0, 2));
      const ast = parseExpression(text).ast;
      if (ast && checkExpression(ast, scope, { kind: "boolean" }).diagnostics.length === 0) return text;
    }
    return null;
  };
  // Rules of one to four conjuncts: mostly column tests, some any other condition (a closure).
  const rules: string[] = [...COLUMN_TESTS];
  for (let i = 0; i < 300; i++) {
    const conjuncts = Array.from({ length: r.int(1, 4) }, () =>
      r.chance(0.75) ? r.pick(COLUMN_TESTS) : (generated() ?? r.pick(COLUMN_TESTS)),
    );
    rules.push(conjuncts.map((c) => `(${c})`).join(" and "));
  }
  const asts = rules.map(parsed);
  for (const [i, ast] of asts.entries()) {
    expect(checkExpression(ast, scope, { kind: "boolean" }).diagnostics, rules[i]).toEqual([]);
  }
  const closures = asts.map((ast) => compileExpression(ast, env));
  const contexts = Array.from({ length: 400 }, (_, n) => randomContext(r, n));

  it("answers each rule as its closure does", () => {
    for (const [i, ast] of asts.entries()) {
      const alone = compileFirstMatch([ast], env);
      for (const ctx of contexts) {
        const want = holds(closures[i]!(ctx)) ? 0 : -1;
        if (alone(ctx) !== want) {
          expect({ rule: rules[i], customer: ctx.customer, got: alone(ctx) }).toEqual({
            rule: rules[i],
            customer: ctx.customer,
            got: want,
          });
        }
      }
    }
  });

  it("picks the first rule that holds, from any rule on, skipping masked rules", () => {
    const program = compileFirstMatch(asts, env);
    let matched = 0;
    for (const ctx of contexts) {
      for (let trial = 0; trial < 5; trial++) {
        const from = trial === 0 ? 0 : r.int(0, rules.length);
        const eligible = trial < 2 ? undefined : Uint8Array.from(rules, () => (r.chance(0.7) ? 1 : 0));
        let want = -1;
        for (let i = from; i < rules.length; i++) {
          if ((eligible === undefined || eligible[i] === 1) && holds(closures[i]!(ctx))) {
            want = i;
            break;
          }
        }
        expect(program(ctx, from, eligible), JSON.stringify({ from, customer: ctx.customer })).toBe(want);
        if (want >= 0) matched++;
      }
    }
    expect(matched).toBeGreaterThan(0);
  });

  it("always holds for a rule with no conditions", () => {
    const program = compileFirstMatch([parsed("nps == 11"), null, []], env);
    expect(program(contexts[0]!)).toBe(1);
    expect(program(contexts[0]!, 2)).toBe(2);
    expect(program(contexts[0]!, 3)).toBe(-1);
  });
});
