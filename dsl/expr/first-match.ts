/**
 * First match over an ordered list of conditions, compiled as one program: the conjuncts of every
 * condition sit in one flat array and one loop walks them, so deciding among 20 offers costs no
 * closure call per rule and none per column test.
 *
 * Stage: closure back end (after compile.ts), for callers that ask "which is the first rule that
 * holds?" (offer lists: dsl/runtime/offer-program.ts; dunning steps). Same semantics as
 * `holds(compileExpression(...)(ctx))` rule by rule: a rule holds only when every conjunct is true;
 * unknown does not hold. A rule may be several conditions that must all hold (an offer's segments
 * and its `when`), or none (it always holds).
 */

import type { Expr } from "./ast";
import { type ColumnTest, compareNumbers, TestKind, TestOp, truncate } from "./column-tests";
import { type CompileEnv, compileConjuncts } from "./compile";
import { type Exchange, toRulesetCurrency } from "./exchange";
import { COLUMN_SLOTS, readColumn } from "./fields";
import type { Closure, EvalContext } from "./types";

/**
 * Index of the first rule that holds at or after `from`, or -1. With `eligible`, a rule whose entry
 * is 0 is skipped without being evaluated (an offer not shown in this context).
 */
export type FirstMatch = (ctx: EvalContext, from?: number, eligible?: Uint8Array) => number;

/**
 * One rule of a first-match program: a condition, several that must all hold, or null (always holds).
 */
export type RuleConditions = Expr | readonly Expr[] | null;

/** A conjunct that is not a column test: its closure runs (`Step.closure`). */
const CLOSURE = -1;

/**
 * One conjunct as the program runs it: a column test's fields, or a closure. Every step has every
 * field, so the loop reads one object shape.
 */
interface Step {
  readonly kind: TestKind | typeof CLOSURE;
  readonly slot: number;
  readonly op: TestOp;
  readonly num: number;
  readonly text: string;
  readonly textChoices: readonly string[];
  readonly numChoices: readonly number[];
  readonly negated: boolean;
  readonly exchange: Exchange | null;
  readonly converted: number;
  readonly closure: Closure | null;
}

/**
 * Rules compiled for `firstMatchIn`: rule `r`'s conjuncts are `steps[starts[r]]` up to
 * `steps[starts[r + 1]]`. Plain data; build it with `compileRules`.
 */
export interface RuleProgram {
  readonly count: number;
  readonly starts: Int32Array;
  readonly steps: readonly Step[];
}

/**
 * Compiles rules (in priority order) into a first-match function.
 *
 * @example
 * const firstOffer = compileFirstMatch(offers.map((o) => o.when), env);
 * const index = firstOffer(ctx); // -1 when no offer's condition holds
 */
export function compileFirstMatch(rules: readonly RuleConditions[], env: CompileEnv): FirstMatch {
  const program = compileRules(rules, env);
  return (ctx, from = 0, eligible) => firstMatchIn(program, ctx, from, eligible);
}

/**
 * Compiles rules (in priority order) into a program for `firstMatchIn`: what `compileFirstMatch`
 * wraps, for a caller that runs it on every decision and calls `firstMatchIn` directly.
 *
 * @example
 * const program = compileRules(offers.map((o) => o.when), env);
 * const index = firstMatchIn(program, ctx, 0, undefined);
 */
export function compileRules(rules: readonly RuleConditions[], env: CompileEnv): RuleProgram {
  const starts: number[] = [];
  const steps: Step[] = [];
  for (const rule of rules) {
    starts.push(steps.length);
    const conditions: readonly Expr[] = rule === null ? [] : Array.isArray(rule) ? rule : [rule as Expr];
    for (const condition of conditions) {
      for (const conjunct of compileConjuncts(condition, env)) steps.push(stepOf(conjunct));
    }
  }
  starts.push(steps.length);
  return { count: rules.length, starts: Int32Array.from(starts), steps };
}

/** What a closure step has in place of a column test's fields. */
const NO_TEST: ColumnTest = {
  kind: TestKind.Text,
  slot: 0,
  op: TestOp.Eq,
  num: 0,
  text: "",
  textChoices: [],
  numChoices: [],
  negated: false,
  exchange: null,
  converted: 0,
};

function stepOf(conjunct: ColumnTest | Closure): Step {
  const closure = typeof conjunct === "function" ? conjunct : null;
  const test = closure === null ? (conjunct as ColumnTest) : NO_TEST;
  // One object literal for both kinds of step: one shape for the loop to read.
  return {
    kind: closure === null ? test.kind : CLOSURE,
    slot: test.slot,
    op: test.op,
    num: test.num,
    text: test.text,
    textChoices: test.textChoices,
    numChoices: test.numChoices,
    negated: test.negated,
    exchange: test.exchange,
    converted: test.converted,
    closure,
  };
}

// Module-local copies of what the loop compares with: an imported binding is read through its
// module cell, and an imported object's property with a map check, on every use.
const TEXT = TestKind.Text;
const TEXT_IN = TestKind.TextIn;
const NUMBER = TestKind.Number;
const MONEY = TestKind.Money;
const DAYS_SINCE = TestKind.DaysSince;
const DAYS_UNTIL = TestKind.DaysUntil;
const NUMBER_VS_NOW = TestKind.NumberVsNow;
const EQ = TestOp.Eq;
const CURRENCY_SLOT = COLUMN_SLOTS.currency!;
const DAY_MS = 86_400_000;

const finite = (v: unknown): v is number => typeof v === "number" && v - v === 0;

/**
 * Index of the first rule of `program` that holds at or after `from`, or -1; with `eligible`, a rule
 * whose entry is 0 is skipped without being evaluated.
 *
 * The program's one loop. A rule needs every conjunct to be true, so a column test here asks only
 * "is it true?": a missing or mistyped value fails it as false does, which is exactly what
 * `evalColumnTest(...) === true` answers (dsl/expr/column-tests.ts, the three-valued original;
 * test/dsl/first-match.test.ts holds them to it). The tests run in this function's own body, not
 * through a call per test: this is the hot loop of every decision, and a call per conjunct costs
 * more than its comparison.
 */
export function firstMatchIn(
  program: RuleProgram,
  ctx: EvalContext,
  from: number,
  eligible: Uint8Array | undefined,
): number {
  const { count, starts, steps } = program;
  const row = ctx.customer;
  const now = ctx.now;
  next: for (let rule = from; rule < count; rule++) {
    if (eligible !== undefined && eligible[rule] === 0) continue;
    const end = starts[rule + 1]!;
    for (let i = starts[rule]!; i < end; i++) {
      const step = steps[i]!;
      const kind = step.kind;
      if (kind === CLOSURE) {
        if (step.closure!(ctx) !== true) continue next;
        continue;
      }
      const v = readColumn(row, step.slot);
      if (kind === TEXT) {
        // Strings only past the guard, so the comparison stays a string comparison.
        if (typeof v !== "string" || (v === step.text) !== (step.op === EQ)) continue next;
        continue;
      }
      if (kind === TEXT_IN) {
        if (typeof v !== "string" || step.textChoices.includes(v) === step.negated) continue next;
        continue;
      }
      if (!finite(v)) continue next;
      let left: number;
      let right = step.num;
      switch (kind) {
        case NUMBER:
          left = v;
          break;
        case MONEY: {
          const currency = readColumn(row, CURRENCY_SLOT);
          if (currency === step.text) {
            left = v;
            break;
          }
          // Another currency: both sides in the ruleset currency, as evalColumnTest does.
          if (step.exchange === null || typeof currency !== "string") continue next;
          const converted = toRulesetCurrency(step.exchange, v, currency);
          if (converted === null) continue next;
          left = converted;
          right = step.converted;
          break;
        }
        case DAYS_SINCE:
          left = truncate((now - v) / DAY_MS);
          break;
        case DAYS_UNTIL:
          left = truncate((v - now) / DAY_MS);
          break;
        case NUMBER_VS_NOW:
          left = v;
          right = now + step.num;
          break;
        default:
          if (step.numChoices.includes(v) === step.negated) continue next;
          continue;
      }
      if (!compareNumbers(step.op, left, right)) continue next;
    }
    return rule;
  }
  return -1;
}
