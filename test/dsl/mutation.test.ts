// Nothing crashes the checker: the shipped rule pack, mutated at random (characters deleted, YAML
// and expression tokens inserted, lines duplicated), always yields located diagnostics with stable
// codes, never an exception.
import { describe, expect, it } from "vitest";
import { readRuleDirectory } from "../../dsl/cli/rule-files";
import { DIAGNOSTIC_CODES } from "../../dsl/errors";
import { checkRuleset } from "../../dsl/rules/check";

const TOKENS = [
  "{",
  "}",
  "[",
  "]",
  ":",
  "- ",
  "\n",
  "  ",
  "'",
  '"',
  "$",
  "14d",
  "&a ",
  "*a",
  "!!str ",
  "#",
  "(",
  ")",
  " and ",
  " not ",
  "{{",
  "}}",
  "|",
  ">",
  "null",
  "~",
  "\t",
  "é",
  "\\",
  "0x",
  "1e999",
  "key: x",
  "€",
  "-1",
];

describe("mutated rule packs", () => {
  it("never crash the checker and always point inside the file", () => {
    const files = readRuleDirectory("rules").rules;
    let state = 20_261_122;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    let rejected = 0;
    for (let round = 0; round < 300; round++) {
      const mutated = files.map((file) => {
        let text = file.text;
        for (let k = 1 + Math.floor(next() * 4); k > 0; k--) {
          const at = Math.floor(next() * text.length);
          const choice = next();
          if (choice < 0.3) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 5));
          else if (choice < 0.7)
            text = text.slice(0, at) + TOKENS[Math.floor(next() * TOKENS.length)] + text.slice(at);
          else {
            const lines = text.split("\n");
            lines.splice(Math.floor(next() * lines.length), 0, lines[Math.floor(next() * lines.length)]!);
            text = lines.join("\n");
          }
        }
        return { ...file, text };
      });
      const result = checkRuleset(mutated);
      if (!result.ruleset) rejected++;
      for (const d of result.diagnostics) {
        const file = mutated.find((m) => m.path === d.file);
        expect(file, d.file).toBeDefined();
        expect(DIAGNOSTIC_CODES).toContain(d.code);
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.line).toBeLessThanOrEqual(file!.text.split("\n").length);
        expect(d.column).toBeGreaterThanOrEqual(1);
      }
      expect(result.diagnostics.length).toBeLessThanOrEqual(50);
    }
    // Most mutations break something; the test would prove little if they did not.
    expect(rejected).toBeGreaterThan(200);
  });
});
