// Hostile input never crashes the expression front end: random token soup and random bytes always
// come back as a result with located diagnostics, never an exception or a stack overflow.

import { describe, expect, it } from "vitest";
import { parseExpression } from "../../dsl/expr/parser";
import { checkExpression } from "../../dsl/expr/typecheck";
import { prng } from "../prng";
import { caseScope } from "./expr-suite";

const TOKENS = [
  "ltv",
  "nps",
  "plan",
  "status",
  "churn_reason",
  "high_value",
  "count",
  "sum",
  "last",
  "days_since",
  "(",
  ")",
  "[",
  "]",
  ",",
  "and",
  "or",
  "not",
  "in",
  "between",
  "is",
  "null",
  "exists",
  "now",
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "$5",
  "€5",
  "20 EUR",
  "14d",
  "1d12h",
  "2026-01-31",
  '"pro"',
  "'x'",
  "3",
  "2.5",
  "true",
  "activity",
  "order.completed.amount",
  "x.custom",
  "=",
  "!",
  "&&",
  '"',
  "$",
  "1mo",
  "2026-02-30",
  "\\",
];

describe("the expression front end under fuzzing", () => {
  const scope = caseScope();
  const random = prng(99);

  function survives(text: string): void {
    const parsed = parseExpression(text);
    const diagnostics = parsed.ast
      ? checkExpression(parsed.ast, scope, { kind: "boolean" }).diagnostics
      : parsed.diagnostics;
    if (!parsed.ast) expect(diagnostics.length, text).toBeGreaterThan(0);
    for (const d of diagnostics) {
      expect(d.span.start, text).toBeGreaterThanOrEqual(0);
      expect(d.span.end, text).toBeLessThanOrEqual(text.length);
      expect(d.span.start, text).toBeLessThanOrEqual(d.span.end);
    }
  }

  it("handles 5,000 random token sequences", () => {
    for (let i = 0; i < 5_000; i++) {
      const length = 1 + Math.floor(random() * 15);
      const text = Array.from({ length }, () => TOKENS[Math.floor(random() * TOKENS.length)]).join(" ");
      survives(text);
    }
  });

  it("handles 2,000 strings of random characters", () => {
    for (let i = 0; i < 2_000; i++) {
      const length = Math.floor(random() * 40);
      survives(String.fromCharCode(...Array.from({ length }, () => 32 + Math.floor(random() * 0x2fa0))));
    }
  });

  it("handles pathological nesting without a stack overflow", () => {
    for (const text of [
      "(".repeat(100_000),
      `${"not ".repeat(50_000)}vip`,
      `${"-".repeat(100_000)}1`,
      "[".repeat(50_000),
    ]) {
      const parsed = parseExpression(text.slice(0, 1_999));
      expect(parsed.diagnostics[0]?.code).toBe("limit_exceeded");
      expect(parseExpression(text).diagnostics[0]?.code).toBe("limit_exceeded");
    }
  });
});
