/**
 * The one walk of the expression AST: each node's children, in source order, and a depth-first
 * visitor on top. Every pass that only needs to reach nodes (what a rule reads, segment references,
 * condition traces) walks through here, so they agree on what a node's children are: an `in` has its
 * left operand and its list, whose children are the list's items; a call has its arguments.
 *
 * Stage: types only (dsl/expr/ast.ts) → used by typecheck's consumers: reads, the checker's segment
 * order, explain.
 */

import type { Expr } from "./ast";

const LEAF: readonly Expr[] = Object.freeze([]);

/**
 * The direct children of a node, in source order. The switch names every node kind, so adding a
 * kind to `Expr` fails to compile here until its children are listed.
 *
 * @example children(parseExpression("plan in [\"pro\", \"team\"]").ast!) // [plan, ["pro", "team"]]
 */
export function children(node: Expr): readonly Expr[] {
  switch (node.kind) {
    case "number":
    case "string":
    case "boolean":
    case "money":
    case "duration":
    case "timestamp":
    case "now":
    case "name":
      return LEAF;
    case "list":
      return node.items;
    case "not":
    case "negate":
    case "null_test":
      return [node.operand];
    case "logical":
    case "compare":
    case "arith":
      return [node.left, node.right];
    case "in":
      return [node.operand, node.list];
    case "between":
      return [node.operand, node.low, node.high];
    case "call":
      return node.args;
    default:
      return unreachable(node);
  }
}

function unreachable(node: never): never {
  throw new Error(`unknown expression node ${(node as { kind?: unknown }).kind}`);
}

/**
 * Visits `root` and every node below it, depth-first, parents before children, in source order.
 * `enter` returning `false` skips that node's children (for example an aggregate's arguments,
 * which are event paths rather than fields).
 *
 * @example walk(ast, (node) => { if (node.kind === "name") names.push(node.name); });
 */
export function walk(root: Expr, enter: (node: Expr) => unknown): void {
  if (enter(root) === false) return;
  for (const child of children(root)) walk(child, enter);
}
