/**
 * Column tests: the closure back end's fast path for the commonest condition shape, a built-in
 * `customers` column compared with a literal (`status == "canceled"`, `ltv >= $500`,
 * `days_since(canceled_at) <= 90`, `plan in ["pro", "team"]`).
 *
 * Stage: used by compile.ts only. A test is plain data evaluated by one switch (`evalColumnTest`),
 * so a chain of `and`-ed tests runs in one loop with no closure call per comparison; this is what
 * keeps compiled rules near hand-written JavaScript. Results equal the general closures exactly:
 * the same type guards as the field readers, the same three-valued outcome.
 */

import type { CompareOp } from "./ast";
import { type Exchange, toRulesetCurrency } from "./exchange";
import { COLUMN_SLOTS, readColumn } from "./fields";
import type { EvalContext } from "./types";

export const TestKind = {
  Text: 0,
  Number: 1,
  /**
   * A money column in the row's `currency` against a literal in `currency`; with exchange rates a
   * row in another currency compares in the ruleset currency (dsl/expr/exchange.ts).
   */
  Money: 2,
  DaysSince: 3,
  DaysUntil: 4,
  TextIn: 5,
  NumberIn: 6,
  /** A number/timestamp column against `now` plus `k` ms. */
  NumberVsNow: 7,
} as const;
export type TestKind = (typeof TestKind)[keyof typeof TestKind];

export const TestOp = { Eq: 0, Ne: 1, Lt: 2, Le: 3, Gt: 4, Ge: 5 } as const;
export type TestOp = (typeof TestOp)[keyof typeof TestOp];

export interface ColumnTest {
  readonly kind: TestKind;
  readonly slot: number;
  readonly op: TestOp;
  /** The literal for numeric kinds (amount in minor units for money, ms offset for NumberVsNow). */
  readonly num: number;
  /** The literal for Text; the currency for Money. Kept apart from `num` so each compare site sees one type. */
  readonly text: string;
  readonly textChoices: readonly string[];
  readonly numChoices: readonly number[];
  readonly negated: boolean;
  /** Money: the scope's exchange rates (null: another currency is unknown) and the literal converted. */
  readonly exchange: Exchange | null;
  readonly converted: number;
}

const CURRENCY_SLOT = COLUMN_SLOTS.currency!;
const DAY_MS = 86_400_000;

const OPS: Readonly<Record<CompareOp, TestOp>> = {
  "==": TestOp.Eq,
  "!=": TestOp.Ne,
  "<": TestOp.Lt,
  "<=": TestOp.Le,
  ">": TestOp.Gt,
  ">=": TestOp.Ge,
};

/**
 * The same string, internalized: V8 compares two internalized strings by pointer, so a literal
 * from a rule compares as fast as a constant in hand-written code. Property keys are internalized.
 */
export function intern<T>(value: T): T {
  if (typeof value !== "string") return value;
  return Object.keys({ [value]: 0 })[0] as T;
}

/** A comparison test; every field is filled so all tests share one object shape. */
export function comparisonTest(
  kind: TestKind,
  column: string,
  op: CompareOp,
  k: number | string,
  currency = "",
  exchange: Exchange | null = null,
): ColumnTest {
  return {
    kind,
    slot: COLUMN_SLOTS[column]!,
    op: OPS[op],
    num: typeof k === "number" ? k : 0,
    text: intern(typeof k === "string" ? k : currency),
    textChoices: [],
    numChoices: [],
    negated: false,
    exchange,
    converted:
      exchange !== null && typeof k === "number" ? (toRulesetCurrency(exchange, k, currency) ?? 0) : 0,
  };
}

/** An `in` / `not in` test over a small list of literals. */
export function membershipTest(
  kind: typeof TestKind.TextIn | typeof TestKind.NumberIn,
  column: string,
  choices: readonly (string | number)[],
  negated: boolean,
): ColumnTest {
  return {
    kind,
    slot: COLUMN_SLOTS[column]!,
    op: TestOp.Eq,
    num: 0,
    text: "",
    textChoices: kind === TestKind.TextIn ? choices.map((c) => intern(c as string)) : [],
    numChoices: kind === TestKind.NumberIn ? (choices as number[]) : [],
    negated,
    exchange: null,
    converted: 0,
  };
}

const finite = (v: unknown): v is number => typeof v === "number" && v - v === 0;

/** SQL's CAST(x AS INTEGER) of a REAL: toward zero, and never -0. */
export function truncate(x: number): number {
  return Math.trunc(x) + 0;
}

/** Evaluates one column test: true, false, or null (unknown) for a missing or mistyped value. */
export function evalColumnTest(t: ColumnTest, ctx: EvalContext): boolean | null {
  const v = readColumn(ctx.customer, t.slot);
  // The two commonest kinds stay small enough for V8 to inline this function into its callers.
  if (t.kind === TestKind.Text) {
    if (typeof v !== "string") return null;
    return t.op === TestOp.Eq ? v === t.text : v !== t.text;
  }
  if (t.kind === TestKind.Number) return finite(v) ? compareNumbers(t.op, v, t.num) : null;
  return evalOtherTest(t, ctx, v);
}

function evalOtherTest(t: ColumnTest, ctx: EvalContext, v: unknown): boolean | null {
  if (t.kind === TestKind.TextIn) {
    if (typeof v !== "string") return null;
    return t.textChoices.includes(v) !== t.negated;
  }
  if (!finite(v)) return null;
  switch (t.kind) {
    case TestKind.Money: {
      const currency = readColumn(ctx.customer, CURRENCY_SLOT);
      if (currency === t.text) return compareNumbers(t.op, v, t.num);
      if (t.exchange === null || typeof currency !== "string") return null;
      const converted = toRulesetCurrency(t.exchange, v, currency);
      return converted === null ? null : compareNumbers(t.op, converted, t.converted);
    }
    case TestKind.DaysSince:
      return compareNumbers(t.op, truncate((ctx.now - v) / DAY_MS), t.num);
    case TestKind.DaysUntil:
      return compareNumbers(t.op, truncate((v - ctx.now) / DAY_MS), t.num);
    case TestKind.NumberVsNow:
      return compareNumbers(t.op, v, ctx.now + t.num);
    default:
      return t.numChoices.includes(v) !== t.negated;
  }
}

/** `a <op> k` for a test's operator. */
export function compareNumbers(op: TestOp, a: number, k: number): boolean {
  switch (op) {
    case TestOp.Eq:
      return a === k;
    case TestOp.Ne:
      return a !== k;
    case TestOp.Lt:
      return a < k;
    case TestOp.Le:
      return a <= k;
    case TestOp.Gt:
      return a > k;
    default:
      return a >= k;
  }
}
