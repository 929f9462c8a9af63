// The tick's D1 query budget is counted where statements are issued: the queries and rows read a
// tick reports are exactly what reached D1 (counted here by a second, independent wrapper around the
// database), and a budget small enough to run out pauses a run that the next tick resumes, sending
// every message once.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { inHoldout } from "../../dsl/runtime/bucket";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import type { Env } from "../../worker/env";
import { runTick } from "../../worker/tick/run-tick";
import { at, DAY, events, HOUR, isoOf, MINUTE, resetTick, subscriber } from "./tick-fixtures";

/** Tuesday 2031-03-04 10:00 in New York: an occurrence of spring_winback; its step 1 carries an offer. */
const OCCURRENCE = at("2031-03-04T15:00:00Z");
const OCCURRENCE_KEY = "2031-03-04T15:00:00.000Z";
const FOLLOW_UP = OCCURRENCE + 5 * DAY;

beforeEach(resetTick);
afterEach(() => vi.restoreAllMocks());

/** Canceled customers in spring_winback's audience (ids `prefix000`, …). */
async function winbackAudience(count: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(3, "0")}`);
  const since = OCCURRENCE - 365 * DAY;
  await events(
    ...ids.flatMap(
      (id, i): Parameters<typeof events> => [
        ["customer.updated", id, since, { email: `${id}@example.com`, first_name: "Sam" }],
        ["subscription.started", id, since, { plan: "pro", mrr: 4900, currency: "USD" }],
        [
          "subscription.canceled",
          id,
          // 38-52 days before: no win-back step (days 7, 30, 60) falls due around these ticks.
          OCCURRENCE - (38 + (i % 15)) * DAY,
          { reason: i % 2 === 0 ? "too_expensive" : "unused" },
        ],
      ],
    ),
  );
  return ids;
}

/**
 * `db` behind a plain counting Proxy: each run, all, first or raw is one statement, a batch one per
 * statement in it, and rows read are summed from the meta D1 returns.
 */
function countingProxy(db: D1Database) {
  const seen = { queries: 0, rowsRead: 0 };
  const platform = new WeakMap<object, D1PreparedStatement>();
  const rows = (result: { meta?: { rows_read?: number } }) => {
    seen.rowsRead += result.meta?.rows_read ?? 0;
  };
  const statement = (inner: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(inner, {
      get(target, key) {
        if (key === "bind") return (...values: unknown[]) => statement(target.bind(...values));
        if (key === "all" || key === "run") {
          return async () => {
            seen.queries += 1;
            const result = await target[key]();
            rows(result);
            return result;
          };
        }
        if (key === "first" || key === "raw") {
          return (...args: never[]) => {
            seen.queries += 1;
            return (target[key] as (...a: never[]) => Promise<unknown>)(...args);
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    platform.set(proxy, inner);
    return proxy;
  };
  const proxy = new Proxy(db, {
    get(target, key) {
      if (key === "prepare") return (sql: string) => statement(target.prepare(sql));
      if (key === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          seen.queries += statements.length;
          const results = await target.batch(statements.map((s) => platform.get(s) ?? s));
          for (const result of results) rows(result);
          return results;
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: proxy, seen };
}

async function campaignSends(step: string) {
  const { results } = await env.DB.prepare(
    `SELECT customer_id, variables FROM sends
     WHERE programme_kind = 'campaign' AND programme_key = 'spring_winback' AND occurrence = ? AND step = ?
     ORDER BY customer_id`,
  )
    .bind(OCCURRENCE_KEY, step)
    .all<{ customer_id: string; variables: string }>();
  return results;
}

describe("the tick's query count", () => {
  it("is exactly what reached D1: a campaign step with offers, dunning and sends, in report and log", async () => {
    await winbackAudience(12, "cus_q");
    await runTick(env, OCCURRENCE + MINUTE, { ruleset: deployedRuleset() });
    const first = await campaignSends("0");
    expect(first.length).toBeGreaterThan(0);
    // A failed payment just before the follow-up: the same tick opens its case and sends day 0.
    await subscriber("cus_q_dun", OCCURRENCE - 90 * DAY);
    await events([
      "payment.failed",
      "cus_q_dun",
      FOLLOW_UP - HOUR,
      { invoice_id: "inv_q", amount: 4900, currency: "USD", update_url: "https://pay.example/u" },
    ]);

    const log = vi.spyOn(console, "log");
    const counted = countingProxy(env.DB);
    const bindings: Env = { ...env, DB: counted.db };
    const report = await runTick(bindings, FOLLOW_UP + MINUTE, { ruleset: deployedRuleset() });

    // The tick did what the count is meant to cover: offer decisions, a dunning case, sends.
    expect(report.errors).toEqual([]);
    expect(report.campaigns.find((run) => run.step === "1")).toMatchObject({
      status: "done",
      sent: first.length,
    });
    expect(report.dunning).toMatchObject({ opened: 1, sent: 1 });
    const decisions = await env.DB.prepare(
      "SELECT count(*) AS n FROM decisions WHERE source = 'campaign'",
    ).first<{ n: number }>();
    expect(decisions?.n).toBe(first.length);

    expect(counted.seen.queries).toBeGreaterThan(3 * first.length);
    expect(counted.seen.rowsRead).toBeGreaterThan(0);
    expect(report.queries).toBe(counted.seen.queries);
    expect(report.rows_read).toBe(counted.seen.rowsRead);

    const done = log.mock.calls
      .map(([line]) => (typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : null))
      .find((entry) => entry?.event === "tick.done" && entry.at === isoOf(FOLLOW_UP + MINUTE));
    expect(done).toMatchObject({ queries: counted.seen.queries, rowsRead: counted.seen.rowsRead });
  });
});

describe("a query budget that runs out", () => {
  it("pauses an offer step part-way within the budget, and the next tick sends the rest, each once", async () => {
    const ids = await winbackAudience(24, "cus_b");
    await runTick(env, OCCURRENCE + MINUTE, { ruleset: deployedRuleset() });
    const first = (await campaignSends("0")).map((send) => send.customer_id);
    const expected = ids.filter((id) => !inHoldout("spring_winback_copy", id, 10));
    expect(first).toEqual(expected);

    const budget = 70;
    const partial = await runTick(env, FOLLOW_UP + MINUTE, {
      ruleset: deployedRuleset(),
      queryBudget: budget,
      audiencePageSize: 8,
    });
    expect(partial.campaigns.find((run) => run.step === "1")).toMatchObject({ status: "paused" });
    expect(partial.queries).toBeLessThanOrEqual(budget);
    expect(partial.clean).toBe(false);
    const sentSoFar = (await campaignSends("1")).length;
    expect(sentSoFar).toBeGreaterThan(0);
    expect(sentSoFar).toBeLessThan(expected.length);

    const rest = await runTick(env, FOLLOW_UP + 2 * MINUTE, {
      ruleset: deployedRuleset(),
      audiencePageSize: 8,
    });
    expect(rest.campaigns.find((run) => run.step === "1")).toMatchObject({ status: "done", resumed: true });
    const follow = await campaignSends("1");
    expect(follow.map((send) => send.customer_id)).toEqual(expected);
    // One decision per customer: the paused tick's customers were not decided again.
    const { results } = await env.DB.prepare(
      "SELECT customer_id, count(*) AS n FROM decisions WHERE source = 'campaign' GROUP BY customer_id ORDER BY customer_id",
    ).all<{ customer_id: string; n: number }>();
    expect(results).toEqual(expected.map((id) => ({ customer_id: id, n: 1 })));
    for (const send of follow) {
      expect((JSON.parse(send.variables) as { decision_id?: string }).decision_id).toMatch(/^dec_/);
    }
  });
});
