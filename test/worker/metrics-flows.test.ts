// The metrics read from the daily aggregate: churn and retention, why customers leave, offers and
// dunning, each figure checked against a small history worked out by hand below. Everything is
// made through the real code paths (POST /v1/events, the decision and respond routes, the tick),
// never by writing metric rows. The rules report in America/New_York; events happen at 17:00Z,
// midday in New York, so each lands on the date it names.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { type Movement, movementsOf, type TimelineEntry } from "../../worker/ingest/movements";
import { localDay, parseDayIso, reportingZone } from "../../worker/metrics/days";
import { prng } from "../prng";
import { heldOutId, respond } from "./decision-fixtures";
import { call, event, ingest, issueKey } from "./helpers";
import { at, events, MINUTE, tick } from "./tick-fixtures";

const keys = { reader: "", admin: "", writer: "" };

beforeAll(async () => {
  keys.reader = await issueKey(["metrics:read"]);
  keys.admin = await issueKey(["admin"]);
  keys.writer = await issueKey(["events:write"]);
});

/** GET a metrics route with the metrics:read key (or `key`), optionally at a chosen "now" (admin only). */
async function metrics(path: string, options: { key?: string; now?: string } = {}) {
  return await call(path, {
    key: options.key ?? keys.reader,
    headers: options.now ? { "x-rebound-now": options.now } : {},
  });
}

const noon = (date: string) => at(`${date}T17:00:00Z`);

/**
 * The 2031 history, USD unless said otherwise (plans: starter $19, pro $49, business $99):
 *   A  pro since 2030-06-10; upgrades to business on 03-10           expansion +5000
 *   B  starter since 2031-01-15; cancels 03-12, too_expensive (56 days)  voluntary churn 1900
 *   C  pro since 2029-12-01; payment fails 02-05 (expired_card); dunning's final action cancels
 *      on 03-07 (461 days)                                             involuntary churn 4900
 *   D  pro from 03-20                                                  new 4900
 *   E  business since 2030-01-01; downgrades to pro on 03-15          contraction 5000
 *   F  pro since 2030-05-01; canceled 01-20 (unused); back on pro 03-25  reactivation 4900
 *   H  starter since 2030-09-01; payment fails 03-02 (insufficient_funds), paid 03-06 after the
 *      day-3 reminder                                                  dunning recovered 1900
 *   I  pro since 2030-10-01; payment fails 03-08 (card_declined); cancels 03-10, too_expensive
 *      (160 days): the case closes as canceled                        voluntary churn 4900
 *   G  pro since 2031-02-01 in EUR, 4000
 */
type Happening = Parameters<typeof events>[number];

async function build2031(): Promise<void> {
  const start = (id: string, date: string, plan: string, mrr: number, currency = "USD"): Happening => [
    "subscription.started",
    id,
    noon(date),
    { plan, mrr, currency },
  ];
  const failed = (id: string, date: string, invoice: string, declineCode: string): Happening => [
    "payment.failed",
    id,
    noon(date),
    { invoice_id: invoice, amount: 1900, currency: "USD", decline_code: declineCode },
  ];
  const profiles = ["A", "B", "C", "D", "E", "F", "H", "I", "G"].map(
    (id): Happening => ["customer.updated", id, noon("2029-11-01"), { email: `${id}@example.com` }],
  );
  await events(
    ...profiles,
    start("A", "2030-06-10", "pro", 4900),
    start("B", "2031-01-15", "starter", 1900),
    start("C", "2029-12-01", "pro", 4900),
    start("E", "2030-01-01", "business", 9900),
    start("F", "2030-05-01", "pro", 4900),
    ["subscription.canceled", "F", noon("2031-01-20"), { reason: "unused" }],
    start("H", "2030-09-01", "starter", 1900),
    start("I", "2030-10-01", "pro", 4900),
    start("G", "2031-02-01", "pro", 4000, "EUR"),
    failed("C", "2031-02-05", "in_C", "expired_card"),
  );
  await tick(noon("2031-02-05") + 5 * MINUTE); // C's case opens
  await events(failed("H", "2031-03-02", "in_H", "insufficient_funds"));
  await tick(noon("2031-03-02") + 5 * MINUTE); // H's case opens, day-0 reminder
  await tick(noon("2031-03-05") + 5 * MINUTE); // H's day-3 reminder
  await events([
    "payment.succeeded",
    "H",
    noon("2031-03-06"),
    { invoice_id: "in_H", amount: 1900, currency: "USD" },
  ]);
  await tick(noon("2031-03-06") + 60 * MINUTE); // H recovered after day-3
  await tick(noon("2031-03-07") + 5 * MINUTE); // C: 30 days unpaid, canceled for payment_failed
  await events(failed("I", "2031-03-08", "in_I", "card_declined"));
  await tick(noon("2031-03-08") + 5 * MINUTE); // I's case opens
  await events(
    ["subscription.canceled", "I", noon("2031-03-10"), { reason: "too_expensive" }],
    ["subscription.changed", "A", noon("2031-03-10"), { plan: "business", mrr: 9900 }],
  );
  await tick(noon("2031-03-10") + 60 * MINUTE); // I's case closes as canceled
  await events(
    ["subscription.canceled", "B", noon("2031-03-12"), { reason: "too_expensive" }],
    ["subscription.changed", "E", noon("2031-03-15"), { plan: "pro", mrr: 4900 }],
    start("D", "2031-03-20", "pro", 4900),
    ["subscription.reactivated", "F", noon("2031-03-25"), { plan: "pro", mrr: 4900 }],
  );
}

describe("churn and retention", () => {
  beforeAll(build2031);

  it("answers March 2031 as worked out by hand", async () => {
    const { status, body } = await metrics("/v1/metrics/retention?from=2031-03-01&to=2031-03-31");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      timezone: "America/New_York",
      from: "2031-03-01",
      to: "2031-03-31",
      interval: "month",
      currency: "USD",
      currencies: ["EUR", "USD"],
    });
    // Paying on 1 March: A 4900, B 1900, C 4900 (past due is still paying), E 9900, H 1900, I 4900.
    // On 31 March: A 9900, E 4900, H 1900, D 4900, F 4900.
    const march = {
      start: "2031-03-01",
      end: "2031-03-31",
      customers: {
        start: 6,
        end: 5,
        gained: 2, // D new, F reactivated
        lost: 3, // C, I, B
        lost_from_start: 3, // all three were paying on 1 March (since 2029-12-01, 2030-10-01, 2031-01-15)
        new: 1,
        reactivated: 1,
        lost_voluntary: 2, // I, B
        lost_involuntary: 1, // C
      },
      // Lost from the start / customers at start: 3 / 6. D and F, who joined, are not counted.
      customer_churn_rate: 3 / 6,
      // (start − lost from the start) / start = (6 − 3) / 6, the same as ChartMogul's
      // (end − gained) / start = (5 − 2) / 6, since nobody both joined and left in March.
      retention_rate: (6 - 3) / 6,
      mrr: {
        start: 28_400,
        end: 26_500,
        new: 4900,
        expansion: 5000,
        contraction: 5000,
        churn: 11_700, // 4900 + 4900 + 1900
        churn_from_start: 11_700, // C, I and B were all paying on 1 March
        churn_voluntary: 6800,
        churn_involuntary: 4900,
        reactivation: 4900,
        net_change: -1900, // 4900 + 5000 + 4900 − 5000 − 11700
      },
      gross_mrr_churn: (11_700 + 5000) / 28_400, // (churn from the start + contraction) / MRR at start
      net_mrr_churn: (11_700 + 5000 - 5000 - 4900) / 28_400,
      gross_revenue_retention: (28_400 - 11_700 - 5000) / 28_400,
      net_revenue_retention: (28_400 - 11_700 - 5000 + 5000 + 4900) / 28_400,
    };
    expect(body.periods).toEqual([march]);
    expect(body.total).toEqual(march);
    // Two statements: the stock at `from`, the period's days.
    expect(body.cost.queries).toBe(2);
    expect(body.cost.rows_read).toBeGreaterThan(0);
  });

  it("splits the period into ISO weeks clipped to it, each starting where the last ended", async () => {
    const { body } = await metrics("/v1/metrics/retention?from=2031-03-01&to=2031-03-31&interval=week");
    // 1 March 2031 is a Saturday and the 31st a Monday.
    expect(body.periods.map((p: { start: string; end: string }) => [p.start, p.end])).toEqual([
      ["2031-03-01", "2031-03-02"],
      ["2031-03-03", "2031-03-09"],
      ["2031-03-10", "2031-03-16"],
      ["2031-03-17", "2031-03-23"],
      ["2031-03-24", "2031-03-30"],
      ["2031-03-31", "2031-03-31"],
    ]);
    expect(body.periods.map((p: { customers: { end: number } }) => p.customers.end)).toEqual([
      6, 5, 3, 4, 5, 5,
    ]);
    expect(body.periods.map((p: { mrr: { end: number } }) => p.mrr.end)).toEqual([
      28_400, 23_500, 16_700, 21_600, 26_500, 26_500,
    ]);
    // 10–16 March: A +5000 on the 10th, I (4900) and B (1900) leave, E −5000 on the 15th.
    expect(body.periods[2]).toMatchObject({
      customers: { start: 5, end: 3, lost: 2, lost_from_start: 2, lost_voluntary: 2, gained: 0 },
      customer_churn_rate: 2 / 5,
      mrr: {
        start: 23_500,
        end: 16_700,
        expansion: 5000,
        contraction: 5000,
        churn: 6800,
        churn_from_start: 6800,
      },
      gross_mrr_churn: (6800 + 5000) / 23_500,
      net_revenue_retention: (23_500 - 6800 - 5000 + 5000) / 23_500,
    });
    for (let n = 1; n < body.periods.length; n++) {
      expect(body.periods[n].customers.start).toBe(body.periods[n - 1].customers.end);
      expect(body.periods[n].mrr.start).toBe(body.periods[n - 1].mrr.end);
    }
    expect(body.total.mrr).toEqual(
      (await metrics("/v1/metrics/retention?from=2031-03-01&to=2031-03-31")).body.total.mrr,
    );
  });

  it("starts a period in mid-month from the year, month and day rows before it", async () => {
    // 11 March: C left on the 7th, I on the 10th, A grew on the 10th: A 9900, B 1900, E 9900, H 1900.
    const { body } = await metrics("/v1/metrics/retention?from=2031-03-11&to=2031-03-11&interval=day");
    expect(body.total.customers.start).toBe(4);
    expect(body.total.mrr.start).toBe(23_600);
    expect(body.periods).toHaveLength(1);
  });

  it("reports one currency at a time", async () => {
    const { body } = await metrics("/v1/metrics/retention?from=2031-03-01&to=2031-03-31&currency=EUR");
    expect(body.currency).toBe("EUR");
    expect(body.total).toMatchObject({
      customers: { start: 1, end: 1, gained: 0, lost: 0 },
      mrr: { start: 4000, end: 4000, net_change: 0 },
      customer_churn_rate: 0,
      net_revenue_retention: 1,
    });
    const none = await metrics("/v1/metrics/retention?from=2031-03-01&to=2031-03-31&currency=JPY");
    // Nothing to divide by: the rates are null, never NaN.
    expect(none.body.total).toMatchObject({
      customers: { start: 0, end: 0 },
      customer_churn_rate: null,
      retention_rate: null,
      gross_mrr_churn: null,
      net_revenue_retention: null,
    });
  });
});

describe("why they leave", () => {
  it("groups March's cancellations by reason, plan and tenure with the MRR each took", async () => {
    const { status, body } = await metrics("/v1/metrics/cancellations?from=2031-03-01&to=2031-03-31");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      timezone: "America/New_York",
      from: "2031-03-01",
      to: "2031-03-31",
      currency: "USD",
    });
    expect(body.by_reason).toEqual([
      { reason: "too_expensive", count: 2, mrr_lost: 6800, involuntary: false }, // I 4900, B 1900
      { reason: "payment_failed", count: 1, mrr_lost: 4900, involuntary: true }, // C
    ]);
    expect(body.by_plan).toEqual([
      { plan: "pro", reason: "payment_failed", count: 1, mrr_lost: 4900 },
      { plan: "pro", reason: "too_expensive", count: 1, mrr_lost: 4900 },
      { plan: "starter", reason: "too_expensive", count: 1, mrr_lost: 1900 },
    ]);
    expect(body.tenure).toEqual([
      { bucket: "0-30d", count: 0, mrr_lost: 0 },
      { bucket: "31-90d", count: 1, mrr_lost: 1900 }, // B: 56 days
      { bucket: "91-180d", count: 1, mrr_lost: 4900 }, // I: 160 days
      { bucket: "181-365d", count: 0, mrr_lost: 0 },
      { bucket: "366d+", count: 1, mrr_lost: 4900 }, // C: 461 days
    ]);
    expect(body.total).toEqual({ count: 3, mrr_lost: 11_700 });
    expect(body.cost.queries).toBe(1);
  });

  it("agrees with the churn the retention answer counts, interval by interval", async () => {
    const query = "from=2031-01-01&to=2031-03-31&interval=month";
    const [cancellations, retention] = await Promise.all([
      metrics(`/v1/metrics/cancellations?${query}`),
      metrics(`/v1/metrics/retention?${query}`),
    ]);
    // January: F left (unused); February: no one; March: C, I, B.
    expect(cancellations.body.periods).toEqual([
      { start: "2031-01-01", end: "2031-01-31", count: 1, mrr_lost: 4900 },
      { start: "2031-02-01", end: "2031-02-28", count: 0, mrr_lost: 0 },
      { start: "2031-03-01", end: "2031-03-31", count: 3, mrr_lost: 11_700 },
    ]);
    expect(
      retention.body.periods.map((p: { customers: { lost: number }; mrr: { churn: number } }) => ({
        count: p.customers.lost,
        mrr_lost: p.mrr.churn,
      })),
    ).toEqual(
      cancellations.body.periods.map(({ count, mrr_lost }: { count: number; mrr_lost: number }) => ({
        count,
        mrr_lost,
      })),
    );
  });
});

describe("dunning", () => {
  it("counts March's cases: opened when opened, recovered when recovered, closed when closed", async () => {
    const { status, body } = await metrics("/v1/metrics/dunning?from=2031-03-01&to=2031-03-31");
    expect(status).toBe(200);
    // Opened in March: H (1900 at risk), I (4900). C's case opened in February (4900 at risk) and
    // ran its final action on 7 March, so it was at risk in March too: 3 cases, 11,700 at risk.
    // H was recovered on the 6th after the day-3 reminder (1 of 3); I canceled herself.
    expect(body).toMatchObject({
      currency: "USD",
      at_risk: 3,
      failed_mrr: 11700,
      opened: 2,
      opened_mrr: 6800,
      recovered: 1,
      recovery_rate: 1 / 3,
      recovered_mrr: 1900,
      final: 1,
      canceled: 1,
    });
    expect(body.by_step).toEqual([{ step: "day-3", recovered: 1, recovered_mrr: 1900 }]);
    expect(body.by_decline_code).toEqual([
      { decline_code: "card_declined", at_risk: 1, opened: 1, recovered: 0, recovery_rate: 0 },
      { decline_code: "insufficient_funds", at_risk: 1, opened: 1, recovered: 1, recovery_rate: 1 },
      { decline_code: "expired_card", at_risk: 1, opened: 0, recovered: 0, recovery_rate: 0 },
    ]);
    expect(body.cost.queries).toBe(2);
  });

  it("counts C's case in February, when it opened", async () => {
    const { body } = await metrics("/v1/metrics/dunning?from=2031-02-01&to=2031-03-31&interval=month");
    expect(body.periods.map((p: { opened: number; final: number }) => [p.opened, p.final])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(body.by_decline_code.map((code: { decline_code: string }) => code.decline_code)).toEqual([
      "card_declined",
      "expired_card",
      "insufficient_funds",
    ]);
  });
});

/**
 * May 2032, on the shipped offers: customers paying since 2032-01-01 ($200 paid, so not low value
 * and not high value) ask in the cancel flow on Monday 3 May (D0, 15:00Z):
 *   o1 too_expensive → price_everyone_else ($10 off, 14 days), accepted D0+2
 *   o2 too_expensive → price_everyone_else, declined D0+1
 *   o3 too_expensive → price_everyone_else, never answered: expires 17 May
 *   o4 hard_to_use → hard_to_use_session (costs $60, 30 days), accepted D0+1
 *   o5 too_expensive → price_everyone_else, withdrawn D0+1 (asks again as shutting_down)
 *   o6 too_expensive → price_everyone_else, superseded D0+1 by hard_to_use_session (asks for hard_to_use)
 *   h1 ($800 paid: high value) too_expensive → held out of offer_price_high_value's experiment
 */
const D0 = Date.parse("2032-05-03T15:00:00Z");
const may = (days: number) => new Date(D0 + days * 86_400_000).toISOString();

async function decideAt(customerId: string, reason: string, days: number) {
  const { status, body } = await call("/v1/decisions", {
    key: keys.admin,
    body: { customer_id: customerId, context: "cancel_flow", reason },
    headers: { "x-rebound-now": may(days) },
  });
  expect(status).toBe(200);
  return body;
}

async function build2032(): Promise<void> {
  const held = heldOutId("h1");
  const customers = ["o1", "o2", "o3", "o4", "o5", "o6", held];
  await ingest(
    keys.writer,
    customers.flatMap((id) => [
      event("subscription.started", id, "2032-01-01T17:00:00Z", { plan: "pro", mrr: 4900, currency: "USD" }),
      event("payment.succeeded", id, "2032-02-01T17:00:00Z", {
        invoice_id: `in_${id}`,
        amount: id === held ? 80_000 : 20_000,
        currency: "USD",
      }),
    ]),
  );
  const offered: Record<string, string> = {};
  for (const [id, reason] of [
    ["o1", "too_expensive"],
    ["o2", "too_expensive"],
    ["o3", "too_expensive"],
    ["o4", "hard_to_use"],
    ["o5", "too_expensive"],
    ["o6", "too_expensive"],
  ] as const) {
    offered[id] = (await decideAt(id, reason, 0)).decision_id;
  }
  expect((await decideAt(held, "too_expensive", 0)).reason_code).toBe("holdout");
  expect((await respond(offered.o1!, "accept", keys.admin, may(2))).status).toBe(200);
  expect((await respond(offered.o2!, "decline", keys.admin, may(1))).status).toBe(200);
  expect((await respond(offered.o4!, "accept", keys.admin, may(1))).status).toBe(200);
  await decideAt("o5", "shutting_down", 1);
  expect((await decideAt("o6", "hard_to_use", 1)).offer.key).toBe("hard_to_use_session");
  const statuses = await env.DB.prepare(
    "SELECT customer_id, group_concat(status, ',') AS statuses FROM (SELECT * FROM decisions ORDER BY id) WHERE created_at >= ?1 GROUP BY customer_id",
  )
    .bind(D0)
    .all<{ customer_id: string; statuses: string }>();
  expect(Object.fromEntries(statuses.results.map((row) => [row.customer_id, row.statuses]))).toMatchObject({
    o1: "accepted",
    o2: "declined",
    o5: "withdrawn,no_offer",
    o6: "superseded,outstanding",
  });
}

describe("offers", () => {
  beforeAll(build2032);

  const priceEveryoneElse = {
    key: "price_everyone_else",
    shown: 5,
    accepted: 1,
    declined: 1,
    expired: 1, // o3, on 17 May
    withdrawn: 1,
    superseded: 1,
    acceptance_rate: 1 / 3, // accepted / (accepted + declined + expired)
    cost_granted: [{ currency: "USD", amount: 1000 }],
    cost_granted_reporting: { currency: "USD", amount: 1000, unconverted_currencies: [] },
  };
  const hardToUse = {
    key: "hard_to_use_session",
    shown: 2, // o4, and o6's second offer (expires 3 June, after the period)
    accepted: 1,
    declined: 0,
    expired: 0,
    withdrawn: 0,
    superseded: 0,
    acceptance_rate: 1,
    cost_granted: [{ currency: "USD", amount: 6000 }],
    cost_granted_reporting: { currency: "USD", amount: 6000, unconverted_currencies: [] },
  };

  it("answers May 2032 by offer, as worked out by hand", async () => {
    const { status, body } = await metrics("/v1/metrics/offers?from=2032-05-01&to=2032-05-31", {
      key: keys.admin,
      now: "2032-06-10T12:00:00Z",
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      timezone: "America/New_York",
      from: "2032-05-01",
      to: "2032-05-31",
      by: "offer",
    });
    expect(body.rows).toEqual([priceEveryoneElse, hardToUse]);
    expect(body.total).toEqual({
      shown: 7,
      accepted: 2,
      declined: 1,
      expired: 1,
      withdrawn: 1,
      superseded: 1,
      acceptance_rate: 2 / 4,
      cost_granted: [{ currency: "USD", amount: 7000 }],
      cost_granted_reporting: { currency: "USD", amount: 7000, unconverted_currencies: [] },
    });
    expect(body.holdouts).toEqual([{ experiment: "offer_price_high_value", count: 1 }]);
    expect(body.cost.queries).toBe(1);
  });

  it("counts an offer expired only once its expiry day is over", async () => {
    const during = await metrics("/v1/metrics/offers?from=2032-05-01&to=2032-05-31", {
      key: keys.admin,
      now: "2032-05-17T20:00:00Z", // 16:00 in New York on the 17th: o3 lapses at the end of today
    });
    expect(during.body.total.expired).toBe(0);
    const after = await metrics("/v1/metrics/offers?from=2032-05-01&to=2032-05-31", {
      key: keys.admin,
      now: "2032-05-18T04:30:00Z", // 00:30 on the 18th in New York
    });
    expect(after.body.total.expired).toBe(1);
  });

  it("groups by reason, variant and context", async () => {
    const query = "from=2032-05-01&to=2032-05-31";
    const now = "2032-06-10T12:00:00Z";
    const byReason = await metrics(`/v1/metrics/offers?${query}&by=reason`, { key: keys.admin, now });
    expect(byReason.body.rows.map((row: { key: string; shown: number }) => [row.key, row.shown])).toEqual([
      ["too_expensive", 5],
      ["hard_to_use", 2],
    ]);
    const byVariant = await metrics(`/v1/metrics/offers?${query}&by=variant`, { key: keys.admin, now });
    // Neither offer is in an experiment: one row with no variant.
    expect(byVariant.body.rows).toEqual([{ ...byVariant.body.total, key: null }]);
    const byContext = await metrics(`/v1/metrics/offers?${query}&by=context`, { key: keys.admin, now });
    expect(byContext.body.rows).toEqual([{ ...byContext.body.total, key: "cancel_flow" }]);
  });
});

describe("the books balance", () => {
  it("moves MRR and customers by exactly their movements, and ends at what `customers` holds", async () => {
    const { body: usd } = await metrics("/v1/metrics/retention?from=2031-01-01&to=2032-12-31");
    const { body: eur } = await metrics("/v1/metrics/retention?from=2031-01-01&to=2032-12-31&currency=EUR");
    expect(usd.currencies).toEqual(["EUR", "USD"]);
    for (const answer of [usd, eur]) {
      for (const figures of [...answer.periods, answer.total]) {
        const { mrr, customers } = figures;
        expect(mrr.end - mrr.start).toBe(
          mrr.new + mrr.expansion + mrr.reactivation - mrr.contraction - mrr.churn,
        );
        expect(mrr.net_change).toBe(mrr.end - mrr.start);
        expect(mrr.churn).toBe(mrr.churn_voluntary + mrr.churn_involuntary);
        expect(customers.end - customers.start).toBe(customers.gained - customers.lost);
        expect(customers.lost).toBe(customers.lost_voluntary + customers.lost_involuntary);
        expect(customers.lost_from_start).toBeLessThanOrEqual(Math.min(customers.lost, customers.start));
        expect(mrr.churn_from_start).toBeLessThanOrEqual(mrr.churn);
      }
    }
    const { results } = await env.DB.prepare(
      `SELECT currency, count(*) AS customers, SUM(mrr) AS mrr FROM customers
       WHERE status IN ('active', 'past_due') GROUP BY currency ORDER BY currency`,
    ).all<{ currency: string; customers: number; mrr: number }>();
    expect(results).toEqual([
      { currency: "EUR", customers: eur.total.customers.end, mrr: eur.total.mrr.end },
      { currency: "USD", customers: usd.total.customers.end, mrr: usd.total.mrr.end },
    ]);
    // 2031's five plus the seven of 2032.
    expect(usd.total.customers.end).toBe(12);
  });
});

describe("the period", () => {
  const problems = async (path: string, key = keys.reader) => {
    const { status, body } = await metrics(path, { key });
    expect(status).toBe(400);
    expect(body.error.code).toBe("validation_failed");
    return body.error.details.map((detail: { path: string }) => detail.path);
  };

  it("defaults to the 180 days up to today in the reporting zone, by month, in the rules' currency", async () => {
    // 03:00Z on 1 April is still 31 March in New York.
    const { body } = await metrics("/v1/metrics/retention", { key: keys.admin, now: "2031-04-01T03:00:00Z" });
    expect(body).toMatchObject({ from: "2030-10-03", to: "2031-03-31", interval: "month", currency: "USD" });
    expect(body.periods[0]).toMatchObject({ start: "2030-10-03", end: "2030-10-31" });
    expect(body.periods.at(-1)).toMatchObject({ start: "2031-03-01", end: "2031-03-31" });
    expect(body.periods).toHaveLength(6);
  });

  it("refuses dates that do not exist, a period that ends before it starts, and unknown intervals", async () => {
    expect(await problems("/v1/metrics/retention?from=2031-02-30&to=2031-03-31")).toEqual(["?from"]);
    expect(await problems("/v1/metrics/retention?from=2031-03-01&to=31-03-2031")).toEqual(["?to"]);
    expect(await problems("/v1/metrics/cancellations?from=2031-04-01&to=2031-03-31")).toEqual(["?from"]);
    expect(await problems("/v1/metrics/dunning?interval=year")).toEqual(["?interval"]);
    expect(await problems("/v1/metrics/retention?currency=usd")).toEqual(["?currency"]);
    expect(await problems("/v1/metrics/retention?form=2031-01-01&interval=quarter")).toEqual([
      "?form",
      "?interval",
    ]);
    expect(await problems("/v1/metrics/offers?by=plan")).toEqual(["?by"]);
    // Offers count every currency and list costs per currency.
    expect(await problems("/v1/metrics/offers?currency=USD")).toEqual(["?currency"]);
  });

  it("answers at most three years, and at most 400 intervals", async () => {
    expect((await metrics("/v1/metrics/retention?from=2031-01-01&to=2033-12-31")).status).toBe(200); // 1,096 days
    expect(await problems("/v1/metrics/retention?from=2030-12-31&to=2033-12-31")).toEqual(["?from"]);
    expect((await metrics("/v1/metrics/dunning?from=2031-01-01&to=2032-02-04&interval=day")).status).toBe(
      200,
    ); // 400 days
    expect(await problems("/v1/metrics/dunning?from=2031-01-01&to=2032-02-05&interval=day")).toEqual([
      "?interval",
    ]);
    expect((await metrics("/v1/metrics/dunning?from=2031-01-01&to=2032-02-05&interval=week")).status).toBe(
      200,
    );
  });

  it("needs a metrics:read (or admin) key", async () => {
    const path = "/v1/metrics/retention?from=2031-03-01&to=2031-03-31";
    expect((await metrics(path, { key: keys.reader })).status).toBe(200);
    expect((await metrics(path, { key: keys.admin })).status).toBe(200);
    const writer = await metrics(path, { key: keys.writer });
    expect(writer.status).toBe(403);
    expect(writer.body.error.code).toBe("forbidden");
    expect((await call(path)).status).toBe(401);
    // Only an admin key may move the clock, here as everywhere.
    expect((await metrics(path, { key: keys.reader, now: "2031-04-01T00:00:00Z" })).status).toBe(403);
  });
});

describe("what a report costs", () => {
  it("reads as many rows whatever happens to customers before or after the period", async () => {
    const reports = [
      "/v1/metrics/retention?from=2031-03-01&to=2031-03-31&interval=week",
      "/v1/metrics/retention?from=2031-03-11&to=2031-03-31",
      "/v1/metrics/cancellations?from=2031-03-01&to=2031-03-31",
      "/v1/metrics/dunning?from=2031-03-01&to=2031-03-31",
      "/v1/metrics/offers?from=2031-03-01&to=2031-03-31",
    ];
    const costs = async () => Promise.all(reports.map(async (path) => (await metrics(path)).body.cost));
    const before = await costs();
    expect(before.map((cost) => cost.queries)).toEqual([2, 2, 1, 2, 1]);

    // 60 more customers who come and go on every day of November 2030 and of April 2031 (years and
    // months that already have rows: the stock reads them as the same few rows).
    const comings: Parameters<typeof events> = [];
    for (let n = 0; n < 60; n++) {
      const first = noon(n < 30 ? "2030-11-01" : "2031-04-01") + (n % 30) * 86_400_000;
      const id = `churner-${n}`;
      comings.push(["subscription.started", id, first, { plan: "starter", mrr: 1900, currency: "USD" }]);
      comings.push(["subscription.canceled", id, first + 3_600_000, { reason: "unused" }]);
    }
    await events(...comings);
    expect(await costs()).toEqual(before);
  });
});

// The histories below use currencies and years of their own (after the ticks above archived the raw
// events of 2030), and come last: "the books balance" compares every customer in `customers` with
// the 2031–2032 answers.

describe("churn rates count only the customers paying at the start", () => {
  const on = (date: string) => `${date}T16:00:00Z`; // 11:00 or 12:00 in New York: the same date
  const rates = (figures: Record<string, unknown>) => ({
    customer_churn_rate: figures.customer_churn_rate,
    retention_rate: figures.retention_rate,
    gross_mrr_churn: figures.gross_mrr_churn,
    gross_revenue_retention: figures.gross_revenue_retention,
  });

  beforeAll(async () => {
    await ingest(keys.writer, [
      // GBP, the review's case: rr-0 pays from February; rr-1..3 join on 2 March and leave on the 20th.
      event("subscription.started", "rr-0", on("2037-02-10"), { plan: "pro", mrr: 4900, currency: "GBP" }),
      ...[1, 2, 3].flatMap((n) => [
        event("subscription.started", `rr-${n}`, on("2037-03-02"), {
          plan: "business",
          mrr: 14_900,
          currency: "GBP",
        }),
        event("subscription.canceled", `rr-${n}`, on("2037-03-20"), { reason: "unused" }),
      ]),
      // CAD: rr-4 pays from January, leaves on 5 March, comes back on pro on the 12th, leaves on the 25th.
      event("subscription.started", "rr-4", on("2037-01-15"), {
        plan: "starter",
        mrr: 1900,
        currency: "CAD",
      }),
      event("subscription.canceled", "rr-4", on("2037-03-05"), { reason: "too_expensive" }),
      event("subscription.reactivated", "rr-4", on("2037-03-12"), { plan: "pro", mrr: 4900 }),
      event("subscription.canceled", "rr-4", on("2037-03-25"), { reason: "unused" }),
    ]);
  });

  it("ignores new customers who join and leave within the month", async () => {
    const { body } = await metrics("/v1/metrics/retention?from=2037-03-01&to=2037-03-31&currency=GBP");
    // On 1 March: rr-0 (4900). Joined: rr-1..3 (3 × 14,900); left: the same three. On 31 March: rr-0.
    expect(body.total).toMatchObject({
      customers: { start: 1, end: 1, gained: 3, lost: 3, lost_from_start: 0, new: 3 },
      mrr: { start: 4900, end: 4900, new: 44_700, churn: 44_700, churn_from_start: 0, contraction: 0 },
    });
    // Lost from the start 0 of 1; MRR lost from the start 0 of 4900. (Counting every loss, as
    // before, gave a churn rate of 3 and gross MRR churn of 44,700 / 4900 = 9.12.)
    expect(rates(body.total)).toEqual({
      customer_churn_rate: 0,
      retention_rate: 1,
      gross_mrr_churn: 0,
      gross_revenue_retention: 1,
    });
    // The net rates keep ChartMogul's formula, which counts every churn: (44,700 − 0) / 4900.
    expect(body.total.net_mrr_churn).toBe(44_700 / 4900);
    expect(body.total.net_revenue_retention).toBe((4900 - 44_700) / 4900);
  });

  it("counts a customer paying at the start who leaves, returns and leaves again once", async () => {
    const { body } = await metrics("/v1/metrics/retention?from=2037-03-01&to=2037-03-31&currency=CAD");
    // On 1 March: rr-4 (1900). Lost twice (1900 on the 5th, 4900 on the 25th), reactivated once;
    // only the first loss ends a spell begun before 1 March. On 31 March: nobody.
    expect(body.total).toMatchObject({
      customers: { start: 1, end: 0, gained: 1, lost: 2, lost_from_start: 1, reactivated: 1 },
      mrr: { start: 1900, end: 0, reactivation: 4900, churn: 6800, churn_from_start: 1900 },
    });
    expect(rates(body.total)).toEqual({
      customer_churn_rate: 1 / 1,
      retention_rate: (1 - 1) / 1,
      gross_mrr_churn: (1900 + 0) / 1900,
      gross_revenue_retention: (1900 - 1900 - 0) / 1900,
    });
  });

  it("counts from each interval's own start", async () => {
    const week = async (currency: string) =>
      (
        await metrics(
          `/v1/metrics/retention?from=2037-03-01&to=2037-03-31&interval=week&currency=${currency}`,
        )
      ).body.periods;
    // Weeks: 1 Mar (a Sunday), 2–8, 9–15, 16–22, 23–29, 30–31 March.
    // GBP: rr-1..3 joined on the 2nd, so on the 16th they were paying: 3 of the 4 paying then left.
    const gbp = await week("GBP");
    expect(gbp.map((p: { customers: { start: number } }) => p.customers.start)).toEqual([1, 1, 4, 4, 1, 1]);
    expect(gbp.map((p: { customers: { lost_from_start: number } }) => p.customers.lost_from_start)).toEqual([
      0, 0, 0, 3, 0, 0,
    ]);
    expect(rates(gbp[3])).toEqual({
      customer_churn_rate: 3 / 4,
      retention_rate: (4 - 3) / 4,
      gross_mrr_churn: 44_700 / (4900 + 44_700),
      gross_revenue_retention: (49_600 - 44_700) / 49_600,
    });
    // CAD: rr-4 leaves in the week of the 2nd (paying since January) and in the week of the 23rd
    // (paying since the 12th): each time one of the one customer paying at the week's start.
    const cad = await week("CAD");
    expect(cad.map((p: { customer_churn_rate: number | null }) => p.customer_churn_rate)).toEqual([
      0,
      1,
      null, // nobody paying on 9 March
      0,
      1,
      null,
    ]);
    expect(cad.map((p: { mrr: { churn_from_start: number } }) => p.mrr.churn_from_start)).toEqual([
      0, 1900, 0, 0, 4900, 0,
    ]);
  });
});

const RANDOM_PLANS = [
  ["starter", 1900],
  ["pro", 4900],
  ["business", 14_900],
] as const;

/**
 * A random subscription history in AUD and NZD over 2034–2035, like those of
 * test/worker/metrics-movements.test.ts: starts, changes up and down, cancellations,
 * reactivations, and profile updates that move the MRR or the currency.
 */
function randomHistory(random: () => number, customer: string) {
  const history = [];
  let at = Date.UTC(2034, 0, 1) + Math.floor(random() * 200) * 86_400_000;
  const steps = 1 + Math.floor(random() * 10);
  for (let i = 0; i < steps; i++) {
    at += Math.floor(random() * 45 * 86_400_000);
    const [plan, mrr] = RANDOM_PLANS[Math.floor(random() * RANDOM_PLANS.length)]!;
    const currency = random() < 0.8 ? "AUD" : "NZD";
    const when = new Date(at).toISOString();
    const id = `${customer}-${i}`;
    const roll = random();
    if (roll < 0.3) {
      history.push(event("subscription.started", customer, when, { plan, mrr, currency }, id));
    } else if (roll < 0.5) {
      history.push(event("subscription.changed", customer, when, { plan, mrr }, id));
    } else if (roll < 0.75) {
      history.push(event("subscription.canceled", customer, when, { reason: "unused" }, id));
    } else if (roll < 0.9) {
      history.push(event("subscription.reactivated", customer, when, { plan, mrr }, id));
    } else {
      const properties = random() < 0.5 ? { mrr: mrr - 100, currency } : { currency };
      history.push(event("customer.updated", customer, when, properties, id));
    }
  }
  return history;
}

describe("churn rates on a random history", () => {
  /** Every random customer's movements as their events now stand, in time order. */
  let movements: Movement[][] = [];

  beforeAll(async () => {
    const random = prng(20_370_301);
    const history = [];
    for (let c = 0; c < 40; c++) history.push(...randomHistory(random, `rnd-${c}`));
    for (let i = 0; i < history.length; i += 100) await ingest(keys.writer, history.slice(i, i + 100));
    const { results } = await env.DB.prepare(
      "SELECT profile_state, timezone, currency FROM customers WHERE id LIKE 'rnd-%'",
    ).all<{ profile_state: string; timezone: string | null; currency: string | null }>();
    movements = results.map((row) => {
      const { timeline } = JSON.parse(row.profile_state) as { timeline: TimelineEntry[] };
      const zone = reportingZone(deployedRuleset(), row.timezone);
      return movementsOf(timeline, row.currency ?? "", (instant) => localDay(instant, zone));
    });
  });

  /**
   * What the stock says, customer by customer, independently of the spell keys: a customer paying
   * in `currency` at the start (their stock changes before it add up to 1) whose first stock change
   * in the interval is a churn is lost from the start. And whether some customer's MRR both rose
   * (new, reactivation, expansion) and fell (contraction, churn) in the interval: only then can
   * contraction and churn add up to more than the MRR at the start.
   */
  function expected(currency: string, first: number, last: number) {
    let lost = 0;
    let lostMrr = 0;
    let roseAndFell = false;
    for (const moves of movements) {
      const mine = moves.filter((move) => move[2] === currency);
      const paying = mine.filter((move) => move[1] < first).reduce((sum, move) => sum + move[9], 0);
      const inside = mine.filter((move) => move[1] >= first && move[1] <= last);
      const firstChange = inside.find((move) => move[9] !== 0);
      if (paying === 1 && firstChange?.[0] === "mrr.churn") {
        lost += 1;
        lostMrr += firstChange[8];
      }
      const rose = inside.some((move) => ["mrr.new", "mrr.reactivation", "mrr.expansion"].includes(move[0]));
      const fell = inside.some((move) => ["mrr.contraction", "mrr.churn"].includes(move[0]));
      if (rose && fell) roseAndFell = true;
    }
    return { lost, lostMrr, roseAndFell };
  }

  for (const [interval, from, to] of [
    ["day", "2034-03-01", "2035-04-04"], // 400 days
    ["week", "2034-01-01", "2036-12-31"],
    ["month", "2034-01-01", "2036-12-31"],
  ] as const) {
    it(`keeps customer churn, retention, gross MRR churn and GRR within 0..1 by ${interval}`, async () => {
      let bounded = 0;
      let churned = 0;
      for (const currency of ["AUD", "NZD"]) {
        const { status, body } = await metrics(
          `/v1/metrics/retention?from=${from}&to=${to}&interval=${interval}&currency=${currency}`,
        );
        expect(status).toBe(200);
        for (const figures of [...body.periods, body.total]) {
          const where = `${currency} ${figures.start}..${figures.end}`;
          const want = expected(currency, parseDayIso(figures.start)!, parseDayIso(figures.end)!);
          expect(figures.customers.lost_from_start, where).toBe(want.lost);
          expect(figures.mrr.churn_from_start, where).toBe(want.lostMrr);
          churned += want.lost;
          if (figures.customers.start === 0) {
            expect(figures.customer_churn_rate, where).toBeNull();
            expect(figures.retention_rate, where).toBeNull();
          } else {
            expect(figures.customer_churn_rate, where).toBeGreaterThanOrEqual(0);
            expect(figures.customer_churn_rate, where).toBeLessThanOrEqual(1);
            expect(figures.retention_rate, where).toBeGreaterThanOrEqual(0);
            expect(figures.retention_rate, where).toBeLessThanOrEqual(1);
            expect(figures.retention_rate + figures.customer_churn_rate, where).toBeCloseTo(1, 12);
          }
          if (figures.mrr.start === 0) {
            expect(figures.gross_mrr_churn, where).toBeNull();
            continue;
          }
          expect(figures.gross_mrr_churn, where).toBeGreaterThanOrEqual(0);
          expect(figures.gross_revenue_retention, where).toBeLessThanOrEqual(1);
          expect(figures.gross_revenue_retention + figures.gross_mrr_churn, where).toBeCloseTo(1, 12);
          if (!want.roseAndFell) {
            bounded += 1;
            expect(figures.gross_mrr_churn, where).toBeLessThanOrEqual(1);
            expect(figures.gross_revenue_retention, where).toBeGreaterThanOrEqual(0);
          }
        }
      }
      // The history is not empty: customers paying at the start left, and the bound was checked.
      expect(churned).toBeGreaterThan(0);
      expect(bounded).toBeGreaterThan(0);
    });
  }
});
