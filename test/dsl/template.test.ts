// Message templates: variables, defaults, and what each sending context may use.
import { describe, expect, it } from "vitest";
import { parseTemplate, renderTemplate, variableAvailable } from "../../dsl/rules/template";

describe("message templates", () => {
  it("renders variables and falls back to defaults for missing values", () => {
    const { template, diagnostics } = parseTemplate(
      'Hi {{ first_name | default: "there" }}, {{ offer_amount }} off at {{company_name}}',
    );
    expect(diagnostics).toEqual([]);
    expect(renderTemplate(template, { first_name: null, offer_amount: "$20", company_name: "Acme" })).toBe(
      "Hi there, $20 off at Acme",
    );
    expect(renderTemplate(template, { first_name: "Ada", offer_amount: "$20", company_name: "Acme" })).toBe(
      "Hi Ada, $20 off at Acme",
    );
  });

  it("inserts values as text, never as template syntax", () => {
    const { template } = parseTemplate("Hi {{ first_name }}");
    expect(renderTemplate(template, { first_name: "{{ update_url }}" })).toBe("Hi {{ update_url }}");
  });

  it("reports unknown variables and malformed slots with their spans", () => {
    const { diagnostics } = parseTemplate("Hi {{ frist_name }} {{ nope | upper }} {{ open");
    expect(diagnostics.map((d) => [d.code, d.span.start])).toEqual([
      ["unknown_template_variable", 6],
      ["template_syntax", 20],
      ["template_syntax", 39],
    ]);
  });

  it("gives dunning messages card details and offer messages the offer, and neither to plain ones", () => {
    expect(variableAvailable("card_last4", "dunning")).toBe(true);
    expect(variableAvailable("update_url", "card_expiry")).toBe(true);
    expect(variableAvailable("offer_amount", "offer")).toBe(true);
    expect(variableAvailable("offer_amount", "plain")).toBe(false);
    expect(variableAvailable("card_last4", "plain")).toBe(false);
    expect(variableAvailable("first_name", "plain")).toBe(true);
    // The accept link needs the decision, which only a message carrying an offer has.
    expect(variableAvailable("decision_id", "offer")).toBe(true);
    expect(variableAvailable("decision_id", "plain")).toBe(false);
  });
});
