/**
 * The expression AST: what dsl/expr/parser.ts produces and check-expr.ts, compile.ts and sql.ts consume.
 *
 * Stage: types only. Every node carries the `Span` of its source text (offsets relative to the
 * expression string), so any later stage can point at it. Nodes are plain JSON-serialisable data:
 * the compiled ruleset stores them and the Worker compiles them again at start-up.
 */

import type { Span } from "../errors";

export type Expr =
  | NumberLiteral
  | StringLiteral
  | BooleanLiteral
  | MoneyLiteral
  | DurationLiteral
  | TimestampLiteral
  | ListLiteral
  | NowExpr
  | NameExpr
  | NotExpr
  | NegateExpr
  | LogicalExpr
  | CompareExpr
  | ArithExpr
  | InExpr
  | BetweenExpr
  | NullTestExpr
  | CallExpr;

export interface NumberLiteral {
  readonly kind: "number";
  readonly value: number;
  readonly span: Span;
}

export interface StringLiteral {
  readonly kind: "string";
  readonly value: string;
  readonly span: Span;
}

export interface BooleanLiteral {
  readonly kind: "boolean";
  readonly value: boolean;
  readonly span: Span;
}

/**
 * `$20`, `$19.99`, `€5`, `£5`, `20 EUR`. The amount stays decimal text until the checker knows
 * the currency's minor-unit digits; `currency` is null for the `$` sigil (the ruleset's default).
 */
export interface MoneyLiteral {
  readonly kind: "money";
  readonly amount: string;
  readonly currency: string | null;
  readonly span: Span;
}

/** `14d`, `12h`, `30m`, `2w`, `45s`, or combined `1d12h`; `ms` is the total in milliseconds. */
export interface DurationLiteral {
  readonly kind: "duration";
  readonly ms: number;
  readonly span: Span;
}

/** `2026-01-31` (UTC midnight) or `2026-01-31T09:30:00Z` / `...+02:00`; `ms` is epoch ms. */
export interface TimestampLiteral {
  readonly kind: "timestamp";
  readonly ms: number;
  readonly span: Span;
}

export interface ListLiteral {
  readonly kind: "list";
  readonly items: readonly Expr[];
  readonly span: Span;
}

/** `now`: the evaluation instant (a bound parameter in SQL). */
export interface NowExpr {
  readonly kind: "now";
  readonly span: Span;
}

/**
 * A bare name: a field (`ltv`), a segment (`high_value`), or, as a function argument, an event
 * type or event property path (`order.completed.amount`). The checker decides which.
 */
export interface NameExpr {
  readonly kind: "name";
  readonly name: string;
  readonly span: Span;
}

export interface NotExpr {
  readonly kind: "not";
  readonly operand: Expr;
  readonly span: Span;
}

/** Unary minus: `-5`, `-$5`, `-1d`. */
export interface NegateExpr {
  readonly kind: "negate";
  readonly operand: Expr;
  readonly span: Span;
}

export interface LogicalExpr {
  readonly kind: "logical";
  readonly op: "and" | "or";
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

export interface CompareExpr {
  readonly kind: "compare";
  readonly op: CompareOp;
  readonly left: Expr;
  readonly right: Expr;
  /** The operator token, for errors that point at it. */
  readonly opSpan: Span;
  readonly span: Span;
}

export type ArithOp = "+" | "-" | "*" | "/";

export interface ArithExpr {
  readonly kind: "arith";
  readonly op: ArithOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly opSpan: Span;
  readonly span: Span;
}

/** `x in [a, b]` and `x not in [a, b]`; `list` is a list literal. */
export interface InExpr {
  readonly kind: "in";
  readonly negated: boolean;
  readonly operand: Expr;
  readonly list: ListLiteral;
  readonly span: Span;
}

/** `x between low and high` (inclusive) and `x not between low and high`. */
export interface BetweenExpr {
  readonly kind: "between";
  readonly negated: boolean;
  readonly operand: Expr;
  readonly low: Expr;
  readonly high: Expr;
  readonly span: Span;
}

/**
 * `x is null` (negated: false), `x is not null` and `exists x` (negated: true). Never unknown:
 * always true or false.
 */
export interface NullTestExpr {
  readonly kind: "null_test";
  readonly negated: boolean;
  readonly operand: Expr;
  readonly span: Span;
}

/** `days_since(ts)`, `count(activity, 30d)`, `sum(order.completed.amount, 90d)`, `last(...)`. */
export interface CallExpr {
  readonly kind: "call";
  readonly name: string;
  readonly nameSpan: Span;
  readonly args: readonly Expr[];
  readonly span: Span;
}
