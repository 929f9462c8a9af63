/**
 * First match over an ordered list of conditions, compiled as one program: the conjuncts of every
 * condition sit in flat arrays and one loop walks them, so deciding among 20 offers costs no
 * closure call per rule and none per column test.
 *
 * Stage: closure back end (after compile.ts), for callers that ask "which is the first rule that
 * holds?" (offer lists: dsl/runtime/offer-program.ts; dunning steps). Same semantics as
 * `holds(compileExpression(...)(ctx))` rule by rule: a rule holds only when every conjunct is true;
 * unknown does not hold. A rule may be several conditions that must all hold (an offer's segments
 * and its `when`), or none (it always holds).
 */

import type { Expr } from "./ast";
import { type ColumnTest, evalColumnTest } from "./column-tests";
import { type CompileEnv, compileConjuncts } from "./compile";
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

/**
 * Compiles rules (in priority order) into a first-match function.
 *
 * @example
 * const firstOffer = compileFirstMatch(offers.map((o) => o.when), env);
 * const index = firstOffer(ctx); // -1 when no offer's condition holds
 */
export function compileFirstMatch(rules: readonly RuleConditions[], env: CompileEnv): FirstMatch {
  const starts: number[] = [];
  const tests: (ColumnTest | null)[] = [];
  const closures: (Closure | null)[] = [];
  for (const rule of rules) {
    starts.push(tests.length);
    const conditions: readonly Expr[] = rule === null ? [] : Array.isArray(rule) ? rule : [rule as Expr];
    for (const condition of conditions) {
      for (const conjunct of compileConjuncts(condition, env)) {
        tests.push(typeof conjunct === "function" ? null : conjunct);
        closures.push(typeof conjunct === "function" ? conjunct : null);
      }
    }
  }
  starts.push(tests.length);
  const count = rules.length;
  return (ctx, from = 0, eligible) => {
    next: for (let rule = from; rule < count; rule++) {
      if (eligible !== undefined && eligible[rule] === 0) continue;
      const end = starts[rule + 1]!;
      for (let i = starts[rule]!; i < end; i++) {
        const test = tests[i];
        const value = test ? evalColumnTest(test, ctx) : closures[i]!(ctx);
        if (value !== true) continue next;
      }
      return rule;
    }
    return -1;
  };
}
