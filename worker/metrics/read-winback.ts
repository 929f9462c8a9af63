/**
 * Win-back figures, read at request time from the period's cohort: the cancellations whose first
 * win-back message went out in the period, and what became of them, from the compact history
 * (`event_days`). Nothing is aggregated ahead: the rows read grow with the period's cohort (the
 * period's win-back sends, through `sends_winback_created`, and each targeted customer's history
 * rows inside the windows), never with older history.
 *
 * - targeted: a (customer, cancellation) whose first win-back message (any sequence, any step; the
 *   send's `occurrence` is the cancellation's ISO time) was created in the period;
 * - reactivated: a `subscription.reactivated` or `subscription.started` from that message's time
 *   through the end of the UTC day `winback_window` after it;
 * - revenue since reactivation: `payment.succeeded` amounts from the reactivation's UTC day on,
 *   per currency;
 * - re-churned within 30 / 90 days: a `subscription.canceled` after the reactivation, through the
 *   end of the UTC day 30 / 90 days after it, counted only over reactivations at least 30 / 90 days
 *   old (a younger one could still re-churn, so it is in neither the count nor the rate).
 *
 * Boundary rule (event_days keeps a count per UTC day and the instant of the day's latest event):
 * on the first day of a window an event counts only when the day's latest event of that type is at
 * or after the window's start; every later day up to and including the last day counts whole.
 *
 * On a sharded deployment each shard reads the cohort of its own customers (a customer, their sends and
 * their history live on one shard), and the figures are computed once over every shard's rows.
 *
 * Stage: read-only, called by worker/api/routes/metrics-cohorts.ts; docs/metrics.md ("Win-back").
 */
import { DAY_MS } from "../../dsl";
import type { CsvColumn } from "./csv";
import { localDay } from "./days";
import {
  allRows,
  type CohortPeriod,
  type CursorKey,
  iso,
  type ListAnswer,
  type PageRequest,
  pageOf,
  periodInstants,
} from "./lists";
import { intervalsOf, rate } from "./period";

/** Re-churn horizons, in days after the reactivation. */
const RECHURN_DAYS = [30, 90] as const;

/** One targeted cancellation as the cohort query reads it. */
interface CohortRow {
  send_id: string;
  customer_id: string;
  occurrence: string;
  sequence: string;
  targeted_at: number;
  reactivated_at: number | null;
  rechurned_at: number | null;
  /** JSON array of [currency, amount] per day of payments since the reactivation, or null. */
  revenue: string | null;
}

/**
 * The cohort of the period, as one statement: the first win-back message of each cancellation
 * created in [?1, ?2), the first reactivation within ?3 ms of it, the first cancellation within
 * 90 days of that, and the payments since it up to the UTC day ?4. `extra` adds conditions on the
 * cohort's columns (the lists' status filter), `after` the keyset position on (targeted_at, send_id)
 * as parameter numbers, `tail` the ORDER BY / LIMIT.
 *
 * The earlier-message check seeks the customer's sends (`sends_customer_id`) from the cancellation
 * on: a win-back message for a cancellation is never created before it.
 */
function cohortSql(extra: string, tail: string, after: readonly [number, number] | null = null): string {
  // The keyset position goes into the range read itself, so a later page starts its index range
  // at the cursor instead of re-reading the period from its start.
  const keyset =
    after === null
      ? ""
      : `AND s.created_at >= ?${after[0]} AND (s.created_at, s.id) > (?${after[0]}, ?${after[1]})`;
  return `WITH targets AS (
      SELECT s.id AS send_id, s.customer_id, s.occurrence, s.programme_key AS sequence, s.created_at AS targeted_at
      -- Named: the planner would otherwise seek the sends key's programme_kind prefix, every win-back send ever.
      FROM sends s INDEXED BY sends_winback_created
      WHERE s.programme_kind = 'winback' AND s.created_at >= ?1 AND s.created_at < ?2 ${keyset}
        AND NOT EXISTS (SELECT 1 FROM sends p WHERE p.customer_id = s.customer_id
          AND p.id >= printf('snd_%012x', CAST(strftime('%s', s.occurrence) AS INTEGER) * 1000) AND p.id < s.id
          AND p.programme_kind = 'winback' AND p.occurrence = s.occurrence)
    ),
    reactivations AS (
      SELECT t.*, (SELECT d.latest_at FROM event_days d
          WHERE d.customer_id = t.customer_id
            AND d.day >= t.targeted_at / ${DAY_MS} AND d.day <= (t.targeted_at + ?3) / ${DAY_MS}
            AND d.type IN ('subscription.reactivated', 'subscription.started')
            AND (d.day > t.targeted_at / ${DAY_MS} OR d.latest_at >= t.targeted_at)
          ORDER BY d.day, d.latest_at LIMIT 1) AS reactivated_at
      FROM targets t
    ),
    cohort AS (
      SELECT r.*,
        CASE WHEN r.reactivated_at IS NULL THEN NULL ELSE (SELECT d.latest_at FROM event_days d
          WHERE d.customer_id = r.customer_id AND d.type = 'subscription.canceled'
            AND d.day >= r.reactivated_at / ${DAY_MS}
            AND d.day <= (r.reactivated_at + ${RECHURN_DAYS[1] * DAY_MS}) / ${DAY_MS}
            AND (d.day > r.reactivated_at / ${DAY_MS} OR d.latest_at > r.reactivated_at)
          ORDER BY d.day LIMIT 1) END AS rechurned_at,
        CASE WHEN r.reactivated_at IS NULL THEN NULL ELSE (SELECT json_group_array(json_array(d.currency, d.amount))
          FROM event_days d WHERE d.customer_id = r.customer_id AND d.type = 'payment.succeeded'
            AND d.day >= r.reactivated_at / ${DAY_MS} AND d.day <= ?4) END AS revenue
      FROM reactivations r
    )
    SELECT * FROM cohort ${extra} ${tail}`;
}

function cohortParams(period: CohortPeriod, windowMs: number, now: number): (string | number)[] {
  const { start, end } = periodInstants(period);
  return [start, end, windowMs, Math.floor(now / DAY_MS)];
}

/** Money in one currency. */
interface CurrencyAmount {
  currency: string;
  amount: number;
}

function revenueOf(rows: readonly Pick<CohortRow, "revenue">[]): CurrencyAmount[] {
  const totals = new Map<string, number>();
  for (const row of rows) {
    if (row.revenue === null) continue;
    for (const [currency, amount] of JSON.parse(row.revenue) as [string, number][]) {
      totals.set(currency, (totals.get(currency) ?? 0) + amount);
    }
  }
  return [...totals]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, amount]) => ({ currency, amount }));
}

/** Whether a reactivation re-churned within `days`, and whether that is known yet at `now`. */
function rechurnWithin(row: CohortRow, days: number, now: number): { matured: boolean; rechurned: boolean } {
  if (row.reactivated_at === null) return { matured: false, rechurned: false };
  const horizon = row.reactivated_at + days * DAY_MS;
  const matured = horizon <= now;
  const rechurned =
    row.rechurned_at !== null && Math.floor(row.rechurned_at / DAY_MS) <= Math.floor(horizon / DAY_MS);
  return { matured, rechurned };
}

/** `90d`, `36h`, `90m`: a window as rules write it. */
export function durationText(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms}ms`;
}

/** The figures of `GET /v1/metrics/winback`, without the period header and cost. */
export interface WinbackFigures {
  window: string;
  targeted: number;
  reactivated: number;
  reactivation_rate: number | null;
  revenue_since_reactivation: CurrencyAmount[];
  reactivated_30d_ago: number;
  rechurned_30d: number;
  rechurn_rate_30d: number | null;
  reactivated_90d_ago: number;
  rechurned_90d: number;
  rechurn_rate_90d: number | null;
  by_sequence: {
    sequence: string;
    targeted: number;
    reactivated: number;
    reactivation_rate: number | null;
  }[];
  periods: {
    start: number;
    end: number;
    targeted: number;
    reactivated: number;
    reactivation_rate: number | null;
  }[];
}

/**
 * Reads the win-back cohort of `period` in one statement and computes its figures.
 *
 * @param now the request's time: revenue counts payments up to its UTC day, and re-churn counts
 *   only reactivations whose 30 / 90 days are over by then.
 */
export async function readWinback(
  db: D1Database,
  period: CohortPeriod,
  windowMs: number,
  now: number,
): Promise<WinbackFigures> {
  return readWinbackOfShards([db], period, windowMs, now);
}

/** The win-back figures over every shard's cohort (one database: `[db]`); see readWinback. */
export async function readWinbackOfShards(
  dbs: readonly D1Database[],
  period: CohortPeriod,
  windowMs: number,
  now: number,
): Promise<WinbackFigures> {
  const parts = await Promise.all(
    dbs.map((db) =>
      allRows<CohortRow>(
        db,
        cohortSql("", "ORDER BY targeted_at, send_id"),
        cohortParams(period, windowMs, now),
      ),
    ),
  );
  const rows = parts.flat();
  const reactivatedRows = rows.filter((row) => row.reactivated_at !== null);
  const horizons = RECHURN_DAYS.map((days) => {
    const outcomes = reactivatedRows.map((row) => rechurnWithin(row, days, now)).filter((o) => o.matured);
    return { matured: outcomes.length, rechurned: outcomes.filter((o) => o.rechurned).length };
  });
  const [within30, within90] = horizons as [(typeof horizons)[0], (typeof horizons)[0]];

  const sequences = new Map<string, { targeted: number; reactivated: number }>();
  for (const row of rows) {
    const entry = sequences.get(row.sequence) ?? { targeted: 0, reactivated: 0 };
    entry.targeted += 1;
    if (row.reactivated_at !== null) entry.reactivated += 1;
    sequences.set(row.sequence, entry);
  }

  const periods = intervalsOf(period.from, period.to, period.interval).map((span) => {
    const inSpan = rows.filter((row) => {
      const day = localDay(row.targeted_at, period.zone);
      return day >= span.start && day <= span.end;
    });
    const reactivated = inSpan.filter((row) => row.reactivated_at !== null).length;
    return {
      ...span,
      targeted: inSpan.length,
      reactivated,
      reactivation_rate: rate(reactivated, inSpan.length),
    };
  });

  return {
    window: durationText(windowMs),
    targeted: rows.length,
    reactivated: reactivatedRows.length,
    reactivation_rate: rate(reactivatedRows.length, rows.length),
    revenue_since_reactivation: revenueOf(reactivatedRows),
    reactivated_30d_ago: within30.matured,
    rechurned_30d: within30.rechurned,
    rechurn_rate_30d: rate(within30.rechurned, within30.matured),
    reactivated_90d_ago: within90.matured,
    rechurned_90d: within90.rechurned,
    rechurn_rate_90d: rate(within90.rechurned, within90.matured),
    by_sequence: [...sequences]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sequence, counts]) => ({
        sequence,
        ...counts,
        reactivation_rate: rate(counts.reactivated, counts.targeted),
      })),
    periods,
  };
}

export const WINBACK_LIST_STATUSES = ["targeted", "reactivated", "rechurned"] as const;
export type WinbackListStatus = (typeof WINBACK_LIST_STATUSES)[number];

/** One targeted cancellation in `GET /v1/metrics/winback/customers`. */
export interface WinbackCustomerItem {
  customer_id: string;
  sequence: string;
  canceled_at: string;
  targeted_at: string;
  first_send_id: string;
  reactivated_at: string | null;
  rechurned_at: string | null;
  rechurned_within_30d: boolean;
  rechurned_within_90d: boolean;
  revenue_since_reactivation: CurrencyAmount[];
}

const WINBACK_CUSTOMER_COLUMNS: readonly CsvColumn<WinbackCustomerItem>[] = [
  ...(
    [
      "customer_id",
      "sequence",
      "canceled_at",
      "targeted_at",
      "first_send_id",
      "reactivated_at",
      "rechurned_at",
      "rechurned_within_30d",
      "rechurned_within_90d",
    ] as const
  ).map((name) => ({ header: name, cell: (item: WinbackCustomerItem) => item[name] })),
  {
    header: "revenue_since_reactivation",
    // One cell: "4900 USD; 1200 EUR", empty when none.
    cell: (item) =>
      item.revenue_since_reactivation.map((money) => `${money.amount} ${money.currency}`).join("; "),
  },
];

/**
 * The targeted cancellations of the period, in the order their first message went out
 * (`targeted_at`, then the send id), filtered by what became of them: `targeted` (all),
 * `reactivated`, or `rechurned` (canceled again within 90 days of the reactivation, as known now).
 */
export async function listWinbackCustomers(
  db: D1Database,
  request: PageRequest & { period: CohortPeriod; windowMs: number; now: number; status: WinbackListStatus },
): Promise<ListAnswer<WinbackCustomerItem>> {
  const params: (string | number)[] = cohortParams(request.period, request.windowMs, request.now);
  const conditions: string[] = [];
  if (request.status === "reactivated") conditions.push("reactivated_at IS NOT NULL");
  if (request.status === "rechurned") conditions.push("rechurned_at IS NOT NULL");
  let after: [number, number] | null = null;
  if (request.after !== null) {
    params.push(request.after[0]!, request.after[1]!);
    after = [params.length - 1, params.length];
  }
  params.push(request.limit + 1);
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const rows = await allRows<CohortRow>(
    db,
    cohortSql(where, `ORDER BY targeted_at, send_id LIMIT ?${params.length}`, after),
    params,
  );
  const page = pageOf(
    rows,
    request.limit,
    (row): CursorKey[] => [row.targeted_at, row.send_id],
    (row): WinbackCustomerItem => ({
      customer_id: row.customer_id,
      sequence: row.sequence,
      canceled_at: row.occurrence,
      targeted_at: iso(row.targeted_at)!,
      first_send_id: row.send_id,
      reactivated_at: iso(row.reactivated_at),
      rechurned_at: iso(row.rechurned_at),
      rechurned_within_30d: rechurnWithin(row, 30, request.now).rechurned,
      rechurned_within_90d: rechurnWithin(row, 90, request.now).rechurned,
      revenue_since_reactivation: revenueOf([row]),
    }),
  );
  return { ...page, columns: WINBACK_CUSTOMER_COLUMNS };
}
