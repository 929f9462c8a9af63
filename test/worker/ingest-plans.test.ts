// Plans in events come from the rules, like cancellation reasons: a plan the rules do not declare
// is refused at its property (every event that carries one), with the declared plans named and
// nothing stored; rules that declare no plans accept any plan.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { createApp } from "../../worker/api/app";
import { ROUTES } from "../../worker/api/route-table";
import { ruleset } from "../../worker/generated/ruleset";
import { call, event, issueKey } from "./helpers";

let writer: string;
beforeAll(async () => {
  writer = await issueKey(["events:write"]);
});

const declared = ruleset.plans!;

async function storedEvents(customerId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE customer_id = ?")
    .bind(customerId)
    .first<{ n: number }>();
  return row!.n;
}

describe("a plan the deployed rules do not declare", () => {
  it("is refused wherever an event carries a plan, each at its own property, and nothing is stored", async () => {
    const result = await call("/v1/events", {
      key: writer,
      body: {
        events: [
          event("activity", "c-plan", "2026-03-01T10:00:00Z"),
          event("customer.updated", "c-plan", "2026-03-01T11:00:00Z", { plan: "Platinum" }),
          event("subscription.started", "c-plan", "2026-03-01T12:00:00Z", {
            plan: "platinum",
            mrr: 4900,
            currency: "USD",
          }),
          event("subscription.changed", "c-plan", "2026-03-02T12:00:00Z", {
            plan: "pro",
            mrr: 4900,
            previous_plan: "legacy",
          }),
          event("subscription.reactivated", "c-plan", "2026-03-03T12:00:00Z", { plan: "Pro", mrr: 4900 }),
        ],
      },
    });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("validation_failed");
    const details = result.body.error.details as { path: string; message: string }[];
    expect(details.map((d) => d.path)).toEqual([
      "/events/1/properties/plan",
      "/events/2/properties/plan",
      "/events/3/properties/previous_plan",
      "/events/4/properties/plan",
    ]);
    for (const detail of details) {
      expect(detail.message).toContain(`use one of: ${declared.join(", ")}`);
      expect(detail.message).toContain("declare it under `plans:`");
    }
    expect(await storedEvents("c-plan")).toBe(0);
    const profile = await env.DB.prepare("SELECT count(*) AS n FROM customers WHERE id = 'c-plan'").first();
    expect(profile?.n).toBe(0);
  });

  it("is refused exactly as an undeclared cancellation reason is", async () => {
    const result = await call("/v1/events", {
      key: writer,
      body: {
        events: [
          event("customer.updated", "c-plan-reason", "2026-03-01T10:00:00Z", { plan: "Platinum" }),
          event("subscription.canceled", "c-plan-reason", "2026-03-02T10:00:00Z", { reason: "too_pricey" }),
        ],
      },
    });
    expect(result.status).toBe(400);
    const details = result.body.error.details as { path: string; message: string }[];
    expect(details.map((d) => d.path)).toEqual(["/events/0/properties/plan", "/events/1/properties/reason"]);
    expect(details[0]!.message).toMatch(/^is not a plan of the rules; use one of: /);
    expect(details[1]!.message).toMatch(/^is not a cancellation reason of the rules; use one of: /);
  });

  it("accepts every declared plan, and a customer.updated that clears the plan", async () => {
    const result = await call("/v1/events", {
      key: writer,
      body: {
        events: [
          ...declared.map((plan, index) =>
            event("subscription.started", `c-plan-ok-${index}`, "2026-03-01T10:00:00Z", {
              plan,
              mrr: 1900,
              currency: "USD",
            }),
          ),
          event("customer.updated", "c-plan-cleared", "2026-03-01T10:00:00Z", { plan: null }),
        ],
      },
    });
    expect(result.status).toBe(200);
    expect(result.body.accepted).toBe(declared.length + 1);
    const plans = await env.DB.prepare(
      "SELECT plan FROM customers WHERE id LIKE 'c-plan-ok-%' ORDER BY id",
    ).all<{ plan: string }>();
    expect(plans.results.map((row) => row.plan)).toEqual(declared);
  });
});

describe("rules that declare no plans", () => {
  const noPlans = checkRuleset([
    { path: "rules/settings.yaml", text: "settings:\n  currency: USD\n" },
    { path: "rules/segments.yaml", text: 'segments:\n  on_pro: plan == "pro"\n' },
  ]);
  const app = createApp(ROUTES, { ruleset: () => loadRuleset(noPlans.ruleset!) });

  it("accept any plan: there is nothing to check it against", async () => {
    expect(noPlans.ruleset?.plans).toBeNull();
    const response = await app.fetch(
      new Request("http://rebound.test/v1/events", {
        method: "POST",
        headers: { authorization: `Bearer ${writer}`, "content-type": "application/json" },
        body: JSON.stringify(
          event("subscription.started", "c-plan-free", "2026-03-01T10:00:00Z", {
            plan: "Platinum",
            mrr: 4900,
            currency: "USD",
          }),
        ),
      }),
      env,
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { accepted: number }).accepted).toBe(1);
    const profile = await env.DB.prepare("SELECT plan FROM customers WHERE id = 'c-plan-free'").first<{
      plan: string;
    }>();
    expect(profile?.plan).toBe("Platinum");
  });
});
