// Positions: an error inside an expression points at the right file line and column whatever YAML
// scalar style the expression is written in.
import { describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";
import {
  expressionOffset,
  loadRuleFile,
  positionOf,
  type YamlMap,
  type YamlScalar,
} from "../../dsl/rules/load";

function locate(text: string, key: string, needle: string): { line: number; column: number } {
  const file = loadRuleFile("x.yaml", text);
  const pair = (file.root as YamlMap).pairs.find((p) => p.key.value === key)!;
  const scalar = pair.value as YamlScalar;
  const offset = expressionOffset(file.source, scalar, String(scalar.value).indexOf(needle));
  expect(text.slice(offset, offset + needle.length)).toBe(needle);
  return positionOf(file.source, offset);
}

describe("expression positions inside YAML scalars", () => {
  it("plain scalars", () => {
    expect(locate('a: plan == "pro" and ltvv > 1\n', "a", "ltvv")).toEqual({ line: 1, column: 22 });
  });

  it("plain scalars folded over lines", () => {
    expect(locate("a: plan == 1\n  and ltvv > 1\n", "a", "ltvv")).toEqual({ line: 2, column: 7 });
  });

  it("single-quoted scalars with doubled quotes", () => {
    expect(locate("a: 'x == ''it''''s'' and ltvv'\n", "a", "ltvv")).toEqual({ line: 1, column: 26 });
  });

  it("double-quoted scalars with escapes", () => {
    expect(locate('a: "plan == \\"pro\\" and ltvv"\n', "a", "ltvv")).toEqual({ line: 1, column: 25 });
  });

  it("literal block scalars", () => {
    expect(locate("a: |\n  plan == 1\n  and ltvv > 1\n", "a", "ltvv")).toEqual({ line: 3, column: 7 });
  });

  it("folded block scalars with a chomping indicator", () => {
    expect(locate("a: >-\n    plan == 1\n    and ltvv > 1\n", "a", "ltvv")).toEqual({ line: 3, column: 9 });
  });

  it("the checker reports every error in one file, in order, each located", () => {
    const text = [
      "segments:",
      "  one: ltvv >= $5",
      "  two: >-",
      '    status == "active"',
      '    and mrr >= "5"',
      "  three: ltv >= $5 and four",
      "",
    ].join("\n");
    const result = checkRuleset([{ path: "rules/x.yaml", text }]);
    expect(result.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ["unknown_field", 2, 8],
      ["type_mismatch", 5, 16],
      ["unknown_field", 6, 24],
    ]);
    expect(result.diagnostics[0]!.hint).toBe("did you mean `ltv`?");
  });

  it("stops collecting at the cap instead of flooding", () => {
    const lines = ["segments:"];
    for (let i = 0; i < 80; i++) lines.push(`  s${i}: ltvv >= $${i}`);
    const result = checkRuleset([{ path: "rules/x.yaml", text: `${lines.join("\n")}\n` }]);
    expect(result.diagnostics).toHaveLength(50);
  });

  it("reports a file that does not parse once, not again at every use of the keys it defines", () => {
    const result = checkRuleset([
      {
        path: "rules/offers.yaml",
        text: "offers:\n  - key: vip_offer\n    segment: vip\n    reward: nope\n    when: vip and ltvv > $1\n",
      },
      { path: "rules/segments.yaml", text: "segments:\n  vip:\n    description: x\n   when: ltv >= $500\n" },
    ]);
    expect(result.ruleset).toBeUndefined();
    // The offer's missing `message` is an error of its own and stays. References (`vip`, `nope`,
    // `ltvv`) wait until segments.yaml parses: until then most of them would be false alarms.
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ code: "schema_violation", file: "rules/offers.yaml", line: 2, column: 5 }),
      expect.objectContaining({ code: "yaml_syntax", file: "rules/segments.yaml", line: 4, column: 4 }),
    ]);
    // An indentation mistake is explained as one; the references still wait for the file to parse.
    expect(result.diagnostics[1]?.message).toContain("`when` is indented 3 spaces");
    expect(result.diagnostics[1]?.hint).toMatch(/indent `when` exactly like the keys it belongs with/);
    const unclosed = checkRuleset([
      {
        path: "rules/offers.yaml",
        text: "offers:\n  - key: vip_offer\n    segment: vip\n    reward: nope\n    message: m\n",
      },
      { path: "rules/segments.yaml", text: 'segments:\n  vip: "ltv >= $500\n' },
    ]);
    expect(unclosed.diagnostics.map((d) => d.code)).toEqual(["yaml_syntax"]);
    expect(unclosed.diagnostics[0]?.hint).toMatch(/references are checked then/);
  });

  it("still reports every reference error when every file parses", () => {
    const result = checkRuleset([
      {
        path: "rules/offers.yaml",
        text: "offers:\n  - key: vip_offer\n    segment: vip\n    reward: nope\n    message: m\n",
      },
      { path: "rules/segments.yaml", text: "segments:\n  vipp: ltv >= $500\n" },
    ]);
    expect(result.diagnostics.map((d) => d.code)).toEqual(
      expect.arrayContaining(["unknown_segment", "unknown_reward", "unknown_message"]),
    );
  });

  it("merges sections across files and rejects a key defined in two of them", () => {
    const result = checkRuleset([
      { path: "rules/a.yaml", text: "segments:\n  vip: ltv >= $500\n" },
      { path: "rules/b.yaml", text: "segments:\n  vip: ltv >= $900\n" },
    ]);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        code: "duplicate_key",
        file: "rules/b.yaml",
        line: 2,
        column: 3,
        hint: "first defined at rules/a.yaml:2:3",
      }),
    ]);
  });
});
