/**
 * Condition traces: why a condition did not hold for one customer, as the first failing
 * sub-condition with the actual values of the fields and aggregates it read. Used by decision traces
 * (dsl/runtime/decide.ts), `rebound explain` and `rebound test`, and the decision API's `?explain=1`.
 *
 * Stage: runtime, off the hot path. It compiles sub-expressions on demand (closures only, no eval),
 * so it is meant for explanations, not for every request.
 */

import type { Span } from "../errors";
import type { Expr } from "../expr/ast";
import { compileExpression } from "../expr/compile";
import { analyzeExpression, type NodeInfo } from "../expr/typecheck";
import type { Closure, EvalContext, Value } from "../expr/types";
import { walk } from "../expr/walk";
import { formatValue } from "./format";
import type { CompiledCondition, Ruleset } from "./ruleset";

/** The value one field or aggregate had during the evaluation. */
export interface ObservedValue {
  /** As written in the rule: `ltv`, `count(activity, 30d)`. */
  readonly expression: string;
  /** Formatted for people: `$420.00`, `2026-03-01T00:00:00.000Z`, `missing`. */
  readonly value: string;
}

export interface ConditionFailure {
  /** The failing sub-condition's text. */
  readonly text: string;
  /** Its span inside the whole expression. */
  readonly span: Span;
  /** `false`, or `unknown` when a value it needs is missing. */
  readonly result: "false" | "unknown";
  readonly values: readonly ObservedValue[];
  /** Set when the failure is a segment the condition names: that segment's own failure. */
  readonly segment?: { readonly key: string; readonly failure: ConditionFailure | null };
}

export interface ConditionTrace {
  /** The whole condition's expression text and where it is written (`file:line:col`). */
  readonly expression: string;
  readonly at: string;
  readonly result: "true" | "false" | "unknown";
  /** The first sub-condition that did not hold (null when the condition holds). */
  readonly failure: ConditionFailure | null;
}

/**
 * Explains one compiled condition for one customer.
 *
 * @example explainCondition(ruleset, offer.when!, ctx).failure?.text // "days_since(canceled_at) <= 90"
 */
export function explainCondition(
  ruleset: Ruleset,
  condition: CompiledCondition,
  ctx: EvalContext,
): ConditionTrace {
  const result = resultOf(condition.closure(ctx));
  const failure =
    result === "true" ? null : new Explainer(ruleset, ctx).failure(condition.ir.ast, condition.ir.source);
  return { expression: condition.ir.source, at: condition.ir.at, result, failure };
}

class Explainer {
  private readonly closures = new Map<Expr, Closure>();
  private info = new Map<Expr, NodeInfo>();

  constructor(
    private readonly ruleset: Ruleset,
    private readonly ctx: EvalContext,
  ) {}

  private evaluate(node: Expr): Value | null {
    let closure = this.closures.get(node);
    if (!closure) {
      closure = compileExpression(node, {
        scope: this.ruleset.scope,
        segment: (name) => this.ruleset.segments.get(name)!.when.membership,
      });
      this.closures.set(node, closure);
    }
    return closure(this.ctx);
  }

  failure(ast: Expr, source: string): ConditionFailure | null {
    this.info = new Map(analyzeExpression(ast, this.ruleset.scope).info);
    return this.descend(ast, source);
  }

  private descend(node: Expr, source: string): ConditionFailure | null {
    const result = resultOf(this.evaluate(node));
    if (result === "true") return null;
    if (node.kind === "logical" && node.op === "and") {
      const left = this.descend(node.left, source);
      return left ?? this.descend(node.right, source);
    }
    const text = source.slice(node.span.start, node.span.end);
    if (node.kind === "name" && this.ruleset.segments.has(node.name)) {
      const segment = this.ruleset.segments.get(node.name)!;
      const inner = new Explainer(this.ruleset, this.ctx).failure(
        segment.when.ir.ast,
        segment.when.ir.source,
      );
      return { text, span: node.span, result, values: [], segment: { key: node.name, failure: inner } };
    }
    return { text, span: node.span, result, values: this.observe(node, source) };
  }

  /** Values of the fields and aggregates a sub-condition reads, each once. */
  private observe(node: Expr, source: string): ObservedValue[] {
    const seen = new Map<string, ObservedValue>();
    walk(node, (n) => {
      const info = this.info.get(n);
      if ((n.kind === "name" && info?.field) || n.kind === "call") {
        const expression = source.slice(n.span.start, n.span.end);
        if (!seen.has(expression)) {
          seen.set(expression, { expression, value: formatValue(this.evaluate(n), info?.type) });
        }
        // A call's value is what it read; its arguments are shown through it.
        if (n.kind === "call") return false;
      }
    });
    return [...seen.values()];
  }
}

/** The values one customer had for what some offers read (`OfferInputs`). */
export interface OfferInputs {
  /** Each built-in field and custom attribute read, by name (sorted): its value, null when missing. */
  readonly profile: Record<string, unknown>;
  /** Each segment read, directly or through another (sorted): whether the customer is in it. */
  readonly segments: Record<string, boolean>;
}

/**
 * What the given offers read (`ruleset.reads.offers`), with this customer's values: the "inputs that
 * mattered" a stored decision records, enough to audit it or slice lift by segment without
 * re-running the rules.
 *
 * @example offerInputs(ruleset, ctx, ["price_high_value"]) // { profile: { aov: null, ltv: {...}, referrals: 2 }, segments: { high_value: true } }
 */
export function offerInputs(ruleset: Ruleset, ctx: EvalContext, offerKeys: Iterable<string>): OfferInputs {
  const fields = new Set<string>();
  const segments = new Set<string>();
  for (const key of offerKeys) {
    const reads = ruleset.reads.offers.get(key);
    if (!reads) continue;
    for (const field of reads.fields) fields.add(field);
    for (const attribute of reads.attributes) fields.add(attribute);
    for (const segment of reads.segments) segments.add(segment);
  }
  const profile: Record<string, unknown> = {};
  for (const name of [...fields].sort()) profile[name] = ruleset.scope.fields.get(name)?.read(ctx) ?? null;
  const membership: Record<string, boolean> = {};
  for (const key of [...segments].sort())
    membership[key] = ruleset.segments.get(key)?.when.test(ctx) ?? false;
  return { profile, segments: membership };
}

function resultOf(value: Value | null): "true" | "false" | "unknown" {
  if (value === true) return "true";
  return value === null ? "unknown" : "false";
}
