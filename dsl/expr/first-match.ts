/**
 * First match over an ordered list of conditions, compiled as one program: the conjuncts of every
 * condition sit in flat arrays and one loop walks them, so deciding among 20 offers costs no
 * closure call per rule and none per column test.
 *
 * Stage: closure back end (after compile.ts), for callers that ask "which is the first rule that
 * holds?" (offer lists, dunning steps). Same semantics as `holds(compileExpression(...)(ctx))`
 * rule by rule: a rule holds only when every conjunct is true; unknown does not hold.
 */

import type { Expr } from "./ast";
import { type ColumnTest, evalColumnTest } from "./column-tests";
import { type CompileEnv, compileConjuncts } from "./compile";
import type { Closure, EvalContext } from "./types";

/** Index of the first condition that holds at or after `from`, or -1. */
export type FirstMatch = (ctx: EvalContext, from?: number) => number;

/**
 * Compiles conditions (in priority order) into a first-match function.
 *
 * @example
 * const firstOffer = compileFirstMatch(offers.map((o) => o.when), env);
 * const index = firstOffer(ctx); // -1 when no offer's condition holds
 */
export function compileFirstMatch(conditions: readonly Expr[], env: CompileEnv): FirstMatch {
  const starts: number[] = [];
  const tests: (ColumnTest | null)[] = [];
  const closures: (Closure | null)[] = [];
  for (const condition of conditions) {
    starts.push(tests.length);
    for (const conjunct of compileConjuncts(condition, env)) {
      tests.push(typeof conjunct === "function" ? null : conjunct);
      closures.push(typeof conjunct === "function" ? conjunct : null);
    }
  }
  starts.push(tests.length);
  const count = conditions.length;
  return (ctx, from = 0) => {
    rules: for (let rule = from; rule < count; rule++) {
      const end = starts[rule + 1]!;
      for (let i = starts[rule]!; i < end; i++) {
        const test = tests[i];
        const value = test ? evalColumnTest(test, ctx) : closures[i]!(ctx);
        if (value !== true) continue rules;
      }
      return rule;
    }
    return -1;
  };
}
