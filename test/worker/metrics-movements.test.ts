// MRR movements counted at ingest (worker/ingest/movements.ts → metric_days): a hand-computed
// example, then random histories in random orders and batches, checked three ways: the stock equals
// the paying customers in `customers`, the incremental aggregate equals one recomputed from the
// final timelines, and two arrival orders give the same aggregate.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { movementDeltas, movementsOf, type TimelineEntry } from "../../worker/ingest/movements";
import { writeEvents } from "../../worker/ingest/write-events";
import { dayIso, localDay, monthOfDay, reportingZone, yearOfDay } from "../../worker/metrics/days";
import { prng } from "../prng";
import { event, ingest, issueKey } from "./helpers";

let writer: string;
beforeAll(async () => {
  writer = await issueKey(["events:write"]);
});

interface Row {
  metric: string;
  grain: string;
  period: number;
  currency: string;
  k1: string;
  k2: string;
  k3: string;
  k4: string;
  count: number;
  amount: number;
}

async function metricRows(where = "1 = 1"): Promise<Row[]> {
  const { results } = await env.DB.prepare(
    `SELECT * FROM metric_days WHERE ${where} ORDER BY metric, grain, period, currency, k1, k2, k3, k4`,
  ).all<Row>();
  return results;
}

/** Day rows of the movement metrics as `metric day currency k1 k2 k3 k4 = count/amount` lines. */
async function movementLines(): Promise<string[]> {
  const rows = await metricRows("metric LIKE 'mrr.%' AND count <> 0");
  return rows.map(
    (r) =>
      `${r.metric} ${dayIso(r.period)} ${r.currency} ${[r.k1, r.k2, r.k3, r.k4].join("|")} = ${r.count}/${r.amount}`,
  );
}

async function clear(): Promise<void> {
  await env.DB.batch(
    ["events", "customers", "event_days", "metric_days"].map((table) =>
      env.DB.prepare(`DELETE FROM ${table}`),
    ),
  );
}

describe("MRR movements, by hand", () => {
  it("counts new, expansion, contraction, churn by kind and tenure, and reactivation on their local days", async () => {
    await clear();
    const noon = (date: string) => `${date}T16:00:00Z`; // 11:00 or 12:00 in New York: the same date
    await ingest(writer, [
      // c1: new pro 49.00, upgraded to business (+100.00), leaves over price after 44 days.
      event("subscription.started", "m-c1", noon("2026-03-02"), { plan: "pro", mrr: 4900, currency: "USD" }),
      event("subscription.changed", "m-c1", noon("2026-03-10"), { plan: "business", mrr: 14900 }),
      event("subscription.canceled", "m-c1", noon("2026-04-15"), { reason: "too_expensive" }),
      // c2: new starter 19.00, downgraded to 15.00 (−4.00), dunning cancels it on day 20.
      event("subscription.started", "m-c2", noon("2026-03-05"), {
        plan: "starter",
        mrr: 1900,
        currency: "USD",
      }),
      event("subscription.changed", "m-c2", noon("2026-03-20"), { plan: "starter", mrr: 1500 }),
      // c3: new, leaves, comes back: the second start is a reactivation, not new.
      event("subscription.started", "m-c3", noon("2026-03-01"), { plan: "pro", mrr: 4900, currency: "USD" }),
      event("subscription.canceled", "m-c3", noon("2026-03-10"), { reason: "unused" }),
      event("subscription.reactivated", "m-c3", noon("2026-04-01"), { plan: "pro", mrr: 4900 }),
    ]);
    // c2's cancellation comes from dunning's final action, which writes through ingest with the
    // reason apps cannot send (worker/tick/dunning.ts).
    const canceledAt = Date.parse(noon("2026-03-25"));
    await writeEvents(
      env.DB,
      [
        {
          id: "rebound:dunning:m-c2:inv_1:cancel",
          customer_id: "m-c2",
          type: "subscription.canceled",
          occurred_at: canceledAt,
          properties: JSON.stringify({ invoice_id: "inv_1", reason: "payment_failed" }),
        },
      ],
      canceledAt,
      deployedRuleset(),
    );
    // c4: the cancellation arrives before the start it ends (out of order): first nothing moves
    // (a lead who cancels), then the late start makes it new on 03-01 and lost on 03-15.
    await ingest(writer, [
      event("subscription.canceled", "m-c4", noon("2026-03-15"), { reason: "hard_to_use" }),
    ]);
    const euro = async () => (await movementLines()).filter((line) => line.includes(" EUR "));
    expect(await euro()).toEqual([]);
    await ingest(writer, [
      event("subscription.started", "m-c4", noon("2026-03-01"), {
        plan: "starter",
        mrr: 1900,
        currency: "EUR",
      }),
    ]);
    expect(await movementLines()).toEqual([
      "mrr.churn 2026-03-10 USD pro|unused|voluntary|0-30d = 1/4900",
      "mrr.churn 2026-03-15 EUR starter|hard_to_use|voluntary|0-30d = 1/1900",
      "mrr.churn 2026-03-25 USD starter|payment_failed|involuntary|0-30d = 1/1500",
      "mrr.churn 2026-04-15 USD business|too_expensive|voluntary|31-90d = 1/14900",
      // Each churn again, keyed by the day number its paying spell began (days since 1970-01-01).
      "mrr.churn_spell 2026-03-10 USD 20513||| = 1/4900", // c3, paying since 2026-03-01
      "mrr.churn_spell 2026-03-15 EUR 20513||| = 1/1900", // c4, paying since 2026-03-01
      "mrr.churn_spell 2026-03-25 USD 20517||| = 1/1500", // c2, paying since 2026-03-05
      "mrr.churn_spell 2026-04-15 USD 20514||| = 1/14900", // c1, paying since 2026-03-02
      "mrr.contraction 2026-03-20 USD starter||| = 1/400",
      "mrr.expansion 2026-03-10 USD business||| = 1/10000",
      "mrr.new 2026-03-01 EUR starter||| = 1/1900",
      "mrr.new 2026-03-01 USD pro||| = 1/4900",
      "mrr.new 2026-03-02 USD pro||| = 1/4900",
      "mrr.new 2026-03-05 USD starter||| = 1/1900",
      "mrr.reactivation 2026-04-01 USD pro||| = 1/4900",
    ]);
    // The stock: one paying customer (c3, 49.00 USD), none in EUR (c4 came and went), at every grain.
    for (const grain of ["d", "m", "y"]) {
      const stock = await env.DB.prepare(
        "SELECT currency, sum(count) AS customers, sum(amount) AS mrr FROM metric_days WHERE metric = 'customers.active' AND grain = ?1 GROUP BY currency HAVING sum(count) <> 0 OR sum(amount) <> 0 ORDER BY currency",
      )
        .bind(grain)
        .all();
      expect(stock.results).toEqual([{ currency: "USD", customers: 1, mrr: 4900 }]);
    }
    // A resent event changes nothing.
    const before = await metricRows();
    await ingest(writer, [
      event("subscription.started", "m-c4", noon("2026-03-01"), {
        plan: "starter",
        mrr: 1900,
        currency: "EUR",
      }),
    ]);
    expect(await metricRows()).toEqual(before);
  });

  it("counts a movement on the local date of the reporting zone, not the UTC date", async () => {
    await clear();
    // 02:00 UTC on 2 March is still 1 March in New York (the shipped rules' reporting zone).
    await ingest(writer, [
      event("subscription.started", "m-tz", "2026-03-02T02:00:00Z", {
        plan: "pro",
        mrr: 4900,
        currency: "USD",
      }),
    ]);
    expect(deployedRuleset().metricsTimezone).toBe("America/New_York");
    expect(await movementLines()).toEqual(["mrr.new 2026-03-01 USD pro||| = 1/4900"]);
  });
});

const PLANS = [
  ["starter", 1900],
  ["pro", 4900],
  ["business", 14900],
] as const;
const REASONS = ["too_expensive", "unused", "shutting_down", "missing_features"];

/** A random subscription history: starts, changes, cancellations, reactivations, profile updates. */
function randomHistory(random: () => number, customer: string, salt: string) {
  const events = [];
  let at = Date.UTC(2025, 0, 1) + Math.floor(random() * 400) * 86_400_000;
  const steps = 1 + Math.floor(random() * 8);
  for (let i = 0; i < steps; i++) {
    at += Math.floor(random() * 90 * 86_400_000);
    // Same-instant ties now and then: the walk must break them by id, like the profile.
    if (random() < 0.15) at -= at % 86_400_000;
    const [plan, mrr] = PLANS[Math.floor(random() * PLANS.length)]!;
    const currency = random() < 0.7 ? "USD" : "EUR";
    const roll = random();
    const when = new Date(at).toISOString();
    const id = `${customer}-${salt}-${i}`;
    if (roll < 0.3) {
      events.push(event("subscription.started", customer, when, { plan, mrr, currency }, id));
    } else if (roll < 0.5) {
      events.push(
        event(
          "subscription.changed",
          customer,
          when,
          { plan, mrr: mrr + Math.floor(random() * 3) * 100 },
          id,
        ),
      );
    } else if (roll < 0.7) {
      const reason = REASONS[Math.floor(random() * REASONS.length)];
      events.push(event("subscription.canceled", customer, when, { reason }, id));
    } else if (roll < 0.85) {
      events.push(event("subscription.reactivated", customer, when, { plan, mrr }, id));
    } else {
      const properties = random() < 0.5 ? { mrr: mrr - 100, currency } : { currency, plan };
      events.push(event("customer.updated", customer, when, properties, id));
    }
  }
  return events;
}

function shuffle<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function ingestInBatches(random: () => number, events: readonly unknown[]): Promise<void> {
  let index = 0;
  while (index < events.length) {
    const size = 1 + Math.floor(random() * 12);
    await ingest(writer, events.slice(index, index + size));
    index += size;
  }
}

describe("MRR movements on random histories", () => {
  for (const seed of [7, 1234, 99_001]) {
    it(`seed ${seed}: stock = paying customers, incremental = recomputed, any order = same`, async () => {
      const random = prng(seed);
      const events = [];
      for (let c = 0; c < 30; c++) events.push(...randomHistory(random, `r${seed}-${c}`, String(seed)));

      await clear();
      await ingestInBatches(random, shuffle(random, events));
      const first = await metricRows();

      // 1. The stock at every grain is what `customers` says is paying now, per currency.
      const paying = await env.DB.prepare(
        `SELECT coalesce(currency, '') AS currency, count(*) AS customers, sum(coalesce(mrr, 0)) AS mrr FROM customers
         WHERE status IN ('active', 'past_due') GROUP BY 1 HAVING count(*) > 0 ORDER BY 1`,
      ).all<{ currency: string; customers: number; mrr: number }>();
      for (const grain of ["d", "m", "y"]) {
        const stock = await env.DB.prepare(
          `SELECT currency, sum(count) AS customers, sum(amount) AS mrr FROM metric_days
           WHERE metric = 'customers.active' AND grain = ?1 GROUP BY currency HAVING sum(count) <> 0 OR sum(amount) <> 0 ORDER BY currency`,
        )
          .bind(grain)
          .all();
        expect(stock.results, `grain ${grain}`).toEqual(paying.results);
      }

      // 2. What ingest added up, delta by delta, equals the movements of the final timelines.
      const states = await env.DB.prepare("SELECT profile_state, timezone, currency FROM customers").all<{
        profile_state: string;
        timezone: string | null;
        currency: string | null;
      }>();
      const recomputed = new Map<string, Row>();
      for (const row of states.results) {
        const state = JSON.parse(row.profile_state) as { timeline: TimelineEntry[] };
        const zone = reportingZone(deployedRuleset(), row.timezone);
        const moves = movementsOf(state.timeline, row.currency ?? "", (at) => localDay(at, zone));
        for (const delta of movementDeltas([], moves, monthOfDay, yearOfDay)) {
          const key = JSON.stringify([
            delta.metric,
            delta.grain,
            delta.period,
            delta.currency,
            delta.k1,
            delta.k2,
            delta.k3,
            delta.k4,
          ]);
          const sum = recomputed.get(key) ?? { ...delta, count: 0, amount: 0 };
          sum.count += delta.count;
          sum.amount += delta.amount;
          recomputed.set(key, sum);
        }
      }
      const nonZero = (rows: Iterable<Row>) =>
        [...rows]
          .filter((r) => r.count !== 0 || r.amount !== 0)
          .map((r) =>
            JSON.stringify([
              r.metric,
              r.grain,
              r.period,
              r.currency,
              r.k1,
              r.k2,
              r.k3,
              r.k4,
              r.count,
              r.amount,
            ]),
          )
          .sort();
      expect(nonZero(first)).toEqual(nonZero(recomputed.values()));

      // 3. Another arrival order and batching gives the same aggregate.
      await clear();
      await ingestInBatches(random, shuffle(random, events));
      expect(nonZero(await metricRows())).toEqual(nonZero(first));
    });
  }
});

describe("a long timeline", () => {
  it("sheds the entries before the archive seal into a checkpoint and counts the same as without", async () => {
    const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000 + 16 * 3_600_000).toISOString();
    const history = [
      event(
        "subscription.started",
        "long-1",
        day(0),
        { plan: "starter", mrr: 1900, currency: "USD" },
        "long-start",
      ),
      // A nightly sync that repeats the plan and currency: 60 entries that move nothing.
      ...Array.from({ length: 60 }, (_, n) =>
        event(
          "customer.updated",
          "long-1",
          day(n + 1),
          { plan: n < 30 ? "starter" : "pro", currency: "USD" },
          `long-sync-${n}`,
        ),
      ),
      event("subscription.changed", "long-1", day(31), { plan: "pro", mrr: 4900 }, "long-up"),
      event("subscription.canceled", "long-1", day(45), { reason: "unused" }, "long-cancel"),
      event("subscription.reactivated", "long-1", day(50), { plan: "pro", mrr: 4900 }, "long-back"),
    ];
    const later = [
      event("subscription.changed", "long-1", day(80), { plan: "business", mrr: 14900 }, "long-up-2"),
      event("subscription.canceled", "long-1", day(90), { reason: "too_expensive" }, "long-cancel-2"),
    ];

    // Without a seal: everything stays in the timeline.
    await clear();
    await ingest(writer, history);
    await ingest(writer, later);
    const whole = await metricRows();

    // With the seal at day 70 between the two: the second request compacts what came before it.
    await clear();
    await ingest(writer, history);
    await env.DB.prepare(
      "INSERT INTO tick_state (key, value, updated_at) VALUES ('events_sealed_before', ?1, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
      .bind(Date.parse(day(70)))
      .run();
    await ingest(writer, later);
    const stored = await env.DB.prepare("SELECT profile_state FROM customers WHERE id = 'long-1'").first<{
      profile_state: string;
    }>();
    const state = JSON.parse(stored!.profile_state) as {
      timeline: unknown[];
      checkpoint: unknown;
      frozen: number;
    };
    expect(state.timeline).toHaveLength(2);
    expect(state.checkpoint).toMatchObject({
      paying: true,
      plan: "pro",
      mrr: 4900,
      currency: "USD",
      everPaying: true,
    });
    expect(state.frozen).toBe(5); // new, expansion, churn and its spell row, reactivation
    expect(await metricRows()).toEqual(whole);
    await env.DB.prepare("DELETE FROM tick_state WHERE key = 'events_sealed_before'").run();
  });
});
