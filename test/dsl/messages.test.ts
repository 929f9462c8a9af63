// The one message renderer (dsl/runtime/messages.ts): the decision path and the queue consumer render
// the same templates, parsed once when the ruleset is loaded, and agree on what a missing subject means.
import { describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { renderMessage, renderSend } from "../../dsl/runtime/messages";
import { loadRuleset, RulesetLoadError } from "../../dsl/runtime/ruleset";

const check = checkRuleset([
  {
    path: "rules/messages.yaml",
    text: `
settings: { currency: USD, default_timezone: UTC }
messages:
  hello: { subject: "{{ first_name }} welcome back", body: "Hi {{ first_name | default: \\"there\\" }}." }
  banner: { body: "Thanks for staying with {{ company_name }}." }
`,
  },
]);
const rules = loadRuleset(check.ruleset!);
const customer = { id: "cus_1", first_name: "Ada" };

describe("a message without a subject", () => {
  it("has none for the decision API, and the company name as a send's subject line", () => {
    expect(check.diagnostics).toEqual([]);
    expect(renderMessage(rules, "banner", { customer, companyName: "Acme" })).toEqual({
      key: "banner",
      channel: null,
      subject: null,
      body: "Thanks for staying with Acme.",
    });
    expect(renderSend(rules, "banner", { company_name: "Acme" })).toEqual({
      key: "banner",
      channel: null,
      subject: "Acme",
      body: "Thanks for staying with Acme.",
    });
    // The consumer passes the deployment's company name: a send snapshotted without one still has
    // a subject line.
    expect(renderSend(rules, "banner", { company_name: null }, "Acme")).toMatchObject({ subject: "Acme" });
  });
});

describe("rendering", () => {
  it("gives the same text on the decision path and for a send with the same variables", () => {
    const decided = renderMessage(rules, "hello", { customer, companyName: "Acme" });
    expect(decided).toMatchObject({ subject: "Ada welcome back", body: "Hi Ada." });
    expect(renderSend(rules, "hello", { first_name: "Ada", company_name: "Acme" })).toEqual(decided);
  });

  it("drops the whitespace an empty variable leaves around a subject", () => {
    expect(renderSend(rules, "hello", { first_name: null, company_name: "Acme" })).toMatchObject({
      subject: "welcome back",
      body: "Hi there.",
    });
  });

  it("answers null for a send whose message the ruleset does not have, and throws on the decision path", () => {
    expect(renderSend(rules, "gone", { company_name: "Acme" })).toBeNull();
    expect(() => renderMessage(rules, "gone", { customer, companyName: "Acme" })).toThrow("unknown message");
  });

  it("parses templates when the ruleset is loaded, refusing one that does not parse", () => {
    const ir = structuredClone(check.ruleset!) as RulesetIR;
    ir.messages.push({ key: "broken", channel: null, subject: null, body: "Hi {{ first_name " });
    expect(() => loadRuleset(ir)).toThrow(RulesetLoadError);
    expect(() => loadRuleset(ir)).toThrow("message broken body");
  });
});
