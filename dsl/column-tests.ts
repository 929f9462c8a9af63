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
import { COLUMN_SLOTS, readColumn } from "./fields";
import type { EvalContext } from "./types";

export const TestKind = {
  Text: 0,
  Number: 1,
  /** A money column in the row's `currency` against a literal in `currency`. */
  Money: 2,
  DaysSince: 3,
  DaysUntil: 4,
  TextIn: 5,
  NumberIn: 6,
  /** A number/timestamp column against `now` plus `k` ms. */
  NumberVsNow: 7,
} as const;
export type TestKind = (typeof TestKind)[keyof typeof TestKind];

const TestOp = { Eq: 0, Ne: 1, Lt: 2, Le: 3, Gt: 4, Ge: 5 } as const;
type TestOp = (typeof TestOp)[keyof typeof TestOp];

export interface ColumnTest {
  readonly kind: TestKind;
  readonly slot: number;
  readonly op: TestOp;
  readonly k: number | string;
  readonly currency: string;
  readonly choices: readonly (string | number)[];
  readonly negated: boolean;
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

/** A comparison test; every field is filled so all tests share one object shape. */
export function comparisonTest(
  kind: TestKind,
  column: string,
  op: CompareOp,
  k: number | string,
  currency = "",
): ColumnTest {
  return { kind, slot: COLUMN_SLOTS[column]!, op: OPS[op], k, currency, choices: [], negated: false };
}

/** An `in` / `not in` test over a small list of literals. */
export function membershipTest(
  kind: typeof TestKind.TextIn | typeof TestKind.NumberIn,
  column: string,
  choices: readonly (string | number)[],
  negated: boolean,
): ColumnTest {
  return { kind, slot: COLUMN_SLOTS[column]!, op: TestOp.Eq, k: 0, currency: "", choices, negated };
}

const finite = (v: unknown): v is number => typeof v === "number" && v - v === 0;

/** SQL's CAST(x AS INTEGER) of a REAL: toward zero, and never -0. */
export function truncate(x: number): number {
  return Math.trunc(x) + 0;
}

/** Evaluates one column test: true, false, or null (unknown) for a missing or mistyped value. */
export function evalColumnTest(t: ColumnTest, ctx: EvalContext): boolean | null {
  const v = readColumn(ctx.customer, t.slot);
  let a: number | string;
  switch (t.kind) {
    case TestKind.Text:
      if (typeof v !== "string") return null;
      a = v;
      break;
    case TestKind.Number:
      if (!finite(v)) return null;
      a = v;
      break;
    case TestKind.Money:
      if (!finite(v) || readColumn(ctx.customer, CURRENCY_SLOT) !== t.currency) return null;
      a = v;
      break;
    case TestKind.DaysSince:
      if (!finite(v)) return null;
      a = truncate((ctx.now - v) / DAY_MS);
      break;
    case TestKind.DaysUntil:
      if (!finite(v)) return null;
      a = truncate((v - ctx.now) / DAY_MS);
      break;
    case TestKind.NumberVsNow:
      if (!finite(v)) return null;
      return compare(t.op, v, ctx.now + (t.k as number));
    case TestKind.TextIn:
      if (typeof v !== "string") return null;
      return t.choices.includes(v) !== t.negated;
    case TestKind.NumberIn:
      if (!finite(v)) return null;
      return t.choices.includes(v) !== t.negated;
  }
  return compare(t.op, a, t.k);
}

function compare(op: TestOp, a: number | string, k: number | string): boolean {
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
    case TestOp.Ge:
      return a >= k;
  }
}
