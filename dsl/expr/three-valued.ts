/**
 * Three-valued logic for compiled closures: SQL's, so closures and dsl/expr/sql.ts agree. A value
 * is true, false or unknown (null, from a missing operand); `not`, `and` and `or` are Kleene's
 * (false wins an `and`, true wins an `or`, otherwise unknown is catching), and a condition holds
 * only when it is true.
 *
 * Stage: part of compile (dsl/expr/compile.ts builds its logical operators from these).
 */

import { type ColumnTest, evalColumnTest } from "./column-tests";
import type { Closure, Value } from "./types";

/** One conjunct of a condition: a column test (data) or a closure. */
export type Conjunct = ColumnTest | Closure;

/** Whether a compiled condition holds: only `true` does; false and unknown (null) do not. */
export function holds(value: Value | null): boolean {
  return value === true;
}

/** Kleene `and` over many operands: false wins, then unknown, else true. */
export function andAll(operands: readonly Conjunct[]): Closure {
  const n = operands.length;
  const tests = operands.map((o) => (typeof o === "function" ? null : o));
  const closures = operands.map((o) => (typeof o === "function" ? o : null));
  if (tests.every((t) => t !== null)) {
    if (n === 2) {
      const [first, second] = tests as ColumnTest[];
      return (ctx) => {
        const a = evalColumnTest(first!, ctx);
        if (a === false) return false;
        const b = evalColumnTest(second!, ctx);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    }
    return (ctx) => {
      let unknown = false;
      for (let i = 0; i < n; i++) {
        const v = evalColumnTest(tests[i]!, ctx);
        if (v === false) return false;
        if (v === null) unknown = true;
      }
      return unknown ? null : true;
    };
  }
  return (ctx) => {
    let unknown = false;
    for (let i = 0; i < n; i++) {
      const test = tests[i];
      const v = test ? evalColumnTest(test, ctx) : closures[i]!(ctx);
      if (v === false) return false;
      if (v === null) unknown = true;
    }
    return unknown ? null : true;
  };
}

/** Kleene `or` over many operands: true wins, then unknown, else false. */
export function orAll(operands: readonly Conjunct[]): Closure {
  const n = operands.length;
  const tests = operands.map((o) => (typeof o === "function" ? null : o));
  const closures = operands.map((o) => (typeof o === "function" ? o : null));
  return (ctx) => {
    let unknown = false;
    for (let i = 0; i < n; i++) {
      const test = tests[i];
      const v = test ? evalColumnTest(test, ctx) : closures[i]!(ctx);
      if (v === true) return true;
      if (v === null) unknown = true;
    }
    return unknown ? null : false;
  };
}

export function not(operand: Closure): Closure {
  return (ctx) => {
    const v = operand(ctx);
    return v === null ? null : !v;
  };
}

export function and(left: Closure, right: Closure): Closure {
  return (ctx) => {
    const l = left(ctx);
    if (l === false) return false;
    const r = right(ctx);
    if (r === false) return false;
    return l === null || r === null ? null : true;
  };
}
