// The malformed-rule corpus: every broken file yields exactly its expected located errors, through
// the checker and through `rebound validate --format json`, and nothing crashes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatDiagnostics } from "../../dsl/cli/format-diagnostics";
import { main } from "../../dsl/cli/main";
import { plainStyle } from "../../dsl/cli/style";
import { DIAGNOSTIC_CODES } from "../../dsl/errors";
import { checkRuleset } from "../../dsl/rules/check";
import { malformedCases } from "./malformed-corpus";

const cases = malformedCases();
const scratch = mkdtempSync(join(tmpdir(), "rebound-malformed-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the malformed rule corpus", () => {
  it("has at least 40 cases, each with an expectation and a stable code", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) {
      expect(c.expected.length, c.name).toBeGreaterThan(0);
      for (const e of c.expected) expect(DIAGNOSTIC_CODES, c.name).toContain(e.code);
    }
  });

  it("covers every family of mistakes the issue lists", () => {
    const codes = new Set(cases.flatMap((c) => c.expected.map((e) => e.code)));
    for (const code of [
      "yaml_syntax",
      "schema_violation",
      "duplicate_key",
      "limit_exceeded",
      "expr_syntax",
      "unknown_field",
      "type_mismatch",
      "currency_mismatch",
      "no_exchange_rate",
      "not_sql_translatable",
      "unknown_segment",
      "unknown_reason",
      "unknown_reward",
      "unknown_message",
      "unknown_template_variable",
      "segment_cycle",
      "bad_duration",
      "bad_money",
      "bad_cron",
      "unknown_timezone",
      "bad_weights",
    ]) {
      expect(codes, code).toContain(code);
    }
  });

  for (const c of cases) {
    it(`${c.name}: reports ${c.expected.map((e) => `${e.code} at ${e.line}:${e.column}`).join(", ")}`, () => {
      const result = checkRuleset([{ path: c.path, text: c.text }]);
      expect(result.ruleset).toBeUndefined();
      expect(result.diagnostics.map((d) => ({ code: d.code, line: d.line, column: d.column }))).toEqual(
        c.expected,
      );
      const formatted = formatDiagnostics(result.diagnostics, new Map([[c.path, c.text]]), plainStyle);
      const first = c.expected[0]!;
      expect(formatted).toContain(`${c.path}:${first.line}:${first.column} error[${first.code}]`);
      expect(formatted).toContain("^");
    });
  }

  it("explains an indentation mistake as one, at the line that is out of place", () => {
    const indentation = cases.filter((c) => /^yaml-(bad-indentation|key-less-indented|indent-)/.test(c.name));
    expect(indentation.length).toBeGreaterThanOrEqual(6);
    for (const c of indentation) {
      const [diagnostic] = checkRuleset([{ path: c.path, text: c.text }]).diagnostics;
      expect(diagnostic?.hint, c.name).toMatch(/indent/);
      expect(diagnostic?.hint, c.name).not.toContain("not known until it parses");
    }
    const [misplaced] = checkRuleset([
      { path: "rules/segments.yaml", text: "segments:\n  vip: ltv >= $500\n   big: ltv >= $900\n" },
    ]).diagnostics;
    expect(misplaced?.message).toContain("`big` is indented 3 spaces, more than `vip` above it (2)");
    // Not every syntax error is about indentation: an unclosed quote keeps the parser's words.
    const [quote] = checkRuleset([
      { path: "rules/q.yaml", text: 'segments:\n  vip: "ltv >= $500\n' },
    ]).diagnostics;
    expect(quote?.hint).not.toMatch(/indent/);
  });

  it("fails `rebound validate --format json` with the same located errors for every case", async () => {
    for (const c of cases) {
      const dir = join(scratch, c.name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      writeFileSync(join(dir, "rules.yaml"), c.text);
      let out = "";
      const code = await main(["validate", dir, "--format", "json"], {
        out: (text) => {
          out += text;
        },
        err: () => {},
        isTTY: false,
      });
      expect(code, c.name).toBe(1);
      const report = JSON.parse(out) as {
        ok: boolean;
        diagnostics: { code: string; line: number; column: number }[];
      };
      expect(report.ok).toBe(false);
      expect(
        report.diagnostics.map((d) => ({ code: d.code, line: d.line, column: d.column })),
        c.name,
      ).toEqual(c.expected);
    }
  });
});
