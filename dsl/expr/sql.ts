/**
 * SQL back end: a checked expression → a WHERE fragment over `customers c` for D1 (SQLite), with
 * bound parameters. Event aggregates become correlated subqueries on `events` that the index
 * (customer_id, type, occurred_at) serves; the evaluation instant is a parameter (`NowParam`)
 * resolved by `bindSql` when the query runs.
 *
 * Stage: check-expr → sql. Every translation mirrors dsl/expr/compile.ts exactly (the differential test
 * in test/worker/differential.test.ts holds the two to it): booleans are 1/0/NULL, arithmetic
 * runs on REALs like JavaScript numbers, a money value is an (amount, currency) pair.
 */

import { LIMITS } from "../limits";
import type { CompareOp, Expr } from "./ast";
import { converting, toRulesetCurrencySql } from "./exchange";
import { type AggregateInfo, analyzeExpression, type NodeInfo } from "./typecheck";
import type { ExprType, Scope, SqlFragment, SqlParam } from "./types";

export interface SqlEnv {
  readonly scope: Scope;
  /** The translated condition of a segment the expression names; it is inlined. */
  readonly segment: (name: string) => SqlFragment;
}

/**
 * How `x in [...]` lists are written. Both forms select the same rows.
 * - `"bound"` (the default): a list is written out when no item needs a parameter (integers,
 *   booleans, names of letters, digits, `_` and `.`); any other list is one JSON parameter,
 *   `IN (SELECT value FROM json_each(?))`.
 * - `"literal"`: also writes out lists of up to 50 names that contain `-` and of finite numbers
 *   that are not integers. For scans over many customers (the tick's campaign audiences): under
 *   `NOT IN`, SQLite checks a bound list for NULL once per row it rejects nothing for, and D1 bills
 *   that as a row read per customer scanned (measured: 2 rows per customer instead of 1). A literal
 *   list never holds NULL and costs nothing per row.
 */
export interface SqlOptions {
  readonly lists?: "literal" | "bound";
}

/** Thrown for an expression that does not check or whose SQL would exceed D1's parameter limit. */
export class SqlTranslationError extends Error {}

const NOW: SqlParam = Object.freeze({ now: true as const });
const DAY_MS = 86_400_000;

/**
 * Translates a checked boolean expression into a WHERE fragment; a row matches only when the
 * fragment is true (NULL, "unknown", does not match, exactly like `holds()` for closures).
 *
 * @example
 * const where = expressionToSql(parseExpression("ltv >= $500").ast!, env);
 * db.prepare(`SELECT c.id FROM customers c WHERE ${where.sql}`).bind(...bindSql(where, now));
 */
export function expressionToSql(ast: Expr, env: SqlEnv, options: SqlOptions = {}): SqlFragment {
  const analysis = analyzeExpression(ast, env.scope);
  if (analysis.diagnostics.length > 0) {
    throw new SqlTranslationError(`expression does not check: ${analysis.diagnostics[0]!.message}`);
  }
  const fragment = new Translator(analysis.info, env, options.lists ?? "bound").value(ast);
  if (fragment.params.length > LIMITS.maxSqlParams) {
    throw new SqlTranslationError(
      `the SQL for this expression needs ${fragment.params.length} parameters; the limit is ${LIMITS.maxSqlParams}`,
    );
  }
  return fragment;
}

/**
 * Translates an expression of any type into a SELECT-able value (for `explain`, tests and
 * audience previews). Money comes back as its amount plus a separate currency fragment.
 */
export function valueToSql(
  ast: Expr,
  env: SqlEnv,
  options: SqlOptions = {},
): { value: SqlFragment; currency?: SqlFragment } {
  const analysis = analyzeExpression(ast, env.scope);
  if (analysis.diagnostics.length > 0) {
    throw new SqlTranslationError(`expression does not check: ${analysis.diagnostics[0]!.message}`);
  }
  const translator = new Translator(analysis.info, env, options.lists ?? "bound");
  if (analysis.type?.kind === "money") {
    const money = translator.money(ast);
    return { value: money.amount, currency: money.currency };
  }
  return { value: translator.value(ast) };
}

/**
 * A segment reference in SQL: membership is true or false, never unknown, exactly like
 * `CompiledCondition.membership` for closures (a customer whose `high_value` is unknown is not in
 * it, so `not high_value` holds for them).
 */
export function membershipSql(fragment: SqlFragment): SqlFragment {
  return { sql: `COALESCE((${fragment.sql}), 0)`, params: fragment.params };
}

/** The fragment's parameters with every `NowParam` replaced by `now` (epoch ms). */
export function bindSql(fragment: SqlFragment, now: number): (string | number | null)[] {
  return fragment.params.map((p) => (typeof p === "object" && p !== null ? now : p));
}

interface MoneySql {
  readonly amount: SqlFragment;
  readonly currency: SqlFragment;
}

/** Joins literal SQL text and fragments, keeping parameters in placeholder order. */
function sql(strings: TemplateStringsArray, ...parts: SqlFragment[]): SqlFragment {
  let text = strings[0]!;
  const params: SqlParam[] = [];
  parts.forEach((part, i) => {
    text += part.sql + strings[i + 1]!;
    params.push(...part.params);
  });
  return { sql: text, params };
}

const raw = (text: string): SqlFragment => ({ sql: text, params: [] });
const param = (value: SqlParam): SqlFragment => ({ sql: "?", params: [value] });
const now = (): SqlFragment => param(NOW);

/** Numbers that are safe integers are inlined (no parameter spent); others are bound exactly. */
function numberSql(value: number): SqlFragment {
  if (Number.isSafeInteger(value)) return raw(value < 0 ? `(${value})` : String(value));
  return param(value);
}

const SAFE_NAME = /^[A-Za-z0-9_.]+$/;

function textSql(value: string): SqlFragment {
  return SAFE_NAME.test(value) && value.length <= 64 ? raw(`'${value}'`) : param(value);
}

/** The SQL literal for a list item that needs no parameter (safe integer, boolean, plain name), else null. */
function inlineLiteral(value: number | string | boolean): string | null {
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") return Number.isSafeInteger(value) ? String(value) : null;
  return SAFE_NAME.test(value) && value.length <= 64 ? `'${value}'` : null;
}

const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A list's items as literals under `lists: "literal"` (plain names or finite numbers, 1 to 50), else null. */
function literalList(values: readonly (number | string | boolean)[]): string | null {
  if (values.length === 0 || values.length > 50) return null;
  const literals: string[] = [];
  for (const value of values) {
    if (typeof value === "string" && PLAIN_NAME.test(value)) literals.push(`'${value}'`);
    else if (typeof value === "number" && Number.isFinite(value)) literals.push(String(value));
    else return null;
  }
  return literals.join(", ");
}

const COMPARE_SQL: Readonly<Record<CompareOp, string>> = {
  "==": "=",
  "!=": "<>",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};

class Translator {
  constructor(
    private readonly info: ReadonlyMap<Expr, NodeInfo>,
    private readonly env: SqlEnv,
    private readonly lists: "literal" | "bound",
  ) {}

  private infoOf(node: Expr): NodeInfo {
    const info = this.info.get(node);
    if (!info) throw new SqlTranslationError(`unchecked ${node.kind} node`);
    return info;
  }

  /** SQL for a non-money value (booleans as 1/0/NULL). */
  value(node: Expr): SqlFragment {
    const info = this.infoOf(node);
    if (info.type.kind === "money") throw new SqlTranslationError("money needs an amount and a currency");
    switch (node.kind) {
      case "number":
        return numberSql(node.value);
      case "string":
        return param(node.value);
      case "boolean":
        return raw(node.value ? "1" : "0");
      case "duration":
      case "timestamp":
        return numberSql(node.ms);
      case "now":
        return now();
      case "name":
        if (info.field) return raw(info.field.sql);
        return sql`(${this.env.segment(info.segment!)})`;
      case "not":
        return sql`(NOT ${this.value(node.operand)})`;
      case "negate":
        return sql`(-${this.value(node.operand)})`;
      case "logical":
        return node.op === "and"
          ? sql`(${this.value(node.left)} AND ${this.value(node.right)})`
          : sql`(${this.value(node.left)} OR ${this.value(node.right)})`;
      case "compare":
        return this.compare(node.op, node.left, node.right);
      case "arith":
        return this.arith(node.op, node.left, node.right);
      case "in":
        return this.inList(node);
      case "between": {
        const both = sql`(${this.compare(">=", node.operand, node.low)} AND ${this.compare("<=", node.operand, node.high)})`;
        return node.negated ? sql`(NOT ${both})` : both;
      }
      case "null_test":
        return this.nullTest(node.operand, node.negated);
      case "call": {
        if (info.timeFn === "days_since") {
          return sql`CAST((${now()} - ${this.value(node.args[0]!)}) / ${raw(`${DAY_MS}.0`)} AS INTEGER)`;
        }
        if (info.timeFn === "days_until") {
          return sql`CAST((${this.value(node.args[0]!)} - ${now()}) / ${raw(`${DAY_MS}.0`)} AS INTEGER)`;
        }
        return aggregateSql(info.aggregate!);
      }
      case "money":
      case "list":
        throw new SqlTranslationError(`${node.kind} cannot stand alone`);
    }
  }

  /** SQL for a money value as an (amount, currency) pair; missing when either is NULL. */
  money(node: Expr): MoneySql {
    const info = this.infoOf(node);
    switch (node.kind) {
      case "money":
        return { amount: numberSql(info.money!.amount), currency: textSql(info.money!.currency) };
      case "name":
        return { amount: raw(info.field!.sql), currency: raw(info.field!.currencySql!) };
      case "negate": {
        const m = this.money(node.operand);
        return { amount: sql`(-${m.amount})`, currency: m.currency };
      }
      case "arith": {
        const lt = this.infoOf(node.left).type;
        const rt = this.infoOf(node.right).type;
        const op = raw(node.op);
        if (lt.kind === "money" && rt.kind === "money") {
          const a = this.money(node.left);
          const b = this.money(node.right);
          return {
            amount: sql`(CASE WHEN ${a.currency} = ${b.currency} THEN CAST(${a.amount} AS REAL) ${op} ${b.amount} END)`,
            currency: a.currency,
          };
        }
        if (lt.kind === "money") {
          const a = this.money(node.left);
          return {
            amount: sql`(CAST(${a.amount} AS REAL) ${op} ${this.value(node.right)})`,
            currency: a.currency,
          };
        }
        const b = this.money(node.right);
        return {
          amount: sql`(CAST(${this.value(node.left)} AS REAL) ${op} ${b.amount})`,
          currency: b.currency,
        };
      }
      case "call":
        return aggregateMoneySql(info.aggregate!);
      default:
        throw new SqlTranslationError(`${node.kind} is not money`);
    }
  }

  private compare(op: CompareOp, left: Expr, right: Expr): SqlFragment {
    const sqlOp = raw(COMPARE_SQL[op]);
    if (this.infoOf(left).type.kind === "money") {
      const a = this.money(left);
      const b = this.money(right);
      const exchange = converting(this.env.scope.exchange);
      if (exchange === undefined) {
        return sql`(CASE WHEN ${a.currency} = ${b.currency} THEN ${a.amount} ${sqlOp} ${b.amount} END)`;
      }
      // Across currencies both sides in the ruleset currency, as compile.ts does; NULL without a rate.
      return sql`(CASE WHEN ${a.currency} = ${b.currency} THEN ${a.amount} ${sqlOp} ${b.amount} ELSE ${toRulesetCurrencySql(exchange, a.amount, a.currency)} ${sqlOp} ${toRulesetCurrencySql(exchange, b.amount, b.currency)} END)`;
    }
    return sql`(${this.value(left)} ${sqlOp} ${this.value(right)})`;
  }

  private arith(op: "+" | "-" | "*" | "/", left: Expr, right: Expr): SqlFragment {
    // REAL arithmetic rounds exactly like JavaScript numbers; SQLite's integer division would truncate.
    return sql`(CAST(${this.value(left)} AS REAL) ${raw(op)} ${this.value(right)})`;
  }

  private inList(node: Extract<Expr, { kind: "in" }>): SqlFragment {
    if (node.list.items.length === 0) return raw(node.negated ? "1" : "0");
    const values = node.list.items.map((item) => literalValue(item, this.infoOf(item).type));
    const inlined = values.map(inlineLiteral);
    // A list of plain names and integers is written out as literals: `x NOT IN (SELECT ... json_each(?))`
    // costs D1 one extra row read per scanned row (SQLite's NULL check of the list), a literal list none.
    // Other lists are bound unless the caller asks for literals (see `SqlOptions`).
    const literals = inlined.every((literal) => literal !== null)
      ? inlined.join(", ")
      : this.lists === "literal"
        ? literalList(values)
        : null;
    const list =
      literals !== null ? raw(literals) : sql`SELECT value FROM json_each(${param(JSON.stringify(values))})`;
    const test = sql`(${this.value(node.operand)} IN (${list}))`;
    return node.negated ? sql`(NOT ${test})` : test;
  }

  private nullTest(operand: Expr, negated: boolean): SqlFragment {
    if (this.infoOf(operand).type.kind === "money") {
      const m = this.money(operand);
      return negated
        ? sql`(${m.amount} IS NOT NULL AND ${m.currency} IS NOT NULL)`
        : sql`(${m.amount} IS NULL OR ${m.currency} IS NULL)`;
    }
    return negated ? sql`(${this.value(operand)} IS NOT NULL)` : sql`(${this.value(operand)} IS NULL)`;
  }
}

function literalValue(node: Expr, type: ExprType): number | string | boolean {
  switch (node.kind) {
    case "number":
    case "string":
    case "boolean":
      return node.value;
    case "duration":
    case "timestamp":
      return node.ms;
    case "negate":
      return -(literalValue(node.operand, type) as number);
    default:
      throw new SqlTranslationError(`list item ${node.kind} is not a literal`);
  }
}

/** `e.properties` value of a typed property, NULL when absent or of another JSON type. */
function propertySql(name: string, type: ExprType): string {
  const path = `'$.${name}'`;
  const jsonType = `json_type(e.properties, ${path})`;
  const extract = `json_extract(e.properties, ${path})`;
  switch (type.kind) {
    case "string":
    case "enum":
      return `(CASE WHEN ${jsonType} = 'text' THEN ${extract} END)`;
    case "boolean":
      return `(CASE WHEN ${jsonType} IN ('true', 'false') THEN ${extract} END)`;
    default:
      return `(CASE WHEN ${jsonType} IN ('integer', 'real') THEN ${extract} END)`;
  }
}

/** Whole-number property values only (see compile.ts `integral`). */
function integralSql(name: string): string {
  const path = `'$.${name}'`;
  const jsonType = `json_type(e.properties, ${path})`;
  const extract = `json_extract(e.properties, ${path})`;
  return `(CASE WHEN ${jsonType} = 'integer' THEN ${extract} WHEN ${jsonType} = 'real' AND ${extract} = CAST(${extract} AS INTEGER) THEN CAST(${extract} AS INTEGER) END)`;
}

const EVENT_CURRENCY_SQL =
  "(CASE WHEN json_type(e.properties, '$.currency') = 'text' THEN json_extract(e.properties, '$.currency') END)";

function eventsWhere(agg: AggregateInfo): SqlFragment {
  const base = sql`e.customer_id = c.id AND e.type = ${textSql(agg.eventType)} AND e.occurred_at <= ${now()}`;
  if (agg.windowMs === null) return base;
  return sql`${base} AND e.occurred_at > ${now()} - ${numberSql(agg.windowMs)}`;
}

const LATEST = "ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1";

function aggregateSql(agg: AggregateInfo): SqlFragment {
  const where = eventsWhere(agg);
  if (agg.fn === "count") return sql`(SELECT count(*) FROM events e WHERE ${where})`;
  if (agg.fn === "sum") {
    return sql`(SELECT coalesce(sum(${raw(integralSql(agg.property!.name))}), 0) FROM events e WHERE ${where})`;
  }
  if (!agg.property) return sql`(SELECT max(e.occurred_at) FROM events e WHERE ${where})`;
  return sql`(SELECT ${raw(propertySql(agg.property.name, agg.property.type))} FROM events e WHERE ${where} ${raw(LATEST)})`;
}

function aggregateMoneySql(agg: AggregateInfo): MoneySql {
  const where = eventsWhere(agg);
  const name = agg.property!.name;
  if (agg.fn === "sum") {
    const amount = sql`(CASE WHEN c.currency IS NOT NULL THEN (SELECT coalesce(sum(${raw(integralSql(name))}), 0) FROM events e WHERE ${where} AND coalesce(${raw(EVENT_CURRENCY_SQL)}, c.currency) = c.currency) END)`;
    return { amount, currency: raw("c.currency") };
  }
  const amount = sql`(SELECT ${raw(propertySql(name, agg.property!.type))} FROM events e WHERE ${where} ${raw(LATEST)})`;
  const currency = sql`coalesce((SELECT ${raw(EVENT_CURRENCY_SQL)} FROM events e WHERE ${where} ${raw(LATEST)}), c.currency)`;
  return { amount, currency };
}
