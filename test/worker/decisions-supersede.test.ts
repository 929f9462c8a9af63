// Stable answers are for the same moment, not across moments: an outstanding offer is returned
// unchanged to the asks it serves (polling, repeated page views), while an ask from a context its
// rule is not shown in, or for a reason it does not answer, is decided afresh. A new offer then
// supersedes the held one in the same batch (it counts for no cap); no new offer leaves it standing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { decideAndRecord } from "../../worker/decisions/decide-and-record";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import {
  at,
  DAY,
  decide,
  offeredIds,
  payingCustomer,
  respond,
  storedDecisions,
  T0,
  useDecisionKeys,
} from "./decision-fixtures";
import { call, event, ingest } from "./helpers";

const keys = useDecisionKeys();

/**
 * The customer: Pro at $49/month, $600 paid (high_value), active but quiet: one activity
 * 20 days ago (fading).
 */
async function fadingHighValue(id: string): Promise<void> {
  await payingCustomer(keys.writer, id, { ltv: 60_000, mrr: 4_900 });
  await ingest(keys.writer, [event("activity", id, new Date(T0 - 20 * DAY).toISOString())]);
}

async function nextOffer(id: string, context: string, now = at(0), explain = false) {
  return await call(`/v1/customers/${id}/next-offer?context=${context}${explain ? "&explain=1" : ""}`, {
    key: keys.admin,
    headers: { "x-rebound-now": now },
  });
}

async function statusOf(decisionId: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT status FROM decisions WHERE id = ?1")
    .bind(decisionId)
    .first<{ status: string }>();
  return row?.status;
}

describe("an outstanding offer and an ask from another moment", () => {
  it("gives the cancel flow its save offer and supersedes the in-app nudge", async () => {
    const id = offeredIds("supersede-cancel", 1)[0]!;
    await fadingHighValue(id);

    // 1. The in-app banner: loyalty points.
    const banner = await nextOffer(id, "in_app");
    expect(banner.body).toMatchObject({ reason_code: "offered", status: "outstanding", reused: false });
    expect(banner.body.offer.key).toBe("fading_points");

    // Polling the banner: the same decision, nothing written.
    const polled = await nextOffer(id, "in_app", at(0.01));
    expect(polled.body).toMatchObject({ decision_id: banner.body.decision_id, reused: true });
    expect(polled.body.meta.rows_written).toBe(0);

    // 2. The cancel flow, "too expensive": the $20-off save offer for high-value price churners.
    const save = await decide(id, "cancel_flow", { key: keys.admin, now: at(0.02), reason: "too_expensive" });
    expect(save.body).toMatchObject({ reason_code: "offered", status: "outstanding", reused: false });
    expect(save.body.offer.key).toBe("price_high_value");
    expect(save.body.decision_id).not.toBe(banner.body.decision_id);
    expect(save.body.why).toContain(`supersedes offer ${banner.body.decision_id}`);

    // The points offer is no longer outstanding, and cannot be accepted.
    expect(await statusOf(banner.body.decision_id)).toBe("superseded");
    const accept = await respond(banner.body.decision_id, "accept", keys.admin, at(0.03));
    expect(accept.status).toBe(410);
    expect(accept.body.error.code).toBe("offer_superseded");
    const shown = await call(`/v1/decisions/${banner.body.decision_id}`, { key: keys.admin });
    expect(shown.body).toMatchObject({ status: "superseded", offer: { key: "fading_points" } });

    // Asking the cancel flow again: the save offer, unchanged.
    const again = await decide(id, "cancel_flow", {
      key: keys.admin,
      now: at(0.04),
      reason: "too_expensive",
    });
    expect(again.body).toMatchObject({ decision_id: save.body.decision_id, reused: true });
    expect(again.body.meta.rows_written).toBe(0);
    // At most one offer is outstanding.
    const outstanding = await env.DB.prepare(
      "SELECT count(*) AS n FROM decisions WHERE customer_id = ?1 AND status = 'outstanding'",
    )
      .bind(id)
      .first<{ n: number }>();
    expect(outstanding?.n).toBe(1);
  });

  it("keeps the held offer, writing nothing, when the new moment has no offer of its own", async () => {
    const id = offeredIds("supersede-none", 1)[0]!;
    await fadingHighValue(id);
    const banner = await nextOffer(id, "in_app");
    expect(banner.body.offer.key).toBe("fading_points");
    const before = await storedDecisions(id);

    // No shipped offer answers "other".
    const flow = await decide(id, "cancel_flow", {
      key: keys.admin,
      now: at(0.1),
      reason: "other",
      explain: true,
    });
    expect(flow.body).toMatchObject({ decision_id: banner.body.decision_id, reused: true });
    expect(flow.body.offer.key).toBe("fading_points");
    expect(flow.body.meta.rows_written).toBe(0);
    expect(flow.body.outstanding).toMatchObject({ decision_id: banner.body.decision_id, kept: true });
    expect(flow.body.outstanding.why).toContain("fading_points is shown only in in_app, not in cancel_flow");
    expect(flow.body.outstanding.why).toContain("so it stands");
    expect(await storedDecisions(id)).toBe(before);
    expect(await statusOf(banner.body.decision_id)).toBe("outstanding");
  });

  it("says with ?explain=1 why a held offer was kept for an ask it serves, and why it was superseded", async () => {
    const id = offeredIds("supersede-explain", 1)[0]!;
    await fadingHighValue(id);
    const banner = await nextOffer(id, "in_app");
    const kept = await nextOffer(id, "in_app", at(0.01), true);
    expect(kept.body.outstanding).toEqual({
      decision_id: banner.body.decision_id,
      offer_key: "fading_points",
      kept: true,
      why: expect.stringContaining("it answers this ask"),
    });
    const save = await decide(id, "cancel_flow", {
      key: keys.admin,
      now: at(0.02),
      reason: "too_expensive",
      explain: true,
    });
    expect(save.body.outstanding).toEqual({
      decision_id: banner.body.decision_id,
      offer_key: "fading_points",
      kept: false,
      why: "superseded: fading_points is shown only in in_app, not in cancel_flow",
    });
    expect(
      save.body.trace.find((entry: { offer: string }) => entry.offer === "price_high_value"),
    ).toMatchObject({ outcome: "chosen" });
    // No offer held: nothing to say.
    const fresh = offeredIds("supersede-explain-none", 1)[0]!;
    await fadingHighValue(fresh);
    expect((await nextOffer(fresh, "in_app", at(0), true)).body.outstanding).toBeNull();
  });

  it("decides afresh for a reason the held offer does not answer, in the same context", async () => {
    const id = offeredIds("supersede-reason", 1)[0]!;
    await payingCustomer(keys.writer, id, { ltv: 60_000, mrr: 4_900 });
    const price = await decide(id, "cancel_flow", { key: keys.admin, reason: "too_expensive" });
    expect(price.body.offer.key).toBe("price_high_value");
    // The customer goes back and picks "hard to use": the expert session answers that reason.
    const session = await decide(id, "cancel_flow", {
      key: keys.admin,
      now: at(0.01),
      reason: "hard_to_use",
    });
    expect(session.body).toMatchObject({ reason_code: "offered", reused: false });
    expect(session.body.offer.key).toBe("hard_to_use_session");
    expect(await statusOf(price.body.decision_id)).toBe("superseded");
    // Going back to "too expensive": the superseded offer counted for no cap (price_high_value's cap
    // is one per 180 days), so it is offered again, superseding the session.
    const back = await decide(id, "cancel_flow", { key: keys.admin, now: at(0.02), reason: "too_expensive" });
    expect(back.body).toMatchObject({ reason_code: "offered", reused: false });
    expect(back.body.offer.key).toBe("price_high_value");
    expect(back.body.variant).toBe(price.body.variant);
  });

  it("keeps one winner when concurrent asks from a new moment race to supersede", async () => {
    const id = offeredIds("supersede-race", 1)[0]!;
    await fadingHighValue(id);
    const banner = await nextOffer(id, "in_app");
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        decide(id, "cancel_flow", { key: keys.admin, now: at(0.02), reason: "too_expensive" }),
      ),
    );
    const ids = new Set(answers.map((answer) => answer.body.decision_id));
    expect(ids.size).toBe(1);
    expect(answers.every((answer) => answer.body.offer.key === "price_high_value")).toBe(true);
    expect(answers.filter((answer) => answer.body.reused === false)).toHaveLength(1);
    expect(await statusOf(banner.body.decision_id)).toBe("superseded");
    expect(await storedDecisions(id, { offersOnly: true })).toBe(2);
  });

  it("decides an ask after the held offer was accepted as any ask, leaving the accepted one accepted", async () => {
    const id = offeredIds("supersede-answered", 1)[0]!;
    await fadingHighValue(id);
    const banner = await nextOffer(id, "in_app");
    expect((await respond(banner.body.decision_id, "accept", keys.admin, at(0.01))).status).toBe(200);
    // Accepted, the points are no longer outstanding: the cancel flow is decided as any ask.
    const flow = await decide(id, "cancel_flow", { key: keys.admin, now: at(0.02), reason: "too_expensive" });
    expect(await statusOf(banner.body.decision_id)).toBe("accepted");
    expect(flow.body.decision_id).not.toBe(banner.body.decision_id);
  });
});

/**
 * `db` that runs `between` once, just before the `nth` execution of a statement whose SQL `matches`
 * (or, with `matches` null, just before the first batch): a concurrent request at exactly that instant.
 */
function interleave(
  db: D1Database,
  between: () => Promise<void>,
  where: { matches: (sql: string) => boolean; nth: number } | null,
): D1Database {
  let fired = false;
  let seen = 0;
  const once = async () => {
    if (fired) return;
    fired = true;
    await between();
  };
  const wrap = (statement: D1PreparedStatement, hooked: boolean): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, name) {
        if (name === "bind") return (...values: unknown[]) => wrap(target.bind(...values), hooked);
        if (hooked && (name === "run" || name === "all" || name === "first" || name === "raw")) {
          return async (...args: unknown[]) => {
            await once();
            return (Reflect.get(target, name, target) as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return Reflect.get(target, name, target);
      },
    });
  return new Proxy(db, {
    get(target, property) {
      if (property === "prepare") {
        return (sql: string) => {
          const hooked = where ? where.matches(sql) && ++seen === where.nth : false;
          return wrap(target.prepare(sql), hooked);
        };
      }
      if (property === "batch" && where === null) {
        return async (statements: D1PreparedStatement[]) => {
          await once();
          return target.batch(statements);
        };
      }
      return Reflect.get(target, property, target);
    },
  });
}

describe("an ask from another moment, racing", () => {
  const ask = (customerId: string, now: number) =>
    ({ customerId, context: "cancel_flow", reason: "too_expensive", now }) as const;

  it("answers with the offer a concurrent ask stored between its two reads, never the superseded one", async () => {
    const id = offeredIds("supersede-between-reads", 1)[0]!;
    await fadingHighValue(id);
    const banner = await nextOffer(id, "in_app");
    let fast: Awaited<ReturnType<typeof decideAndRecord>> | null = null;
    const slowDb = interleave(
      env.DB,
      async () => {
        fast = await decideAndRecord(env, ask(id, T0 + 1_000), deployedRuleset());
      },
      { matches: (sql) => sql.includes("AS _outstanding"), nth: 2 },
    );
    const slow = await decideAndRecord({ ...env, DB: slowDb }, ask(id, T0 + 2_000), deployedRuleset());
    expect(fast!.outcome).toBe("created");
    expect(fast!.decision.offer?.key).toBe("price_high_value");
    expect(slow.outcome).toBe("outstanding");
    expect(slow.decision.id).toBe(fast!.decision.id);
    expect(slow.held).toMatchObject({ decisionId: banner.body.decision_id, kept: false });
    expect(await statusOf(banner.body.decision_id)).toBe("superseded");
    expect(await statusOf(fast!.decision.id)).toBe("outstanding");
    expect(await storedDecisions(id, { offersOnly: true })).toBe(2);
  });

  it("stores no offer when the held one is accepted between its read and its write, and answers with it", async () => {
    const id = offeredIds("supersede-accepted-midway", 1)[0]!;
    await fadingHighValue(id);
    const banner = await nextOffer(id, "in_app");
    const slowDb = interleave(
      env.DB,
      async () => {
        expect((await respond(banner.body.decision_id, "accept", keys.admin, at(0.01))).status).toBe(200);
      },
      null,
    );
    const slow = await decideAndRecord({ ...env, DB: slowDb }, ask(id, T0 + 60_000), deployedRuleset());
    expect(slow.outcome).toBe("outstanding");
    expect(slow.decision).toMatchObject({ id: banner.body.decision_id, status: "accepted" });
    expect(slow.held).toMatchObject({ decisionId: banner.body.decision_id, kept: true });
    expect(await statusOf(banner.body.decision_id)).toBe("accepted");
    expect(await storedDecisions(id, { offersOnly: true })).toBe(1);
  });
});

describe("an ask from another context and a lesser offer", () => {
  // A save offer shown only in the cancel flow, and a nudge shown only in the app.
  const check = checkRuleset([
    {
      path: "rules/moments.yaml",
      text: `
settings: { currency: USD, default_timezone: UTC }
reasons: { too_expensive: Price }
rewards:
  twenty: { amount_off: $20, expires_after: 14d }
  points: { bonus_points: 500, expires_after: 60d }
messages:
  m: { body: "{{ offer_amount }}" }
offers:
  - { key: save, priority: 100, contexts: [cancel_flow], reasons: [too_expensive], reward: twenty, message: m }
  - { key: nudge, priority: 10, contexts: [in_app], reward: points, message: m }
`,
    },
  ]);
  const rules = () => loadRuleset(JSON.parse(JSON.stringify(check.ruleset)));

  it("keeps the cancel flow's save offer when the app's banner polls, writing nothing", async () => {
    expect(check.diagnostics).toEqual([]);
    const ruleset = rules();
    const id = "moments-banner-after-save";
    await payingCustomer(keys.writer, id);
    const save = await decideAndRecord(
      env,
      { customerId: id, context: "cancel_flow", reason: "too_expensive", now: T0 },
      ruleset,
    );
    expect(save.decision.offer?.key).toBe("save");
    for (const minutes of [1, 2, 3]) {
      const banner = await decideAndRecord(
        env,
        { customerId: id, context: "in_app", now: T0 + minutes * 60_000 },
        ruleset,
      );
      expect(banner).toMatchObject({ outcome: "outstanding", rowsWritten: 0 });
      expect(banner.decision.id).toBe(save.decision.id);
      expect(banner.held?.kept).toBe(true);
      expect(banner.held?.why).toContain(
        "save (priority 100, offered in cancel_flow) outranks nudge (priority 10)",
      );
    }
    expect(await statusOf(save.decision.id)).toBe("outstanding");
    expect(await storedDecisions(id)).toBe(1);
  });

  it("lets the cancel flow's save offer supersede the app's nudge, which it outranks", async () => {
    const ruleset = rules();
    const id = "moments-save-after-banner";
    await payingCustomer(keys.writer, id);
    const nudge = await decideAndRecord(env, { customerId: id, context: "in_app", now: T0 }, ruleset);
    expect(nudge.decision.offer?.key).toBe("nudge");
    const save = await decideAndRecord(
      env,
      { customerId: id, context: "cancel_flow", reason: "too_expensive", now: T0 + 60_000 },
      ruleset,
    );
    expect(save).toMatchObject({ outcome: "created", held: { decisionId: nudge.decision.id, kept: false } });
    expect(save.decision.offer?.key).toBe("save");
    expect(await statusOf(nudge.decision.id)).toBe("superseded");
  });
});
