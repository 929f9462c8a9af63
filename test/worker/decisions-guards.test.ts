// Caps, cooldowns, anti-abuse, experiments and concurrency: what keeps offers from being handed out
// too often, to the wrong people, or twice at once. The shipped rules' policy (rules/settings.yaml):
// at most 3 money offers (amount_off, percent_off, months_off, credit) per 365 days, 30 days between
// any two of them, and none after redeeming and churning again within 60 days.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";
import { assignVariant, inHoldout } from "../../dsl/runtime/bucket";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { decideAndRecord } from "../../worker/decisions/decide-and-record";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { ruleset } from "../../worker/generated/ruleset";
import {
  at,
  cancel,
  DAY,
  decide,
  offeredIds,
  PRICE_EXPERIMENT,
  payingCustomer,
  respond,
  storedDecisions,
  T0,
  useDecisionKeys,
} from "./decision-fixtures";
import { call } from "./helpers";

const keys = useDecisionKeys();

/** Asks in the cancel flow at T0 + `days` and declines whatever offer comes back. */
async function askAndDecline(id: string, days: number, reason: string) {
  const { body } = await decide(id, "cancel_flow", { key: keys.admin, now: at(days), reason });
  if (body.offer) expect((await respond(body.decision_id, "decline", keys.admin, at(days))).status).toBe(200);
  return body;
}

describe("caps and cooldowns across money offers", () => {
  it("keeps 30 days between any two money offers, whichever offer it is", async () => {
    await payingCustomer(keys.writer, "cool-1");
    expect((await askAndDecline("cool-1", 0, "technical_issues")).offer.key).toBe("technical_credit");
    const soon = await askAndDecline("cool-1", 10, "switched_to_competitor");
    expect(soon).toMatchObject({ offer: null, reason_code: "cooldown" });
    expect(soon.why).toContain("30d");
    // An expert session gives no money: the cooldown neither holds it back nor counts it.
    expect((await askAndDecline("cool-1", 10, "hard_to_use")).offer.key).toBe("hard_to_use_session");
    const later = await askAndDecline("cool-1", 31, "technical_issues");
    expect(later.offer.key).toBe("technical_credit");
  });

  it("gives at most three money offers in 365 days across all offers", async () => {
    await payingCustomer(keys.writer, "cap-1");
    expect((await askAndDecline("cap-1", 0, "technical_issues")).offer).not.toBeNull();
    expect((await askAndDecline("cap-1", 31, "switched_to_competitor")).offer).not.toBeNull();
    expect((await askAndDecline("cap-1", 62, "technical_issues")).offer).not.toBeNull();
    expect((await askAndDecline("cap-1", 70, "hard_to_use")).offer.key).toBe("hard_to_use_session");
    const fourth = await askAndDecline("cap-1", 93, "technical_issues");
    expect(fourth).toMatchObject({ offer: null, reason_code: "capped" });
    // A year after the first offer it no longer counts.
    expect((await askAndDecline("cap-1", 366, "technical_issues")).offer.key).toBe("technical_credit");
  });

  it("applies an offer's own cap: one price discount per 180 days", async () => {
    const id = offeredIds("own-cap", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    expect((await askAndDecline(id, 0, "too_expensive")).offer.key).toBe("price_everyone_else");
    const again = await askAndDecline(id, 40, "too_expensive");
    expect(again).toMatchObject({ offer: null, reason_code: "capped" });
    expect((await askAndDecline(id, 181, "too_expensive")).offer.key).toBe("price_everyone_else");
  });

  it("counts only offers, not decisions that gave none", async () => {
    await payingCustomer(keys.writer, "nothing-1", { ltv: 5_000, mrr: 900, plan: "starter" });
    for (const days of [0, 1, 2]) {
      expect((await askAndDecline("nothing-1", days, "too_expensive")).reason_code).toBe("no_matching_rule");
    }
    expect((await askAndDecline("nothing-1", 3, "hard_to_use")).offer.key).toBe("hard_to_use_session");
  });
});

describe("anti-abuse", () => {
  it("gives nothing to a customer who redeemed an offer and canceled again within 60 days", async () => {
    const [abuser, patient] = offeredIds("abuse", 2);
    for (const id of [abuser!, patient!]) {
      await payingCustomer(keys.writer, id, { ltv: 20_000 });
      const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "hard_to_use" });
      expect((await respond(body.decision_id, "accept", keys.admin, at(1))).status).toBe(200);
    }
    await cancel(keys.writer, abuser!, at(20), "too_expensive");
    await cancel(keys.writer, patient!, at(80), "too_expensive");
    const refused = await decide(abuser!, "winback", { key: keys.admin, now: at(100) });
    expect(refused.body).toMatchObject({ offer: null, reason_code: "ineligible", reason: "too_expensive" });
    expect(refused.body.why).toContain("60d");
    const welcome = await decide(patient!, "winback", { key: keys.admin, now: at(100) });
    expect(welcome.body.offer.key).toBe("price_everyone_else");
  });

  it("treats a cancel flow shortly after a redemption as churning again", async () => {
    const id = offeredIds("flow-abuse", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "hard_to_use" });
    await respond(body.decision_id, "accept", keys.admin, at(1));
    const again = await decide(id, "cancel_flow", { key: keys.admin, now: at(40), reason: "too_expensive" });
    expect(again.body).toMatchObject({ offer: null, reason_code: "ineligible" });
    // The same customer asking from the app (not leaving) is past the cooldown and may get one.
    const inApp = await decide(id, "in_app", { key: keys.admin, now: at(40), reason: "too_expensive" });
    expect(inApp.body.reason_code).toBe("offered");
  });
});

describe("experiments", () => {
  it("assigns variants and the holdout by dsl/runtime/bucket.ts, recording holdout=1 for lift", async () => {
    const variants = ruleset.offers.find((offer) => offer.key === "price_high_value")!.experiment!.variants;
    const seen = new Set<string>();
    for (let n = 0; n < 30; n++) {
      const id = `exp-${n}`;
      await payingCustomer(keys.writer, id, { ltv: 80_000 });
      const { body } = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
      const held = inHoldout(PRICE_EXPERIMENT, id, 10);
      expect({ id, holdout: body.holdout }).toEqual({ id, holdout: held });
      if (held) {
        expect(body).toMatchObject({ offer: null, reason_code: "holdout", variant: null });
        const row = await env.DB.prepare("SELECT holdout, experiment, status FROM decisions WHERE id = ?")
          .bind(body.decision_id)
          .first();
        expect(row).toEqual({ holdout: 1, experiment: PRICE_EXPERIMENT, status: "no_offer" });
        seen.add("holdout");
      } else {
        expect(body.variant).toBe(assignVariant(PRICE_EXPERIMENT, id, variants)!.key);
        seen.add(body.variant);
      }
    }
    expect(seen).toEqual(new Set(["holdout", "twenty", "habit"]));
  });

  it("keeps a customer in the same variant on every later decision", async () => {
    const id = "cus_4";
    await payingCustomer(keys.writer, id, { ltv: 80_000 });
    const first = await askAndDecline(id, 0, "too_expensive");
    const later = await askAndDecline(id, 200, "too_expensive");
    expect(first.variant).toBe("habit");
    expect(later.variant).toBe("habit");
    expect(later.decision_id).not.toBe(first.decision_id);
  });
});

describe("concurrency", () => {
  it("creates one outstanding offer when the same customer asks many times at once", async () => {
    const id = offeredIds("burst", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" }),
      ),
    );
    const ids = new Set(answers.map((answer) => answer.body.decision_id));
    expect(ids.size).toBe(1);
    expect(answers.filter((answer) => answer.body.reused === false)).toHaveLength(1);
    const rows = await env.DB.prepare("SELECT status FROM decisions WHERE customer_id = ?").bind(id).all();
    expect(rows.results).toEqual([{ status: "outstanding" }]);
  });
});

describe("concurrency inside one isolate", () => {
  it("answers every racing decision with the one offer that won the outstanding slot", async () => {
    const id = offeredIds("race-direct", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    // Started together, every call reads "no outstanding offer" before any of them writes: all but
    // one INSERT hit decisions_one_outstanding and must answer with the winner.
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        decideAndRecord(
          env,
          { customerId: id, context: "cancel_flow", reason: "too_expensive", now: T0 },
          deployedRuleset(),
        ),
      ),
    );
    const created = results.filter((result) => result.outcome === "created");
    expect(created).toHaveLength(1);
    for (const result of results) {
      expect(result.decision.id).toBe(created[0]!.decision.id);
      expect(result.decision.offer?.expiresAt).toBe(T0 + 14 * DAY);
      expect(result.chosenOffer?.key).toBe("price_everyone_else");
    }
    const rows = await env.DB.prepare("SELECT status FROM decisions WHERE customer_id = ?").bind(id).all();
    expect(rows.results).toEqual([{ status: "outstanding" }]);
  });

  it("stores no second offer when a racing one was made and answered between its read and write", async () => {
    const id = offeredIds("race-answered", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    // The slow decision reads (no offer yet), then, just before its INSERT, a fast one makes an
    // offer and the customer declines it: the outstanding slot is free again, but the slow
    // decision's caps and cooldown never counted that offer.
    let fast: Awaited<ReturnType<typeof decideAndRecord>> | null = null;
    const slowDb = beforeFirstInsert(env.DB, async () => {
      fast = await decideAndRecord(
        env,
        { customerId: id, context: "cancel_flow", reason: "too_expensive", now: T0 },
        deployedRuleset(),
      );
      expect((await respond(fast.decision.id, "decline", keys.admin, at(0))).status).toBe(200);
    });
    const slow = await decideAndRecord(
      { ...env, DB: slowDb },
      { customerId: id, context: "in_app", reason: "too_expensive", now: T0 + 1 },
      deployedRuleset(),
    );
    expect(fast).not.toBeNull();
    expect(slow.outcome).toBe("outstanding");
    expect(slow.decision).toMatchObject({ id: fast!.decision.id, status: "declined" });
    expect(await storedDecisions(id, { offersOnly: true })).toBe(1);
  });
});

/**
 * The real database, with `between` run once just before the first `INSERT INTO decisions` a
 * decision executes: a race made to happen at the one instant that matters, every time.
 */
function beforeFirstInsert(db: D1Database, between: () => Promise<void>): D1Database {
  let fired = false;
  const once = async () => {
    if (fired) return;
    fired = true;
    await between();
  };
  return new Proxy(db, {
    get(target, property) {
      if (property !== "prepare") return Reflect.get(target, property, target);
      return (sql: string) => {
        const statement = target.prepare(sql);
        if (!sql.includes("INSERT INTO decisions")) return statement;
        return new Proxy(statement, {
          get(inner, name) {
            if (name !== "bind") return Reflect.get(inner, name, inner);
            return (...values: unknown[]) => {
              const bound = inner.bind(...values);
              return new Proxy(bound, {
                get(ready, method) {
                  if (method !== "run") return Reflect.get(ready, method, ready);
                  return async () => {
                    await once();
                    return ready.run();
                  };
                },
              });
            };
          },
        });
      };
    },
  });
}

describe("decisions for campaign messages", () => {
  it("share the record, expiry and caps with the API", async () => {
    const id = offeredIds("campaign", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 20_000 });
    await cancel(keys.writer, id, "2026-03-01T09:00:00Z", "too_expensive");
    const result = await decideAndRecord(
      env,
      { customerId: id, context: "winback", now: T0, only: ["price_everyone_else"], source: "campaign" },
      deployedRuleset(),
    );
    expect(result.outcome).toBe("created");
    expect(result.chosenOffer).toMatchObject({ key: "price_everyone_else", expiresAt: T0 + 14 * DAY });
    expect(result.decision).toMatchObject({ source: "campaign", status: "outstanding" });
    // The app asking in the meantime sees the campaign's offer, not a new one.
    const fromApp = await decide(id, "in_app", { key: keys.admin, now: at(3) });
    expect(fromApp.body).toMatchObject({ decision_id: result.decision.id, reused: true });
    const stored = await call(`/v1/decisions/${result.decision.id}`, { key: keys.reader });
    expect(stored.body.source).toBe("campaign");
  });

  it("respects `only`: a step naming one offer gets that offer or none", async () => {
    const id = offeredIds("only", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 80_000 });
    const result = await decideAndRecord(
      env,
      {
        customerId: id,
        context: "cancel_flow",
        reason: "too_expensive",
        now: T0,
        only: ["price_everyone_else"],
        source: "campaign",
      },
      deployedRuleset(),
    );
    expect(result.decision.offer?.key).toBe("price_everyone_else");
  });
});

describe("request attributes", () => {
  it("are seen by the rules for this decision only", async () => {
    const check = checkRuleset([
      {
        path: "rules/attrs.yaml",
        text: `
settings: { currency: USD, default_timezone: UTC }
fields:
  seats: { type: number }
rewards:
  big: { amount_off: $50, expires_after: 7d }
messages:
  m: { body: "{{ offer_amount }}" }
offers:
  - key: big_accounts
    when: seats >= 10
    reward: big
    message: m
`,
      },
    ]);
    expect(check.diagnostics).toEqual([]);
    const rules = loadRuleset(JSON.parse(JSON.stringify(check.ruleset)));
    await payingCustomer(keys.writer, "attrs-rules", { attributes: { seats: 3 } });
    const small = await decideAndRecord(
      env,
      { customerId: "attrs-rules", context: "in_app", now: T0 },
      rules,
    );
    expect(small.decision.reasonCode).toBe("no_matching_rule");
    expect(small.decision.inputs.profile).toEqual({ seats: 3 });
    const big = await decideAndRecord(
      env,
      { customerId: "attrs-rules", context: "in_app", now: T0 + DAY, attributes: { seats: 12 } },
      rules,
    );
    expect(big.decision.offer?.key).toBe("big_accounts");
    expect(big.decision.inputs.profile).toEqual({ seats: 12 });
    const profile = await call("/v1/customers/attrs-rules", { key: keys.reader });
    expect(profile.body.customer.attributes).toEqual({ seats: 3 });
  });
});
