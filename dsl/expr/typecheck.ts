/**
 * Type checker for one expression: resolves names against a Scope, computes every node's type,
 * and collects every error it can (unknown names with "did you mean", type and currency
 * mismatches, arity, unknown event types and enum values).
 *
 * Stage: parser → check-expr → compile (closures) / sql (D1). Both back ends call
 * `analyzeExpression` again and read its annotations, so they see exactly what the checker saw.
 */

import type { DiagnosticCode, ExprDiagnostic, Span } from "../errors";
import { LIMITS } from "../limits";
import { closest } from "../suggest";
import type { CallExpr, Expr, ListLiteral } from "./ast";
import { currencyDigits, isKnownCurrency } from "./currencies";
import { converts } from "./exchange";
import type { EventPropertyDef, EventTypeDef, ExprType, FieldDef, Money, Scope } from "./types";

/** What an event aggregate call reads. `windowMs` null means all time (up to now). */
export interface AggregateInfo {
  readonly fn: "count" | "sum" | "last";
  readonly eventType: string;
  readonly property?: EventPropertyDef;
  readonly windowMs: number | null;
}

/** What the checker learned about one node. */
export interface NodeInfo {
  readonly type: ExprType;
  readonly field?: FieldDef;
  readonly segment?: string;
  readonly aggregate?: AggregateInfo;
  readonly money?: Money;
  /** days_since / days_until. */
  readonly timeFn?: "days_since" | "days_until";
}

export interface Analysis {
  readonly type?: ExprType;
  readonly diagnostics: ExprDiagnostic[];
  readonly info: ReadonlyMap<Expr, NodeInfo>;
  readonly sqlTranslatable: boolean;
  /** Largest event window read (ms); Infinity for an all-time aggregate; 0 when no events are read. */
  readonly eventWindowMs: number;
  readonly segmentRefs: readonly string[];
}

export interface CheckResult {
  type?: ExprType;
  sqlTranslatable: boolean;
  diagnostics: ExprDiagnostic[];
  eventWindowMs: number;
  /** Segments the expression names, for cycle detection by the ruleset checker. */
  segmentRefs: readonly string[];
}

const NUMBER: ExprType = { kind: "number" };
const BOOLEAN: ExprType = { kind: "boolean" };
const TIMESTAMP: ExprType = { kind: "timestamp" };
const DURATION: ExprType = { kind: "duration" };

export const FUNCTIONS: readonly string[] = ["days_since", "days_until", "count", "sum", "last"];

/**
 * Checks an expression against a scope; `expected` (usually boolean for a condition) is enforced.
 *
 * @example checkExpression(parseExpression("ltv >= $500").ast!, scope, { kind: "boolean" }).diagnostics // []
 */
export function checkExpression(ast: Expr, scope: Scope, expected?: ExprType): CheckResult {
  const analysis = analyzeExpression(ast, scope, expected);
  return {
    ...(analysis.type ? { type: analysis.type } : {}),
    sqlTranslatable: analysis.sqlTranslatable,
    diagnostics: analysis.diagnostics,
    eventWindowMs: analysis.eventWindowMs,
    segmentRefs: analysis.segmentRefs,
  };
}

/** Checks and annotates every node; used by the checker and by both back ends. */
export function analyzeExpression(ast: Expr, scope: Scope, expected?: ExprType): Analysis {
  const checker = new Checker(scope);
  const type = checker.visit(ast);
  if (type && expected && !sameKind(type, expected)) {
    checker.error(
      "type_mismatch",
      `expected ${typeName(expected)}, but this is ${typeName(type)}`,
      ast.span,
      expected.kind === "boolean" ? "a condition needs a comparison, e.g. `ltv >= $500`" : undefined,
    );
  }
  const ok = checker.diagnostics.length === 0;
  return {
    ...(ok && type ? { type } : {}),
    diagnostics: checker.diagnostics,
    info: checker.info,
    sqlTranslatable: ok && checker.sqlTranslatable,
    eventWindowMs: checker.eventWindowMs,
    segmentRefs: [...checker.segmentRefs],
  };
}

/** A human name for a type, as used in messages: "money (USD)", "reason", "list of number". */
export function typeName(type: ExprType): string {
  switch (type.kind) {
    case "money":
      return type.currency ? `money (${type.currency})` : "money";
    case "enum":
      return type.name;
    case "list":
      return `list of ${typeName(type.element)}`;
    case "string":
      return "text";
    default:
      return type.kind;
  }
}

function sameKind(a: ExprType, b: ExprType): boolean {
  return a.kind === b.kind || (isTextual(a) && isTextual(b));
}

const isTextual = (t: ExprType): boolean => t.kind === "string" || t.kind === "enum";
const isOrdered = (t: ExprType): boolean =>
  t.kind === "number" || t.kind === "money" || t.kind === "timestamp" || t.kind === "duration";

class Checker {
  readonly diagnostics: ExprDiagnostic[] = [];
  readonly info = new Map<Expr, NodeInfo>();
  readonly segmentRefs = new Set<string>();
  sqlTranslatable = true;
  eventWindowMs = 0;
  private aggregates = 0;

  constructor(private readonly scope: Scope) {}

  error(code: DiagnosticCode, message: string, span: Span, hint?: string): void {
    if (this.diagnostics.length >= LIMITS.maxDiagnostics) return;
    this.diagnostics.push({ code, message, span, ...(hint ? { hint } : {}) });
  }

  private set(node: Expr, info: NodeInfo): ExprType {
    this.info.set(node, info);
    return info.type;
  }

  /** Returns the node's type, or undefined after reporting why it has none. */
  visit(node: Expr): ExprType | undefined {
    switch (node.kind) {
      case "number":
        return this.set(node, { type: NUMBER });
      case "string":
        return this.set(node, { type: { kind: "string" } });
      case "boolean":
        return this.set(node, { type: BOOLEAN });
      case "duration":
        return this.set(node, { type: DURATION });
      case "timestamp":
      case "now":
        return this.set(node, { type: TIMESTAMP });
      case "money":
        return this.visitMoney(node);
      case "list":
        this.error(
          "type_mismatch",
          "a list is only valid after `in`",
          node.span,
          'e.g. `plan in ["pro", "team"]`',
        );
        return undefined;
      case "name":
        return this.visitName(node);
      case "not": {
        const t = this.visit(node.operand);
        if (t && t.kind !== "boolean") {
          this.error(
            "type_mismatch",
            `\`not\` needs a condition, but this is ${typeName(t)}`,
            node.operand.span,
          );
          return undefined;
        }
        return t && this.set(node, { type: BOOLEAN });
      }
      case "negate": {
        const t = this.visit(node.operand);
        if (!t) return undefined;
        if (t.kind !== "number" && t.kind !== "money" && t.kind !== "duration") {
          this.error("type_mismatch", `cannot negate ${typeName(t)}`, node.span);
          return undefined;
        }
        return this.set(node, { type: t });
      }
      case "logical": {
        const l = this.visit(node.left);
        const r = this.visit(node.right);
        for (const [t, side] of [
          [l, node.left],
          [r, node.right],
        ] as const) {
          if (t && t.kind !== "boolean") {
            this.error(
              "type_mismatch",
              `\`${node.op}\` joins conditions, but this is ${typeName(t)}`,
              side.span,
              "compare it, e.g. `x > 0` or `exists x`",
            );
          }
        }
        if (!l || !r || l.kind !== "boolean" || r.kind !== "boolean") return undefined;
        return this.set(node, { type: BOOLEAN });
      }
      case "compare": {
        const l = this.visit(node.left);
        const r = this.visit(node.right);
        if (!l || !r) return undefined;
        const ordering = node.op !== "==" && node.op !== "!=";
        if (!this.comparable(node.left, l, node.right, r, ordering, node.opSpan)) return undefined;
        return this.set(node, { type: BOOLEAN });
      }
      case "arith":
        return this.visitArith(node);
      case "in": {
        const t = this.visit(node.operand);
        if (!t) {
          this.visitList(node.list, undefined);
          return undefined;
        }
        if (t.kind === "money" || t.kind === "list") {
          this.error(
            "type_mismatch",
            `\`in\` does not apply to ${typeName(t)}`,
            node.operand.span,
            t.kind === "money" ? "use comparisons or `between`" : undefined,
          );
          return undefined;
        }
        if (!this.visitList(node.list, { operand: node.operand, type: t })) return undefined;
        return this.set(node, { type: BOOLEAN });
      }
      case "between": {
        const t = this.visit(node.operand);
        const lo = this.visit(node.low);
        const hi = this.visit(node.high);
        if (!t || !lo || !hi) return undefined;
        const okLow = this.comparable(node.operand, t, node.low, lo, true, node.low.span);
        const okHigh = this.comparable(node.operand, t, node.high, hi, true, node.high.span);
        if (!okLow || !okHigh) return undefined;
        return this.set(node, { type: BOOLEAN });
      }
      case "null_test": {
        const t = this.visit(node.operand);
        if (!t) return undefined;
        return this.set(node, { type: BOOLEAN });
      }
      case "call":
        return this.visitCall(node);
    }
  }

  /** Whether amounts in `a` and `b` can both be brought into the ruleset currency (exchange rates). */
  private bothConvert(a: string, b: string): boolean {
    const exchange = this.scope.exchange;
    return exchange !== undefined && converts(exchange, a) && converts(exchange, b);
  }

  private visitMoney(node: Extract<Expr, { kind: "money" }>): ExprType | undefined {
    const currency = node.currency ?? this.scope.defaultCurrency;
    if (!isKnownCurrency(currency)) {
      this.error(
        "bad_money",
        `unknown currency \`${currency}\``,
        node.span,
        "use an ISO 4217 code such as USD or EUR",
      );
      return undefined;
    }
    const digits = currencyDigits(currency);
    const [whole, fraction = ""] = node.amount.split(".");
    if (fraction.length > digits) {
      this.error(
        "bad_money",
        `${currency} amounts have ${digits} decimal places; \`${node.amount}\` has ${fraction.length}`,
        node.span,
      );
      return undefined;
    }
    const amount = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
    if (!Number.isSafeInteger(amount)) {
      this.error("bad_money", `amount \`${node.amount}\` is too large`, node.span);
      return undefined;
    }
    const exchange = this.scope.exchange;
    if (exchange && !converts(exchange, currency)) {
      const written =
        currency === "EUR"
          ? `€${node.amount}`
          : currency === "GBP"
            ? `£${node.amount}`
            : `${node.amount} ${currency}`;
      this.error(
        "no_exchange_rate",
        `${written} is in ${currency}, but the rules' currency is ${exchange.currency} and settings.exchange_rates has no ${currency} rate`,
        node.span,
        `declare one in settings.exchange_rates (what 1 ${currency} is worth in ${exchange.currency}) or write the amount in ${exchange.currency}`,
      );
      return undefined;
    }
    return this.set(node, { type: { kind: "money", currency }, money: { amount, currency } });
  }

  /** Checks a list of literals; with `against`, each item must compare with the operand. */
  private visitList(
    node: ListLiteral,
    against: { operand: Expr; type: ExprType } | undefined,
  ): ExprType | undefined {
    let element: ExprType | undefined = against?.type;
    let ok = true;
    for (const item of node.items) {
      const literal =
        item.kind === "number" ||
        item.kind === "string" ||
        item.kind === "boolean" ||
        item.kind === "duration" ||
        item.kind === "timestamp" ||
        (item.kind === "negate" && (item.operand.kind === "number" || item.operand.kind === "duration"));
      if (!literal) {
        this.error(
          "expr_syntax",
          "list items must be literal values",
          item.span,
          "use `or` for conditions on other fields",
        );
        ok = false;
        continue;
      }
      const t = this.visit(item);
      if (!t) {
        ok = false;
        continue;
      }
      if (against) {
        if (!this.comparable(against.operand, against.type, item, t, false, item.span)) ok = false;
      } else if (element && !sameKind(element, t)) {
        this.error("type_mismatch", `list mixes ${typeName(element)} and ${typeName(t)}`, item.span);
        ok = false;
      } else {
        element ??= t;
      }
    }
    if (!ok) return undefined;
    return this.set(node, { type: { kind: "list", element: element ?? NUMBER } });
  }

  private visitName(node: Extract<Expr, { kind: "name" }>): ExprType | undefined {
    const field = this.scope.fields.get(node.name);
    if (field) return this.set(node, { type: field.type, field });
    const segment = this.scope.segments.get(node.name);
    if (segment) {
      this.segmentRefs.add(node.name);
      if (!segment.sqlTranslatable) this.sqlTranslatable = false;
      return this.set(node, { type: BOOLEAN, segment: node.name });
    }
    if (node.name.includes(".")) {
      this.error(
        "unknown_field",
        `\`${node.name}\` is not a field`,
        node.span,
        "event data is read through count(...), sum(...) or last(...)",
      );
      return undefined;
    }
    const enumOwner = [...this.scope.enums.entries()].find(([, values]) => values.includes(node.name));
    if (enumOwner) {
      this.error(
        "unknown_field",
        `\`${node.name}\` is not a field`,
        node.span,
        `it is a ${enumOwner[0]}: quote it, "${node.name}"`,
      );
      return undefined;
    }
    const candidates = [...this.scope.fields.keys(), ...this.scope.segments.keys()];
    const guess = closest(node.name, candidates);
    this.error(
      "unknown_field",
      `unknown field or segment \`${node.name}\``,
      node.span,
      guess ? `did you mean \`${guess}\`?` : undefined,
    );
    return undefined;
  }

  private visitArith(node: Extract<Expr, { kind: "arith" }>): ExprType | undefined {
    const l = this.visit(node.left);
    const r = this.visit(node.right);
    if (!l || !r) return undefined;
    const fail = (): undefined => {
      this.error(
        "type_mismatch",
        `cannot apply \`${node.op}\` to ${typeName(l)} and ${typeName(r)}`,
        node.opSpan,
        l.kind === "timestamp" && r.kind === "number" ? "write a duration, e.g. `now - 30d`" : undefined,
      );
      return undefined;
    };
    const money = (a: ExprType, b: ExprType): ExprType | undefined => {
      if (a.kind !== "money" || b.kind !== "money") return undefined;
      // Even with exchange rates: only comparisons convert, so adding two currencies is an error.
      if (a.currency && b.currency && a.currency !== b.currency) {
        this.error(
          "currency_mismatch",
          `cannot add or subtract ${a.currency} and ${b.currency}`,
          node.opSpan,
        );
        return undefined;
      }
      return { kind: "money", ...((a.currency ?? b.currency) ? { currency: a.currency ?? b.currency } : {}) };
    };
    let result: ExprType | undefined;
    switch (node.op) {
      case "+":
        if (l.kind === "money" && r.kind === "money") result = money(l, r) ?? undefined;
        else if (l.kind === r.kind && (l.kind === "number" || l.kind === "duration")) result = l;
        else if (l.kind === "timestamp" && r.kind === "duration") result = TIMESTAMP;
        else if (l.kind === "duration" && r.kind === "timestamp") result = TIMESTAMP;
        else return fail();
        break;
      case "-":
        if (l.kind === "money" && r.kind === "money") result = money(l, r) ?? undefined;
        else if (l.kind === r.kind && (l.kind === "number" || l.kind === "duration")) result = l;
        else if (l.kind === "timestamp" && r.kind === "duration") result = TIMESTAMP;
        else if (l.kind === "timestamp" && r.kind === "timestamp") result = DURATION;
        else return fail();
        break;
      case "*":
        if (l.kind === "number" && r.kind === "number") result = NUMBER;
        else if ((l.kind === "money" || l.kind === "duration") && r.kind === "number") result = l;
        else if (l.kind === "number" && (r.kind === "money" || r.kind === "duration")) result = r;
        else return fail();
        break;
      case "/":
        if (r.kind === "number" && (l.kind === "number" || l.kind === "money" || l.kind === "duration"))
          result = l;
        else return fail();
        break;
    }
    if (!result) return undefined;
    return this.set(node, { type: result });
  }

  /** Whether two operands may be compared; reports why not. */
  private comparable(
    leftNode: Expr,
    l: ExprType,
    rightNode: Expr,
    r: ExprType,
    ordering: boolean,
    opSpan: Span,
  ): boolean {
    const describe = (node: Expr, t: ExprType): string => {
      if (node.kind === "name") return `\`${node.name}\` is ${typeName(t)}`;
      if (node.kind === "string") return `text ${JSON.stringify(node.value)}`;
      if (node.kind === "number") return `number ${node.value}`;
      return typeName(t);
    };
    if (isTextual(l) && isTextual(r)) {
      if (ordering) {
        this.error(
          "type_mismatch",
          `${describe(leftNode, l)}: text can only be compared with ==, != and in`,
          opSpan,
        );
        return false;
      }
      return (
        this.enumValueOk(l, rightNode) &&
        this.enumValueOk(r, leftNode) &&
        this.enumsAgree(l, r, rightNode.span)
      );
    }
    if (l.kind !== r.kind) {
      const hint =
        l.kind === "money" && r.kind === "number"
          ? `write an amount, e.g. $${rightNode.kind === "number" ? rightNode.value : 500}`
          : l.kind === "duration" && r.kind === "number"
            ? `write a duration, e.g. ${rightNode.kind === "number" ? rightNode.value : 30}d`
            : l.kind === "timestamp" && r.kind === "number"
              ? "compare with a date (2026-01-31), or use days_since(...)"
              : undefined;
      this.error(
        "type_mismatch",
        `${describe(leftNode, l)}, compared with ${describe(rightNode, r)}`,
        rightNode.span,
        hint,
      );
      return false;
    }
    if (
      l.kind === "money" &&
      r.kind === "money" &&
      l.currency &&
      r.currency &&
      l.currency !== r.currency &&
      !this.bothConvert(l.currency, r.currency)
    ) {
      this.error("currency_mismatch", `cannot compare ${l.currency} with ${r.currency}`, rightNode.span);
      return false;
    }
    if (ordering && !isOrdered(l)) {
      this.error("type_mismatch", `${typeName(l)} values can only be compared with == and !=`, opSpan);
      return false;
    }
    if (l.kind === "list") {
      this.error("type_mismatch", "lists can only be used after `in`", leftNode.span);
      return false;
    }
    return true;
  }

  /** A string literal compared with an enum must be one of its values. */
  private enumValueOk(t: ExprType, other: Expr): boolean {
    if (t.kind !== "enum" || other.kind !== "string") return true;
    if (t.values.includes(other.value)) return true;
    const code: DiagnosticCode =
      t.name === "reason" ? "unknown_reason" : t.name === "plan" ? "unknown_plan" : "unknown_enum_value";
    const guess = closest(other.value, t.values);
    this.error(
      code,
      `${JSON.stringify(other.value)} is not a ${t.name}`,
      other.span,
      guess ? `did you mean "${guess}"?` : `one of: ${t.values.join(", ")}`,
    );
    return false;
  }

  private enumsAgree(l: ExprType, r: ExprType, span: Span): boolean {
    if (
      l.kind === "enum" &&
      r.kind === "enum" &&
      l.name !== r.name &&
      l.name !== "value" &&
      r.name !== "value"
    ) {
      this.error("type_mismatch", `cannot compare a ${l.name} with a ${r.name}`, span);
      return false;
    }
    return true;
  }

  private visitCall(node: CallExpr): ExprType | undefined {
    switch (node.name) {
      case "days_since":
      case "days_until": {
        if (node.args.length !== 1) {
          this.error(
            "wrong_arity",
            `\`${node.name}\` takes one timestamp`,
            node.span,
            `e.g. ${node.name}(canceled_at)`,
          );
          return undefined;
        }
        const t = this.visit(node.args[0]!);
        if (!t) return undefined;
        if (t.kind !== "timestamp") {
          this.error(
            "type_mismatch",
            `\`${node.name}\` needs a timestamp, but this is ${typeName(t)}`,
            node.args[0]!.span,
          );
          return undefined;
        }
        return this.set(node, { type: NUMBER, timeFn: node.name });
      }
      case "count":
      case "sum":
      case "last":
        return this.visitAggregate(node, node.name);
      default: {
        const guess = closest(node.name, FUNCTIONS);
        this.error(
          "unknown_function",
          `unknown function \`${node.name}\``,
          node.nameSpan,
          guess ? `did you mean \`${guess}\`?` : `functions: ${FUNCTIONS.join(", ")}`,
        );
        for (const arg of node.args) if (arg.kind !== "name") this.visit(arg);
        return undefined;
      }
    }
  }

  private visitAggregate(node: CallExpr, fn: "count" | "sum" | "last"): ExprType | undefined {
    const usage =
      fn === "count"
        ? "count(activity, 30d)"
        : fn === "sum"
          ? "sum(order.completed.amount, 90d)"
          : "last(nps.submitted.score)";
    if (node.args.length < 1 || node.args.length > 2) {
      this.error(
        "wrong_arity",
        `\`${fn}\` takes an event${fn === "count" ? " type" : " property"} and an optional window`,
        node.span,
        `e.g. ${usage}`,
      );
      return undefined;
    }
    this.aggregates++;
    if (this.aggregates > LIMITS.maxEventAggregates) {
      this.error(
        "limit_exceeded",
        `more than ${LIMITS.maxEventAggregates} event aggregates in one expression`,
        node.span,
      );
      return undefined;
    }
    const target = node.args[0]!;
    let windowMs: number | null = null;
    const windowArg = node.args[1];
    if (windowArg) {
      if (windowArg.kind !== "duration") {
        const t = this.visit(windowArg);
        if (t) {
          this.error(
            t.kind === "duration" ? "bad_duration" : "type_mismatch",
            "the window must be a duration literal such as 30d",
            windowArg.span,
          );
        }
        return undefined;
      }
      if (windowArg.ms <= 0) {
        this.error("bad_duration", "the window must be longer than zero", windowArg.span);
        return undefined;
      }
      this.visit(windowArg);
      windowMs = windowArg.ms;
    }
    if (target.kind !== "name") {
      this.error(
        "type_mismatch",
        `\`${fn}\` needs an event ${fn === "count" ? "type" : "property"} name`,
        target.span,
        `e.g. ${usage}`,
      );
      return undefined;
    }
    const resolved = this.resolveEventPath(target.name, target.span, fn);
    if (!resolved) return undefined;
    const { eventType, property } = resolved;
    let type: ExprType;
    if (fn === "count") {
      if (property) {
        this.error(
          "type_mismatch",
          "`count` counts events; it takes an event type, not a property",
          target.span,
          `e.g. count(${eventType.name}, 30d)`,
        );
        return undefined;
      }
      type = NUMBER;
    } else if (fn === "sum") {
      if (!property) {
        this.error(
          "type_mismatch",
          "`sum` adds up a property; name one",
          target.span,
          `e.g. sum(${eventType.name}.amount, 90d), or count(${eventType.name})`,
        );
        return undefined;
      }
      if (property.type.kind !== "number" && property.type.kind !== "money") {
        this.error(
          "type_mismatch",
          `\`sum\` needs a number or money property, but \`${property.name}\` is ${typeName(property.type)}`,
          target.span,
        );
        return undefined;
      }
      type = property.type.kind === "money" ? { kind: "money" } : NUMBER;
    } else {
      type = property ? property.type : TIMESTAMP;
    }
    const retention = this.scope.eventRetentionMs;
    if (retention !== undefined && (windowMs === null || windowMs > retention)) {
      const days = Math.floor(retention / 86_400_000);
      this.error(
        "window_beyond_retention",
        windowMs === null
          ? `\`${fn}\` without a window reads all of a customer's events, but raw events are kept for ${days} days (settings.event_retention)`
          : `this window is longer than the ${days} days raw events are kept (settings.event_retention)`,
        windowMs === null ? node.span : node.args[1]!.span,
        windowMs === null
          ? `give a window of at most ${days}d, e.g. ${fn}(…, ${days}d), or read a profile field such as order_count`
          : `use a window of at most ${days}d, or raise settings.event_retention`,
      );
      return undefined;
    }
    this.eventWindowMs = Math.max(this.eventWindowMs, windowMs ?? Number.POSITIVE_INFINITY);
    return this.set(node, {
      type,
      aggregate: { fn, eventType: eventType.name, ...(property ? { property } : {}), windowMs },
    });
  }

  private resolveEventPath(
    path: string,
    span: Span,
    fn: string,
  ): { eventType: EventTypeDef; property?: EventPropertyDef } | undefined {
    const types = this.scope.eventTypes;
    const whole = types.get(path);
    if (whole) return { eventType: whole };
    const dot = path.lastIndexOf(".");
    const head = dot > 0 ? path.slice(0, dot) : "";
    const prop = path.slice(dot + 1);
    const owner = types.get(head);
    if (owner) {
      const property = owner.properties.get(prop);
      if (property) return { eventType: owner, property };
      const guess = closest(prop, [...owner.properties.keys()]);
      this.error(
        "unknown_field",
        `\`${head}\` events have no property \`${prop}\``,
        span,
        guess
          ? `did you mean \`${head}.${guess}\`?`
          : `properties: ${[...owner.properties.keys()].join(", ") || "none"}`,
      );
      return undefined;
    }
    if (this.scope.allowCustomEvents && /^x\.[A-Za-z0-9_]+$/.test(path) && fn !== "sum") {
      return { eventType: { name: path, description: "custom event", properties: new Map() } };
    }
    if (/^x\.[A-Za-z0-9_]+\./.test(path)) {
      this.error(
        "unknown_field",
        `properties of \`${head}\` are not declared`,
        span,
        "undeclared custom events can be counted, or their last time read: count(x.name), last(x.name)",
      );
      return undefined;
    }
    const guess = closest(path, [...types.keys()]) ?? (head ? closest(head, [...types.keys()]) : undefined);
    this.error(
      "unknown_event_type",
      `unknown event type \`${path}\``,
      span,
      guess ? `did you mean \`${guess}\`?` : "custom events are named x.<name>",
    );
    return undefined;
  }
}
