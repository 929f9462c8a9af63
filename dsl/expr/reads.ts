/**
 * What one checked expression reads: the fields it names, the segments it names (not followed:
 * dsl/runtime/reads.ts follows them across a ruleset), and the event types it aggregates with the
 * longest window of each. The Worker loads exactly this (which events, how far back) instead of
 * walking rules itself.
 *
 * Stage: typecheck → reads, from the checker's annotations (a name is a field or a segment as the
 * checker resolved it; an aggregate's event type is the one it resolved), over dsl/expr/walk.ts.
 */

import type { Expr } from "./ast";
import { analyzeExpression, type NodeInfo } from "./typecheck";
import type { Scope } from "./types";
import { walk } from "./walk";

/**
 * Event type → the longest window it is aggregated over, in ms; null when some aggregate reads it
 * over all time (`last(nps.submitted.score)`, `count(activity)`).
 */
export type EventWindows = Readonly<Record<string, number | null>>;

/** An expression's direct reads; names sorted, so equal reads compare equal. */
export interface ExpressionReads {
  /** Fields it names, built-in and custom alike (`ltv`, `canceled_at`, `company_size`). */
  readonly fields: readonly string[];
  /** Segments it names itself. */
  readonly segments: readonly string[];
  readonly events: EventWindows;
}

/**
 * The reads of an expression that checks against `scope` (one that does not reads what the checker
 * could resolve).
 *
 * @example expressionReads(parseExpression("ltv >= $500 and count(activity, 30d) > 2").ast!, scope)
 * // { fields: ["ltv"], segments: [], events: { activity: 2592000000 } }
 */
export function expressionReads(ast: Expr, scope: Scope): ExpressionReads {
  return readsOfAnalysed(ast, analyzeExpression(ast, scope).info);
}

/** The same, from annotations the caller already has. */
export function readsOfAnalysed(ast: Expr, info: ReadonlyMap<Expr, NodeInfo>): ExpressionReads {
  const fields = new Set<string>();
  const segments = new Set<string>();
  const events: Record<string, number | null> = {};
  walk(ast, (node) => {
    const annotation = info.get(node);
    if (!annotation) return;
    if (annotation.field) fields.add(annotation.field.name);
    else if (annotation.segment !== undefined) segments.add(annotation.segment);
    else if (annotation.aggregate) {
      const { eventType, windowMs } = annotation.aggregate;
      events[eventType] = longerWindow(events[eventType], windowMs);
      // The arguments are an event path and a window literal, not reads of their own.
      return false;
    }
  });
  return { fields: [...fields].sort(), segments: [...segments].sort(), events: sortedWindows(events) };
}

/** The longer of two windows (null, all time, is the longest; undefined is none yet). */
export function longerWindow(a: number | null | undefined, b: number | null): number | null {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  return Math.max(a, b);
}

/** The windows with their keys in sorted order. */
export function sortedWindows(events: Readonly<Record<string, number | null>>): EventWindows {
  const sorted: Record<string, number | null> = {};
  for (const type of Object.keys(events).sort()) sorted[type] = events[type]!;
  return Object.freeze(sorted);
}
