// Customers who were there before the metrics, and customers who leave on request: in both cases the
// stock of paying customers in `metric_days` must equal the `customers` table.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { LEGACY_CURSOR_KEY } from "../../worker/tick/legacy-profiles";
import { call, event, ingest, issueKey } from "./helpers";
import { at, tick } from "./tick-fixtures";

async function clear(): Promise<void> {
  await env.DB.batch(
    ["events", "customers", "event_days", "metric_days", "dunning_cases", "sends", "tick_state"].map(
      (table) => env.DB.prepare(`DELETE FROM ${table}`),
    ),
  );
}

/**
 * What a database upgraded to migration 0008 looks like: every profile state at version 1 (no
 * timeline, nothing counted), no metric rows, and the walk's cursor the migration sets when there
 * are customers. `nullState` customers are older still (no state at all, before 0007).
 */
async function asBeforeMetrics(nullState: readonly string[] = []): Promise<void> {
  const { results } = await env.DB.prepare("SELECT id, profile_state FROM customers").all<{
    id: string;
    profile_state: string;
  }>();
  for (const row of results) {
    const state = JSON.parse(row.profile_state) as Record<string, unknown>;
    state.v = 1;
    delete state.timeline;
    delete state.counted;
    await env.DB.prepare("UPDATE customers SET profile_state = ?2 WHERE id = ?1")
      .bind(row.id, nullState.includes(row.id) ? null : JSON.stringify(state))
      .run();
  }
  await env.DB.batch([
    env.DB.prepare("DELETE FROM metric_days"),
    env.DB.prepare("INSERT INTO tick_state (key, value, updated_at) VALUES (?1, 0, 0)").bind(
      LEGACY_CURSOR_KEY,
    ),
  ]);
}

/** Paying customers and their MRR per currency, from `customers` and from the stock, side by side. */
async function payingAndStock() {
  const paying = await env.DB.prepare(
    `SELECT currency, count(*) AS customers, sum(mrr) AS mrr FROM customers
     WHERE status IN ('active', 'past_due') GROUP BY currency ORDER BY currency`,
  ).all();
  const stock = await env.DB.prepare(
    `SELECT currency, sum(count) AS customers, sum(amount) AS mrr FROM metric_days
     WHERE metric = 'customers.active' AND grain = 'y' GROUP BY currency
     HAVING sum(count) <> 0 OR sum(amount) <> 0 ORDER BY currency`,
  ).all();
  return { paying: paying.results, stock: stock.results };
}

let writer: string;
let admin: string;
beforeEach(async () => {
  await clear();
  writer = await issueKey(["events:write"]);
  admin = await issueKey(["admin"]);
});

describe("profiles from before the metrics", () => {
  it("the tick walks every customer once and counts those with no new event", async () => {
    await ingest(writer, [
      event("subscription.started", "old-quiet", "2026-01-05T16:00:00Z", {
        plan: "pro",
        mrr: 4900,
        currency: "USD",
      }),
      event("subscription.started", "old-gone", "2026-01-06T16:00:00Z", {
        plan: "starter",
        mrr: 1900,
        currency: "USD",
      }),
      event("subscription.canceled", "old-gone", "2026-02-06T16:00:00Z", { reason: "unused" }),
      event("subscription.started", "older", "2025-11-01T16:00:00Z", {
        plan: "business",
        mrr: 14900,
        currency: "EUR",
      }),
    ]);
    await asBeforeMetrics(["older"]);
    expect((await payingAndStock()).stock).toEqual([]);

    const report = await tick(at("2026-03-01T15:00:00Z"));
    expect(report.legacy_profiles_upgraded).toBe(3);
    const { paying, stock } = await payingAndStock();
    expect(paying).toEqual([
      { currency: "EUR", customers: 1, mrr: 14900 },
      { currency: "USD", customers: 1, mrr: 4900 },
    ]);
    expect(stock).toEqual(paying);
    // The movements landed on the days they happened, not on the day of the walk.
    const retention = await call("/v1/metrics/retention?from=2026-01-01&to=2026-02-28&currency=USD", {
      key: admin,
    });
    expect(retention.body.total.customers).toMatchObject({ start: 0, end: 1, new: 2, lost: 1 });
    // The walk is over: its cursor is gone, and the next tick upgrades nothing.
    const cursor = await env.DB.prepare("SELECT 1 FROM tick_state WHERE key = ?1")
      .bind(LEGACY_CURSOR_KEY)
      .first();
    expect(cursor).toBeNull();
    expect((await tick(at("2026-03-01T16:00:00Z"))).legacy_profiles_upgraded).toBe(0);
    expect((await payingAndStock()).stock).toEqual(paying);
  });

  it("a timeline rebuilt from the daily history ends where the profile stands, same-day changes included", async () => {
    await ingest(writer, [
      event("subscription.started", "old-sync", "2026-01-05T16:00:00Z", {
        plan: "pro",
        mrr: 4900,
        currency: "USD",
      }),
      // Two updates on one UTC day: the daily history keeps only the later one (which has no MRR).
      event("customer.updated", "old-sync", "2026-02-01T10:00:00Z", { mrr: 9900, currency: "USD" }),
      event("customer.updated", "old-sync", "2026-02-01T11:00:00Z", { plan: "business", currency: "USD" }),
    ]);
    await asBeforeMetrics();
    await ingest(writer, [
      event("payment.succeeded", "old-sync", "2026-03-01T16:00:00Z", {
        invoice_id: "in_1",
        amount: 9900,
        currency: "USD",
      }),
    ]);
    const { paying, stock } = await payingAndStock();
    expect(paying).toEqual([{ currency: "USD", customers: 1, mrr: 9900 }]);
    expect(stock).toEqual(paying);
  });
});

describe("erasure", () => {
  it("takes the customer's movements back, and closes their open dunning case in the open stock", async () => {
    await ingest(writer, [
      event("subscription.started", "er-1", "2026-03-02T16:00:00Z", {
        plan: "pro",
        mrr: 4900,
        currency: "USD",
      }),
      event("subscription.started", "er-2", "2026-03-02T16:00:00Z", {
        plan: "starter",
        mrr: 1900,
        currency: "USD",
      }),
    ]);
    await ingest(writer, [
      event("payment.failed", "er-1", "2026-03-10T16:00:00Z", {
        invoice_id: "in_er",
        amount: 4900,
        currency: "USD",
        decline_code: "insufficient_funds",
      }),
    ]);
    await tick(at("2026-03-10T17:00:00Z"));
    const openStock = () =>
      env.DB.prepare(
        "SELECT coalesce(sum(count), 0) AS cases FROM metric_days WHERE metric = 'dunning.open' AND grain = 'y'",
      ).first<{ cases: number }>();
    expect(await openStock()).toEqual({ cases: 1 });

    const erased = await call("/v1/admin/customers/er-1/erase", { method: "POST", key: admin });
    expect(erased.status).toBe(200);
    const { paying, stock } = await payingAndStock();
    expect(paying).toEqual([{ currency: "USD", customers: 1, mrr: 1900 }]);
    expect(stock).toEqual(paying);
    expect(await openStock()).toEqual({ cases: 0 });
    // March's report no longer shows the erased customer coming in: movements still add up.
    const retention = await call("/v1/metrics/retention?from=2026-03-01&to=2026-03-31&currency=USD", {
      key: admin,
    });
    expect(retention.body.total.customers).toMatchObject({ start: 0, end: 1, new: 1 });
    expect(retention.body.total.mrr).toMatchObject({ start: 0, end: 1900, new: 1900 });
    // Erasing again changes nothing.
    expect((await call("/v1/admin/customers/er-1/erase", { method: "POST", key: admin })).status).toBe(200);
    expect((await payingAndStock()).stock).toEqual(paying);
  });
});
