// The shipped rules' segments and campaign audiences select exactly the same customers in D1 (the
// compiled SQL, as the campaign runner runs it) as the closures do one customer at a time, missing
// values and foreign currencies included.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bindSql } from "../../dsl/expr/sql";
import type { EvalContext, EventRecord, SqlFragment } from "../../dsl/expr/types";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import generated from "../../worker/generated/ruleset.json";

const DAY = 86_400_000;
const NOW = Date.parse("2026-03-03T15:00:00Z");
const ruleset = loadRuleset(generated as unknown as RulesetIR);

/** A small deterministic generator so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function maybe<T>(next: () => number, value: T): T | null {
  return next() < 0.25 ? null : value;
}

interface Customer {
  row: Record<string, string | number | null>;
  events: EventRecord[];
}

function customers(count: number): Customer[] {
  const next = random(42);
  const reasons = [...ruleset.reasons.keys(), null];
  const out: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const status = pick(next, ["lead", "active", "past_due", "canceled"] as const);
    const canceled = status === "canceled";
    const row: Record<string, string | number | null> = {
      id: `cus_${i}`,
      status,
      plan: pick(next, ["starter", "pro", "business", null]),
      currency: pick(next, ["USD", "USD", "USD", "EUR", null]),
      mrr: maybe(next, Math.floor(next() * 20_000)),
      ltv: Math.floor(next() * 150_000),
      aov: maybe(next, Math.floor(next() * 30_000)),
      referrals: Math.floor(next() * 3),
      nps: maybe(next, Math.floor(next() * 11)),
      open_tickets: Math.floor(next() * 3),
      last_ticket_satisfied: pick(next, [0, 1, null]),
      canceled_at: canceled
        ? maybe(next, NOW - Math.floor(next() * 300) * DAY - Math.floor(next() * DAY))
        : null,
      churn_reason: canceled ? pick(next, reasons) : null,
      signed_up_at: maybe(next, NOW - Math.floor(next() * 900) * DAY),
      last_active_at: maybe(next, NOW - Math.floor(next() * 60) * DAY),
      payment_failed_at: status === "past_due" ? NOW - Math.floor(next() * 40) * DAY : null,
      first_seen_at: NOW - 1000 * DAY,
      last_event_at: NOW - DAY,
    };
    const events: EventRecord[] = [];
    const activity = Math.floor(next() * 16);
    for (let e = 0; e < activity; e++) {
      events.push({
        id: `evt_${i}_${e}`,
        type: "activity",
        occurred_at: NOW - Math.floor(next() * 40 * DAY),
        properties: {},
      });
    }
    out.push({ row, events });
  }
  return out;
}

const population = customers(400);

async function load(): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (const { row, events } of population) {
    const columns = Object.keys(row);
    statements.push(
      env.DB.prepare(
        `INSERT INTO customers (${columns.join(", ")}, attributes) VALUES (${columns.map(() => "?").join(", ")}, '{}')`,
      ).bind(...columns.map((c) => row[c] ?? null)),
    );
    for (const event of events) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO events (id, customer_id, type, occurred_at, received_at, properties) VALUES (?, ?, ?, ?, ?, '{}')",
        ).bind(event.id, row.id, event.type, event.occurred_at, event.occurred_at),
      );
    }
  }
  for (let i = 0; i < statements.length; i += 200) await env.DB.batch(statements.slice(i, i + 200));
}

async function selectIds(fragment: SqlFragment): Promise<string[]> {
  const result = await env.DB.prepare(`SELECT c.id FROM customers c WHERE ${fragment.sql} ORDER BY c.id`)
    .bind(...bindSql(fragment, NOW))
    .all<{ id: string }>();
  return result.results.map((r) => r.id);
}

function contexts(): { id: string; ctx: EvalContext }[] {
  return population.map(({ row, events }) => ({
    id: String(row.id),
    ctx: {
      now: NOW,
      customer: { ltv: 0, order_count: 0, order_total: 0, ...row, attributes: {} },
      events,
    },
  }));
}

describe("the rule pack's SQL agrees with its closures on real D1", () => {
  it("for every segment and every campaign audience", async () => {
    await load();
    const all = contexts();
    let compared = 0;
    let nonEmpty = 0;
    for (const segment of ruleset.segments.values()) {
      if (!segment.sql) continue;
      const expected = all
        .filter(({ ctx }) => segment.when.test(ctx))
        .map(({ id }) => id)
        .sort();
      if (expected.length > 0 && expected.length < all.length) nonEmpty++;
      expect(await selectIds(segment.sql), `segment ${segment.key}`).toEqual(expected);
      compared++;
    }
    for (const campaign of ruleset.campaigns.values()) {
      const expected = all
        .filter(({ ctx }) => campaign.audience.test(ctx))
        .map(({ id }) => id)
        .sort();
      expect(expected.length, `campaign ${campaign.key} selects someone`).toBeGreaterThan(0);
      expect(await selectIds(campaign.audienceSql), `campaign ${campaign.key}`).toEqual(expected);
      compared++;
    }
    expect(compared).toBe(ruleset.segments.size + ruleset.campaigns.size);
    // The population must split every segment, or agreement would prove little.
    expect(nonEmpty).toBe(ruleset.segments.size);
  });
});
