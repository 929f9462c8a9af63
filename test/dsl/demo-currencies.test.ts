// Every demo customer pays in USD, EUR, GBP or AUD (worker/tools/demo-data.ts). With the shipped
// rules' exchange rates (rules/settings.yaml) each of them can meet a dollar threshold and is
// offered an amount in their own currency: none is left out as `currency_mismatch`.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileExpression } from "../../dsl/expr/compile";
import { parseExpression } from "../../dsl/expr/parser";
import { checkRuleset } from "../../dsl/rules/check";
import { decideOffer } from "../../dsl/runtime/decide";
import { amountFor } from "../../dsl/runtime/reward-currency";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { REGIONS } from "../../worker/tools/demo-data";
import { createWorld, DEMO_WORLD_DEFAULTS } from "../../worker/tools/demo-world";

const RULES_DIR = new URL("../../rules/", import.meta.url);
const files = readdirSync(RULES_DIR)
  .filter((name) => name.endsWith(".yaml") && !name.endsWith(".test.yaml"))
  .map((name) => ({ path: `rules/${name}`, text: readFileSync(new URL(name, RULES_DIR), "utf8") }));
const checked = checkRuleset(files);
const ruleset = loadRuleset(JSON.parse(JSON.stringify(checked.ruleset)));
const NOW = Date.UTC(2026, 3, 22);

const { state } = createWorld({ ...DEMO_WORLD_DEFAULTS, anchor: NOW });
const customers = state.customers.map((customer) => ({
  id: customer.id,
  currency: REGIONS[customer.region]!.currency as string,
  mrr: customer.mrr,
}));

describe("the demo world's currencies", () => {
  it("spans USD and the three currencies the rules have rates for", () => {
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(new Set(customers.map((c) => c.currency))).toEqual(new Set(["USD", "EUR", "GBP", "AUD"]));
    expect(customers.filter((c) => c.currency !== "USD").length).toBeGreaterThan(customers.length / 4);
  });

  it("lets every customer meet a dollar threshold at the rules' rates", () => {
    const threshold = compileExpression(parseExpression("ltv >= $500").ast!, {
      scope: ruleset.scope,
      segment: () => () => null,
    });
    for (const customer of customers) {
      const ctx = { now: NOW, customer: { ...customer, ltv: 100_000, status: "active" }, events: [] };
      // 1,000 in any of them is worth more than $500; 100 is worth less.
      expect(threshold(ctx), customer.currency).toBe(true);
      expect(threshold({ ...ctx, customer: { ...ctx.customer, ltv: 10_000 } }), customer.currency).toBe(
        false,
      );
    }
  });

  it("offers every customer leaving over price an amount in their own currency", () => {
    const moneyRewards = [...ruleset.rewards.values()].filter((reward) => reward.amount !== null);
    expect(moneyRewards.length).toBeGreaterThan(0);
    let offered = 0;
    for (const customer of customers) {
      for (const reward of moneyRewards) {
        expect(amountFor(reward, customer.currency, ruleset.exchange)?.currency, reward.key).toBe(
          customer.currency,
        );
      }
      const ctx = {
        now: NOW,
        customer: { ...customer, ltv: 10_000, mrr: 4_900, status: "active" },
        events: [],
      };
      const decision = decideOffer(ruleset, ctx, {
        context: "cancel_flow",
        reason: "too_expensive",
        explain: true,
      });
      expect(decision.trace.filter((entry) => entry.outcome === "currency_mismatch")).toEqual([]);
      expect(decision.offer?.reward.amount?.currency, customer.id).toBe(customer.currency);
      offered++;
    }
    expect(offered).toBe(customers.length);
  });
});
