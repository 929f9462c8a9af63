// The expression language in Node: every case file in test/dsl/expr/ against the closure back end
// (test/worker/expr-cases.test.ts runs the same files against closures and SQL on D1), plus the
// checker's API guarantees that case files cannot express.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CompileError, compileExpression } from "../../dsl/expr/compile";
import { buildScope } from "../../dsl/expr/fields";
import { parseExpression } from "../../dsl/expr/parser";
import { bindSql, expressionToSql, SqlTranslationError } from "../../dsl/expr/sql";
import { checkExpression } from "../../dsl/expr/typecheck";
import { caseScope, closureBackend, exprSuite } from "./expr-suite";

const dir = new URL("./expr/", import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();
for (const file of files) {
  exprSuite(`expr/${file}`, readFileSync(new URL(file, dir), "utf8"), { closures: closureBackend() });
}

const ast = (text: string) => {
  const parsed = parseExpression(text);
  if (!parsed.ast) throw new Error(parsed.diagnostics[0]?.message);
  return parsed.ast;
};

describe("the expression checker", () => {
  const scope = caseScope();

  it("runs every case file inside workerd against SQL too", () => {
    const workerSuite = readFileSync(new URL("../worker/expr-cases.test.ts", import.meta.url), "utf8");
    for (const file of files) expect(workerSuite).toContain(`../dsl/expr/${file}?raw`);
  });

  it("collects every error, not just the first", () => {
    const result = checkExpression(ast('ltvv > $1 and npss > 1 and plan == "premium"'), scope);
    expect(result.diagnostics.map((d) => [d.code, d.span.start])).toEqual([
      ["unknown_field", 0],
      ["unknown_field", 14],
      ["unknown_plan", 35],
    ]);
  });

  it("rejects a non-condition where a condition is expected", () => {
    const result = checkExpression(ast("ltv + $5"), scope, { kind: "boolean" });
    expect(result.diagnostics.map((d) => d.code)).toEqual(["type_mismatch"]);
    expect(result.type).toBeUndefined();
  });

  it("reports the type, the event window it reads and the segments it names", () => {
    const result = checkExpression(
      ast("high_value and count(activity, 30d) > 2 and last(nps.submitted.score, 90d) < 7"),
      scope,
      {
        kind: "boolean",
      },
    );
    expect(result).toMatchObject({
      type: { kind: "boolean" },
      sqlTranslatable: true,
      eventWindowMs: 90 * 86_400_000,
    });
    expect(result.segmentRefs).toEqual(["high_value"]);
    expect(checkExpression(ast("count(activity) > 1"), scope).eventWindowMs).toBe(Number.POSITIVE_INFINITY);
    expect(checkExpression(ast("nps > 1"), scope).eventWindowMs).toBe(0);
  });

  it("marks an expression untranslatable when a segment it names is", () => {
    const withOpaque = buildScope({
      defaultCurrency: "USD",
      segments: [{ name: "opaque", sqlTranslatable: false }],
    });
    expect(checkExpression(ast("opaque and nps > 1"), withOpaque).sqlTranslatable).toBe(false);
  });

  it("types money by the ruleset's default currency", () => {
    const euros = buildScope({ defaultCurrency: "EUR" });
    expect(checkExpression(ast("$5"), euros).type).toEqual({ kind: "money", currency: "EUR" });
    expect(checkExpression(ast("$5 + €5"), euros).diagnostics).toEqual([]);
  });

  it("with exchange rates, refuses an amount in a currency without a rate, at the amount", () => {
    const scope = buildScope({ defaultCurrency: "USD", exchangeRates: { GBP: 1.27 } });
    const check = (text: string) =>
      checkExpression(parseExpression(text).ast!, scope).diagnostics.map((d) => ({
        code: d.code,
        column: d.span.start + 1,
      }));
    expect(check("ltv >= €300")).toEqual([{ code: "no_exchange_rate", column: 8 }]);
    expect(check("ltv >= $5 or aov >= 900 JPY")).toEqual([{ code: "no_exchange_rate", column: 21 }]);
    // A currency with a rate compares with any other that has one, the ruleset's included.
    expect(check("ltv >= £400 and £5 < $10")).toEqual([]);
    // Adding two currencies is still an error: only comparisons convert.
    expect(check("ltv >= £5 + $5")).toEqual([{ code: "currency_mismatch", column: 11 }]);
    // Without rates (an expression checked on its own) other currencies are not refused.
    expect(checkExpression(parseExpression("ltv >= €300").ast!, caseScope()).diagnostics).toEqual([]);
  });

  it("refuses to compile or translate an expression that does not check", () => {
    const bad = ast('ltv >= "500"');
    expect(() => compileExpression(bad, { scope, segment: () => () => null })).toThrow(CompileError);
    expect(() => expressionToSql(bad, { scope, segment: () => ({ sql: "1", params: [] }) })).toThrow(
      SqlTranslationError,
    );
  });

  it("binds now wherever the SQL needs it and spends no parameter on integers", () => {
    const where = expressionToSql(ast("days_since(canceled_at) <= 90 and count(activity, 30d) >= 2"), {
      scope,
      segment: () => ({ sql: "1", params: [] }),
    });
    expect(bindSql(where, 1_700_000_000_000)).toEqual([
      1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_000,
    ]);
    expect(where.sql).toContain("e.type = 'activity'");
  });

  it("keeps a hostile expression within D1's parameter limit or refuses it", () => {
    // Each `now` is a bound parameter: 41 comparisons need 82, within the node limit.
    const strings = Array.from({ length: 41 }, () => "now == now").join(" or ");
    expect(() => expressionToSql(ast(strings), { scope, segment: () => ({ sql: "1", params: [] }) })).toThrow(
      /parameters/,
    );
  });
});
