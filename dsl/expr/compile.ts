/**
 * Closure back end: a checked expression → a tree of plain JavaScript closures that evaluate one
 * customer at the edge. No eval, no `new Function` (Workers forbid runtime code generation).
 *
 * Stage: check-expr → compile. Missing values follow SQL's three-valued logic so the result is
 * exactly what dsl/expr/sql.ts computes in D1: a comparison with a missing operand is unknown (null);
 * `not`, `and`, `or` are Kleene's (dsl/expr/three-valued.ts); `is null` / `exists` are never
 * unknown. Event aggregates are dsl/expr/aggregates.ts.
 */

import { aggregate, currencyOf, moneyTotal } from "./aggregates";
import type { CompareOp, Expr } from "./ast";
import {
  type ColumnTest,
  comparisonTest,
  evalColumnTest,
  intern,
  membershipTest,
  TestKind,
  truncate,
} from "./column-tests";
import { converting, type Exchange, toRulesetCurrency } from "./exchange";
import { and, andAll, type Conjunct, not, orAll } from "./three-valued";
import { analyzeExpression, type NodeInfo } from "./typecheck";
import type { Closure, EvalContext, Money, Scope, Value } from "./types";

export interface CompileEnv {
  readonly scope: Scope;
  /** The compiled closure of a segment the expression names (segments are compiled first). */
  readonly segment: (name: string) => Closure;
}

/** Thrown when asked to compile an expression that does not check; callers check first. */
export class CompileError extends Error {}

const DAY_MS = 86_400_000;

/**
 * Compiles a checked expression into a closure.
 *
 * @example compileExpression(parseExpression("ltv >= $500").ast!, env)(ctx) // true | false | null
 */
export function compileExpression(ast: Expr, env: CompileEnv): Closure {
  const analysis = analyzeExpression(ast, env.scope);
  if (analysis.diagnostics.length > 0) {
    throw new CompileError(`expression does not check: ${analysis.diagnostics[0]!.message}`);
  }
  return new Compiler(analysis.info, env).compile(ast);
}

/**
 * Compiles a condition into its top-level `and` operands, each as a column test when it has that
 * shape (for dsl/expr/first-match.ts, which runs many conditions in one loop). The condition holds
 * exactly when every conjunct evaluates to true.
 */
export function compileConjuncts(ast: Expr, env: CompileEnv): Conjunct[] {
  const analysis = analyzeExpression(ast, env.scope);
  if (analysis.diagnostics.length > 0) {
    throw new CompileError(`expression does not check: ${analysis.diagnostics[0]!.message}`);
  }
  const compiler = new Compiler(analysis.info, env);
  return flatten(ast, "and").map((operand) => compiler.conjunct(operand));
}

class Compiler {
  constructor(
    private readonly info: ReadonlyMap<Expr, NodeInfo>,
    private readonly env: CompileEnv,
  ) {}

  private infoOf(node: Expr): NodeInfo {
    const info = this.info.get(node);
    if (!info) throw new CompileError(`unchecked ${node.kind} node`);
    return info;
  }

  compile(node: Expr): Closure {
    const info = this.infoOf(node);
    switch (node.kind) {
      case "number":
      case "string":
      case "boolean":
        return constant(intern(node.value));
      case "duration":
      case "timestamp":
        return constant(node.ms);
      case "money":
        return constant(info.money!);
      case "list":
        throw new CompileError("a list is only valid after `in`");
      case "now":
        return (ctx) => ctx.now;
      case "name":
        if (info.field) return info.field.read;
        return this.env.segment(info.segment!);
      case "not": {
        const operand = this.compile(node.operand);
        return (ctx) => {
          const v = operand(ctx);
          return v === null ? null : !v;
        };
      }
      case "negate": {
        const operand = this.compile(node.operand);
        if (info.type.kind === "money") {
          return (ctx) => {
            const v = operand(ctx) as Money | null;
            return v === null ? null : { amount: -v.amount, currency: v.currency };
          };
        }
        return (ctx) => {
          const v = operand(ctx) as number | null;
          return v === null ? null : -v;
        };
      }
      case "logical": {
        // `a and b and c` parses as a left-leaning tree; one loop over its operands saves a call per level.
        const operands = flatten(node, node.op).map(
          (operand) => this.columnTest(operand) ?? this.compile(operand),
        );
        return node.op === "and" ? andAll(operands) : orAll(operands);
      }
      case "compare": {
        const test = this.columnTest(node);
        if (test) return (ctx) => evalColumnTest(test, ctx);
        return this.compare(node.op, node.left, node.right);
      }
      case "arith":
        return this.arith(node);
      case "in": {
        const test = this.columnTest(node);
        if (test) return (ctx) => evalColumnTest(test, ctx);
        return this.inList(node);
      }
      case "between": {
        const both = this.between(node);
        return node.negated ? not(both) : both;
      }
      case "null_test": {
        const operand = this.compile(node.operand);
        return node.negated ? (ctx) => operand(ctx) !== null : (ctx) => operand(ctx) === null;
      }
      case "call":
        if (info.timeFn) return this.timeFn(info.timeFn, this.compile(node.args[0]!));
        return aggregate(info.aggregate!);
    }
  }

  conjunct(node: Expr): Conjunct {
    return this.columnTest(node) ?? this.compile(node);
  }

  /** The fast-path form of a column-against-literal condition, when `node` has that shape. */
  private columnTest(node: Expr): ColumnTest | undefined {
    if (node.kind === "in") {
      const column = this.infoOf(node.operand).field?.column;
      const items = node.list.items;
      if (column === undefined || items.length === 0 || items.length > 8) return undefined;
      const choices = [...new Set(items.map((item) => this.compile(item)(EMPTY_CONTEXT) as string | number))];
      const kind = this.infoOf(node.operand).type.kind;
      if (kind === "string" || kind === "enum")
        return membershipTest(TestKind.TextIn, column, choices, node.negated);
      if (kind === "number" || kind === "timestamp")
        return membershipTest(TestKind.NumberIn, column, choices, node.negated);
      return undefined;
    }
    if (node.kind !== "compare") return undefined;
    const { op, left, right } = node;
    const leftInfo = this.infoOf(left);
    const column = leftInfo.field?.column;
    if (column !== undefined) {
      switch (leftInfo.type.kind) {
        case "string":
        case "enum":
          return right.kind === "string" ? comparisonTest(TestKind.Text, column, op, right.value) : undefined;
        case "number":
        case "timestamp": {
          if (isConstant(right)) return comparisonTest(TestKind.Number, column, op, this.constant(right));
          const offset = nowOffset(right);
          return offset === undefined ? undefined : comparisonTest(TestKind.NumberVsNow, column, op, offset);
        }
        case "money": {
          if (right.kind !== "money") return undefined;
          const money = this.infoOf(right).money!;
          const exchange = converting(this.env.scope.exchange) ?? null;
          return comparisonTest(TestKind.Money, column, op, money.amount, money.currency, exchange);
        }
        default:
          return undefined;
      }
    }
    if (left.kind === "call" && leftInfo.timeFn && isConstant(right)) {
      const argColumn = this.infoOf(left.args[0]!).field?.column;
      if (argColumn === undefined) return undefined;
      const kind = leftInfo.timeFn === "days_since" ? TestKind.DaysSince : TestKind.DaysUntil;
      return comparisonTest(kind, argColumn, op, this.constant(right));
    }
    return undefined;
  }

  private constant(node: Expr): number {
    return this.compile(node)(EMPTY_CONTEXT) as number;
  }

  private compare(op: CompareOp, leftNode: Expr, rightNode: Expr): Closure {
    const leftInfo = this.infoOf(leftNode);
    const parts = leftInfo.field?.moneyParts;
    if (parts && rightNode.kind === "money") {
      const { amount, currency } = this.infoOf(rightNode).money!;
      return compareMoneyWithConstant(
        op,
        parts.amount,
        parts.currency,
        amount,
        currency,
        converting(this.env.scope.exchange),
      );
    }
    const agg = leftInfo.aggregate;
    if (agg?.fn === "sum" && leftInfo.type.kind === "money" && rightNode.kind === "money") {
      // A money total against an amount: the total is in the customer's currency, so a customer in
      // another currency (or none) is unknown before any event is read, and no Money is built.
      const { amount, currency } = this.infoOf(rightNode).money!;
      const total = moneyTotal(agg);
      return compareMoneyWithConstant(
        op,
        total,
        currencyOf,
        amount,
        currency,
        converting(this.env.scope.exchange),
      );
    }
    const left = this.compile(leftNode);
    if (leftInfo.type.kind !== "money" && isConstant(rightNode)) {
      return compareWithConstant(op, left, this.compile(rightNode)(EMPTY_CONTEXT) as Primitive);
    }
    const right = this.compile(rightNode);
    const test = COMPARATORS[op];
    if (leftInfo.type.kind === "money") {
      const exchange = converting(this.env.scope.exchange);
      return (ctx) => {
        const a = left(ctx) as Money | null;
        if (a === null) return null;
        const b = right(ctx) as Money | null;
        if (b === null) return null;
        if (a.currency === b.currency) return test(a.amount, b.amount);
        if (exchange === undefined) return null;
        const x = toRulesetCurrency(exchange, a.amount, a.currency);
        const y = toRulesetCurrency(exchange, b.amount, b.currency);
        return x === null || y === null ? null : test(x, y);
      };
    }
    return (ctx) => {
      const a = left(ctx) as number | string | boolean | null;
      if (a === null) return null;
      const b = right(ctx) as number | string | boolean | null;
      return b === null ? null : test(a, b);
    };
  }

  /**
   * `x between lo and hi` as `x >= lo and x <= hi`, reading `x` once: an aggregate operand
   * (`count(activity, 30d) between 2 and 5`) would otherwise scan the events twice. Money keeps the
   * two comparisons, which check currencies.
   */
  private between(node: Extract<Expr, { kind: "between" }>): Closure {
    if (this.infoOf(node.operand).type.kind === "money") {
      return and(this.compare(">=", node.operand, node.low), this.compare("<=", node.operand, node.high));
    }
    const read = this.compile(node.operand);
    const low = this.compile(node.low);
    const high = this.compile(node.high);
    if (isConstant(node.low) && isConstant(node.high)) {
      const lo = low(EMPTY_CONTEXT) as Primitive | null;
      const hi = high(EMPTY_CONTEXT) as Primitive | null;
      if (lo !== null && hi !== null) {
        return (ctx) => {
          const v = read(ctx) as Primitive | null;
          return v === null ? null : v >= lo && v <= hi;
        };
      }
    }
    return (ctx) => {
      const v = read(ctx) as Primitive | null;
      if (v === null) return null;
      const lo = low(ctx) as Primitive | null;
      const hi = high(ctx) as Primitive | null;
      // Kleene and of the two comparisons: false wins over unknown.
      if ((lo !== null && v < lo) || (hi !== null && v > hi)) return false;
      return lo === null || hi === null ? null : true;
    };
  }

  private arith(node: Extract<Expr, { kind: "arith" }>): Closure {
    const left = this.compile(node.left);
    const right = this.compile(node.right);
    const lt = this.infoOf(node.left).type;
    const rt = this.infoOf(node.right).type;
    const op = ARITH[node.op];
    if (lt.kind === "money" && rt.kind === "money") {
      // Across currencies a sum is unknown, even with exchange rates: only comparisons convert.
      return (ctx) => {
        const a = left(ctx) as Money | null;
        const b = right(ctx) as Money | null;
        if (a === null || b === null || a.currency !== b.currency) return null;
        return { amount: op(a.amount, b.amount) as number, currency: a.currency };
      };
    }
    if (lt.kind === "money" || rt.kind === "money") {
      const moneyLeft = lt.kind === "money";
      return (ctx) => {
        const a = left(ctx);
        const b = right(ctx);
        if (a === null || b === null) return null;
        const m = (moneyLeft ? a : b) as Money;
        const amount = moneyLeft ? op(m.amount, b as number) : op(a as number, m.amount);
        return amount === null ? null : { amount, currency: m.currency };
      };
    }
    return (ctx) => {
      const a = left(ctx) as number | null;
      if (a === null) return null;
      const b = right(ctx) as number | null;
      return b === null ? null : op(a, b);
    };
  }

  private inList(node: Extract<Expr, { kind: "in" }>): Closure {
    const items = node.list.items.map((item) => this.compile(item)(EMPTY_CONTEXT));
    const values = new Set<unknown>(items);
    // SQL's `x IN (<empty>)` is false even for a NULL x; mirror it.
    if (values.size === 0) return constant(node.negated);
    const negated = node.negated;
    const operand = this.compile(node.operand);
    return (ctx) => {
      const v = operand(ctx);
      if (v === null) return null;
      return values.has(v) !== negated;
    };
  }

  private timeFn(fn: "days_since" | "days_until", ts: Closure): Closure {
    if (fn === "days_since") {
      return (ctx) => {
        const t = ts(ctx) as number | null;
        return t === null ? null : truncate((ctx.now - t) / DAY_MS);
      };
    }
    return (ctx) => {
      const t = ts(ctx) as number | null;
      return t === null ? null : truncate((t - ctx.now) / DAY_MS);
    };
  }
}

const EMPTY_CONTEXT: EvalContext = { now: 0, customer: {}, events: [] };

function isConstant(node: Expr): boolean {
  return (
    node.kind === "number" ||
    node.kind === "string" ||
    node.kind === "boolean" ||
    node.kind === "duration" ||
    node.kind === "timestamp" ||
    (node.kind === "negate" && isConstant(node.operand))
  );
}

function constant(value: Value | null): Closure {
  return () => value;
}

type Primitive = number | string | boolean;

const COMPARATORS: Readonly<Record<CompareOp, (a: Primitive, b: Primitive) => boolean>> = {
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

// Division by zero is missing, as in SQLite.
const ARITH: Readonly<Record<"+" | "-" | "*" | "/", (a: number, b: number) => number | null>> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => (b === 0 ? null : a / b),
};

function flatten(node: Expr, op: "and" | "or"): Expr[] {
  if (node.kind !== "logical" || node.op !== op) return [node];
  return [...flatten(node.left, op), ...flatten(node.right, op)];
}

/** `now`, `now + d` or `now - d` with a duration literal: the offset from now in ms. */
function nowOffset(node: Expr): number | undefined {
  if (node.kind === "now") return 0;
  if (node.kind !== "arith" || node.left.kind !== "now" || node.right.kind !== "duration") return undefined;
  if (node.op === "+") return node.right.ms;
  if (node.op === "-") return -node.right.ms;
  return undefined;
}

// One closure per operator, so the hot comparison is inline rather than a call through a table.
function compareWithConstant(op: CompareOp, read: Closure, k: Primitive): Closure {
  switch (op) {
    case "==":
      return (ctx) => {
        const a = read(ctx);
        return a === null ? null : a === k;
      };
    case "!=":
      return (ctx) => {
        const a = read(ctx);
        return a === null ? null : a !== k;
      };
    case "<":
      return (ctx) => {
        const a = read(ctx) as Primitive | null;
        return a === null ? null : a < k;
      };
    case "<=":
      return (ctx) => {
        const a = read(ctx) as Primitive | null;
        return a === null ? null : a <= k;
      };
    case ">":
      return (ctx) => {
        const a = read(ctx) as Primitive | null;
        return a === null ? null : a > k;
      };
    case ">=":
      return (ctx) => {
        const a = read(ctx) as Primitive | null;
        return a === null ? null : a >= k;
      };
  }
}

type PartReader<T> = (ctx: EvalContext) => T | null;

/**
 * A money field against a money literal, without building Money objects. Across currencies:
 * unknown without exchange rates, else both sides in the ruleset currency (unknown without a rate).
 */
function compareMoneyWithConstant(
  op: CompareOp,
  amount: PartReader<number>,
  currency: PartReader<string>,
  k: number,
  kCurrency: string,
  exchange: Exchange | undefined,
): Closure {
  const test = COMPARATORS[op];
  if (exchange !== undefined) {
    const converted = toRulesetCurrency(exchange, k, kCurrency);
    return (ctx) => {
      const a = amount(ctx);
      if (a === null) return null;
      const c = currency(ctx);
      if (c === kCurrency) return test(a, k);
      if (c === null || converted === null) return null;
      const x = toRulesetCurrency(exchange, a, c);
      return x === null ? null : test(x, converted);
    };
  }
  switch (op) {
    case ">=":
      return (ctx) => {
        const a = amount(ctx);
        return a === null || currency(ctx) !== kCurrency ? null : a >= k;
      };
    case "<":
      return (ctx) => {
        const a = amount(ctx);
        return a === null || currency(ctx) !== kCurrency ? null : a < k;
      };
    default:
      return (ctx) => {
        const a = amount(ctx);
        return a === null || currency(ctx) !== kCurrency ? null : test(a, k);
      };
  }
}
