// The one walk of the expression tree: `children` reaches every node of every kind (an `in`'s left
// side and each list item included), and the visitor can skip a node's children.
import { describe, expect, it } from "vitest";
import type { Expr } from "../../dsl/expr/ast";
import { parseExpression } from "../../dsl/expr/parser";
import { children, walk } from "../../dsl/expr/walk";

const ALL_KINDS: readonly Expr["kind"][] = [
  "number",
  "string",
  "boolean",
  "money",
  "duration",
  "timestamp",
  "list",
  "now",
  "name",
  "not",
  "negate",
  "logical",
  "compare",
  "arith",
  "in",
  "between",
  "null_test",
  "call",
];

// Between them, every node kind, nested inside every kind that has children.
const SOURCES = [
  'not (ltv >= $500 and -nps < 3) or plan in ["pro", "team"] and country not in ["DE", last(x.seen)]',
  "days_since(canceled_at) between 14 and 180 and count(activity, 30d) > 2",
  "canceled_at is null or exists churn_reason or signed_up_at > 2026-01-31T09:30:00Z",
  "now - 1d > last_active_at and nps * 2 + 1 != 5 and mrr == 20 EUR and last_ticket_satisfied == true",
  "(nps + -1) in [1, -2] and days_until(card_expires_at) not between -3 and (nps / 2)",
];

function parse(source: string): Expr {
  const result = parseExpression(source);
  expect(result.diagnostics).toEqual([]);
  return result.ast!;
}

/** Every node under `root`, found by looking at every property (not through `children`). */
function everyNode(root: Expr): Expr[] {
  const found: Expr[] = [];
  const look = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) look(item);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    if ("kind" in value && "span" in value) found.push(value as Expr);
    for (const [key, inner] of Object.entries(value)) if (key !== "span" && key !== "opSpan") look(inner);
  };
  look(root);
  return found;
}

describe("the expression walk", () => {
  it("reaches every node of every kind, spans and all", () => {
    const kinds = new Set<string>();
    for (const source of SOURCES) {
      const ast = parse(source);
      const reached: Expr[] = [];
      walk(ast, (node) => {
        reached.push(node);
      });
      const expected = everyNode(ast);
      expect(new Set(reached)).toEqual(new Set(expected));
      expect(reached).toHaveLength(expected.length);
      expect(reached.map((node) => node.span)).toEqual(
        expect.arrayContaining(expected.map((node) => node.span)),
      );
      for (const node of reached) kinds.add(node.kind);
    }
    expect([...kinds].sort()).toEqual([...ALL_KINDS].sort());
  });

  it("gives an `in` its left side and its list, and the list its items, in source order", () => {
    const ast = parse('plan not in ["pro", "team"]');
    if (ast.kind !== "in") throw new Error(`parsed as ${ast.kind}`);
    expect(children(ast)).toEqual([ast.operand, ast.list]);
    expect(children(ast.list).map((item) => (item.kind === "string" ? item.value : item.kind))).toEqual([
      "pro",
      "team",
    ]);
  });

  it("visits parents before children, left to right, and skips the children of a node that says so", () => {
    const source = "count(activity, 30d) > 2 and ltv between $1 and $2";
    const ast = parse(source);
    const texts: string[] = [];
    walk(ast, (node) => {
      texts.push(source.slice(node.span.start, node.span.end));
      if (node.kind === "call") return false;
    });
    expect(texts).toEqual([
      source,
      "count(activity, 30d) > 2",
      "count(activity, 30d)",
      "2",
      "ltv between $1 and $2",
      "ltv",
      "$1",
      "$2",
    ]);
  });
});
