// `billing:` maps billing-provider webhooks onto the rules (docs/providers.md): Stripe feedback and
// Chargebee reason codes onto declared reasons, provider prices onto declared plans.
import { describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";

const catalog = "reasons: [too_expensive, switched_to_competitor, other]\nplans: [starter, pro]\n";

function check(billing: string) {
  return checkRuleset([{ path: "rules/settings.yaml", text: `${catalog}${billing}` }]);
}

describe("the billing section", () => {
  it("reads the mappings into the ruleset", () => {
    const result = check(
      [
        "billing:",
        "  cancellation_reasons:",
        "    stripe: { switched_service: switched_to_competitor }",
        "    chargebee: { Price-Too-High: too_expensive }",
        "  default_reason: too_expensive",
        "  plans: { price_1Pro: pro, pro-USD-monthly: pro }",
        "",
      ].join("\n"),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.ruleset?.billing).toEqual({
      cancellationReasons: {
        stripe: { switched_service: "switched_to_competitor" },
        chargebee: { "Price-Too-High": "too_expensive" },
      },
      defaultReason: "too_expensive",
      plans: { price_1Pro: "pro", "pro-USD-monthly": "pro" },
    });
  });

  it("defaults to no mappings and the reason `other` when the rules have no billing section", () => {
    expect(check("").ruleset?.billing).toEqual({
      cancellationReasons: { stripe: {}, chargebee: {} },
      defaultReason: "other",
      plans: {},
    });
    const withoutOther = checkRuleset([{ path: "r.yaml", text: "reasons: [too_expensive]\n" }]);
    expect(withoutOther.ruleset?.billing.defaultReason).toBeNull();
  });

  it("points at a misspelt Stripe feedback value, reason and plan, with a suggestion each", () => {
    const result = check(
      [
        "billing:",
        "  cancellation_reasons:",
        "    stripe: { switched_servce: other, too_expensive: too_expensiv }",
        "  plans: { price_1: prp }",
        "",
      ].join("\n"),
    );
    expect(result.ruleset).toBeUndefined();
    expect(
      result.diagnostics.map((d) => ({ code: d.code, line: d.line, column: d.column, hint: d.hint })),
    ).toEqual([
      { code: "unknown_enum_value", line: 5, column: 15, hint: "did you mean `switched_service`?" },
      { code: "unknown_reason", line: 5, column: 54, hint: "did you mean `too_expensive`?" },
      { code: "unknown_plan", line: 6, column: 21, hint: "did you mean `pro`?" },
    ]);
  });

  it("refuses a plan mapping when the rules declare no plans, and unknown fields and providers", () => {
    const result = checkRuleset([
      {
        path: "r.yaml",
        text: "reasons: [other]\nbilling:\n  plans: { price_1: pro }\n  cancelation_reasons: {}\n",
      },
    ]);
    expect(result.diagnostics.map((d) => [d.code, d.line, d.column, d.hint])).toEqual([
      ["unknown_plan", 3, 21, "declare the plans under `plans:` (e.g. `plans: [starter, pro]`)"],
      ["schema_violation", 4, 3, "did you mean `cancellation_reasons`?"],
    ]);
    const provider = check("billing:\n  cancellation_reasons:\n    paddle: {}\n");
    expect(provider.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([["schema_violation", 5, 5]]);
  });
});
