/**
 * Churn and retention over a period: paying customers and MRR at the start and end of each interval
 * and their movements (new, expansion, contraction, churn split voluntary / involuntary,
 * reactivation), with the rates docs/metrics.md defines. Read from the `metric_days` aggregate the
 * ingest fold keeps, in two statements whatever the history's length: the stock at `from` (yearly,
 * monthly and daily `customers.active` rows) and the period's daily rows, which are added up here.
 * The churn rates count only customers paying at an interval's start: each churn's `mrr.churn_spell`
 * row says the day its paying spell began, and a spell begun before the interval's first day was
 * paying at its start.
 *
 * On a sharded deployment every shard keeps the aggregate of its own customers: the stocks are summed
 * per currency and the day rows read together, then the figures (rates included) are computed once
 * from the sums, never averaged across shards.
 *
 * Stage: metrics reader, called by worker/api/routes/metrics-flows.ts with the parsed period.
 */
import { dayIso, firstDayOfMonth, monthOfDay, yearOfDay } from "./days";
import { type DaySpan, intervalsOf, type MetricsPeriod, rate } from "./period";

/** The metrics of the ingest fold this reader adds up (see the storage table in the contract). */
const MOVEMENT_METRICS = [
  "customers.active",
  "mrr.new",
  "mrr.reactivation",
  "mrr.expansion",
  "mrr.contraction",
  "mrr.churn",
  "mrr.churn_spell",
] as const;

interface StockRow {
  currency: string;
  customers: number;
  mrr: number;
}

interface MovementRow {
  metric: (typeof MOVEMENT_METRICS)[number];
  period: number;
  currency: string;
  /** The day number the ended spell began, as text, on `mrr.churn_spell` rows. */
  k1: string;
  /** `voluntary` or `involuntary` on `mrr.churn` rows, '' on the others. */
  kind: string;
  count: number;
  amount: number;
}

/** Counts and MRR summed over some days. */
interface Tally {
  count: number;
  amount: number;
}

interface Movements {
  active: Tally;
  new: Tally;
  reactivation: Tally;
  expansion: Tally;
  contraction: Tally;
  churnVoluntary: Tally;
  churnInvoluntary: Tally;
  /** Churns that ended a spell begun before the span's first day: customers paying at its start. */
  churnFromStart: Tally;
}

/** The figures of one interval (or of the whole period), as the API answers them. */
export interface RetentionFigures {
  start: string;
  end: string;
  customers: {
    start: number;
    end: number;
    gained: number;
    lost: number;
    lost_from_start: number;
    new: number;
    reactivated: number;
    lost_voluntary: number;
    lost_involuntary: number;
  };
  customer_churn_rate: number | null;
  retention_rate: number | null;
  mrr: {
    start: number;
    end: number;
    new: number;
    expansion: number;
    contraction: number;
    churn: number;
    churn_from_start: number;
    churn_voluntary: number;
    churn_involuntary: number;
    reactivation: number;
    net_change: number;
  };
  gross_mrr_churn: number | null;
  net_mrr_churn: number | null;
  gross_revenue_retention: number | null;
  net_revenue_retention: number | null;
}

export interface Retention {
  /** Every currency with paying customers at `from` or movements in the period, sorted. */
  currencies: string[];
  periods: RetentionFigures[];
  total: RetentionFigures;
}

/**
 * Churn and retention of `period.currency` over the period and each of its intervals.
 *
 * @example const { total } = await readRetention(db, period); total.net_revenue_retention // 1.02
 */
export async function readRetention(db: D1Database, period: MetricsPeriod): Promise<Retention> {
  return readRetentionOfShards([db], period);
}

/** Churn and retention over every shard's aggregate (one database: `[db]`); see readRetention. */
export async function readRetentionOfShards(
  dbs: readonly D1Database[],
  period: MetricsPeriod,
): Promise<Retention> {
  const parts = await Promise.all(dbs.map((db) => readRows(db, period)));
  const stocks = new Map<string, StockRow>();
  for (const row of parts.flatMap((part) => part.stocks)) {
    const known = stocks.get(row.currency);
    if (known)
      stocks.set(row.currency, {
        ...known,
        customers: known.customers + row.customers,
        mrr: known.mrr + row.mrr,
      });
    else stocks.set(row.currency, row);
  }
  return retentionOf(
    period,
    [...stocks.values()],
    parts.flatMap((part) => part.movements),
  );
}

/** The stock at `from` per currency and the period's day rows of one database. */
async function readRows(
  db: D1Database,
  period: MetricsPeriod,
): Promise<{ stocks: StockRow[]; movements: MovementRow[] }> {
  const month = monthOfDay(period.from);
  const year = yearOfDay(period.from);
  const metricList = MOVEMENT_METRICS.map((metric) => `'${metric}'`).join(", ");
  // D1 has no BEGIN: one batch is one consistent snapshot of both reads.
  const [stockResult, movementResult] = await db.batch<StockRow | MovementRow>([
    // The stock at the start of `from`: whole years before it, whole months of its year before its
    // month, days of its month before it; one primary-key range each (an OR of the three would
    // scan every grain), so at most (years of history + 11 + 30) rows per currency.
    db
      .prepare(
        `SELECT currency, SUM(count) AS customers, SUM(amount) AS mrr FROM (
           SELECT currency, count, amount FROM metric_days
           WHERE metric = 'customers.active' AND grain = 'y' AND period < ?1
           UNION ALL
           SELECT currency, count, amount FROM metric_days
           WHERE metric = 'customers.active' AND grain = 'm' AND period >= ?1 * 12 AND period < ?2
           UNION ALL
           SELECT currency, count, amount FROM metric_days
           WHERE metric = 'customers.active' AND grain = 'd' AND period >= ?3 AND period < ?4)
         GROUP BY currency`,
      )
      .bind(year, month, firstDayOfMonth(month), period.from),
    // The period's rows as stored (summed here: a GROUP BY would read each row twice).
    db
      .prepare(
        `SELECT metric, period, currency, k1, k3 AS kind, count, amount FROM metric_days
         WHERE metric IN (${metricList}) AND grain = 'd' AND period BETWEEN ?1 AND ?2`,
      )
      .bind(period.from, period.to),
  ]);
  return {
    stocks: (stockResult?.results ?? []) as StockRow[],
    movements: (movementResult?.results ?? []) as MovementRow[],
  };
}

function retentionOf(
  period: MetricsPeriod,
  stocks: readonly StockRow[],
  movements: readonly MovementRow[],
): Retention {
  const currencies = new Set<string>();
  for (const row of stocks) if (row.customers !== 0 || row.mrr !== 0) currencies.add(row.currency);
  for (const row of movements) if (row.count !== 0 || row.amount !== 0) currencies.add(row.currency);
  currencies.delete("");

  const stock = stocks.find((row) => row.currency === period.currency);
  const opening: Tally = { count: stock?.customers ?? 0, amount: stock?.mrr ?? 0 };
  const byDay = new Map<number, MovementRow[]>();
  for (const row of movements) {
    if (row.currency !== period.currency) continue;
    const rows = byDay.get(row.period);
    if (rows) rows.push(row);
    else byDay.set(row.period, [row]);
  }

  const periods: RetentionFigures[] = [];
  let atStart = opening;
  for (const span of intervalsOf(period.from, period.to, period.interval)) {
    const figures = figuresOf(span, atStart, movementsOver(span, byDay));
    periods.push(figures);
    atStart = { count: figures.customers.end, amount: figures.mrr.end };
  }
  const whole = { start: period.from, end: period.to };
  return {
    currencies: [...currencies].sort(),
    periods,
    total: figuresOf(whole, opening, movementsOver(whole, byDay)),
  };
}

function movementsOver(span: DaySpan, byDay: ReadonlyMap<number, MovementRow[]>): Movements {
  const zero = (): Tally => ({ count: 0, amount: 0 });
  const sums: Movements = {
    active: zero(),
    new: zero(),
    reactivation: zero(),
    expansion: zero(),
    contraction: zero(),
    churnVoluntary: zero(),
    churnInvoluntary: zero(),
    churnFromStart: zero(),
  };
  for (let day = span.start; day <= span.end; day++) {
    for (const row of byDay.get(day) ?? []) {
      const into = tallyOf(sums, row, span);
      if (into === null) continue;
      into.count += row.count;
      into.amount += row.amount;
    }
  }
  return sums;
}

function tallyOf(sums: Movements, row: MovementRow, span: DaySpan): Tally | null {
  switch (row.metric) {
    case "customers.active":
      return sums.active;
    case "mrr.new":
      return sums.new;
    case "mrr.reactivation":
      return sums.reactivation;
    case "mrr.expansion":
      return sums.expansion;
    case "mrr.contraction":
      return sums.contraction;
    case "mrr.churn":
      return row.kind === "involuntary" ? sums.churnInvoluntary : sums.churnVoluntary;
    case "mrr.churn_spell":
      // A spell that began in the span is a customer who joined in it: not one of its start's.
      return Number(row.k1) < span.start ? sums.churnFromStart : null;
  }
}

function figuresOf(span: DaySpan, atStart: Tally, moved: Movements): RetentionFigures {
  const lost = moved.churnVoluntary.count + moved.churnInvoluntary.count;
  const lostFromStart = moved.churnFromStart.count;
  const gained = moved.new.count + moved.reactivation.count;
  const customersAtEnd = atStart.count + moved.active.count;
  const churn = moved.churnVoluntary.amount + moved.churnInvoluntary.amount;
  const churnFromStart = moved.churnFromStart.amount;
  const expansion = moved.expansion.amount;
  const contraction = moved.contraction.amount;
  const reactivation = moved.reactivation.amount;
  const mrrAtStart = atStart.amount;
  return {
    start: dayIso(span.start),
    end: dayIso(span.end),
    customers: {
      start: atStart.count,
      end: customersAtEnd,
      gained,
      lost,
      lost_from_start: lostFromStart,
      new: moved.new.count,
      reactivated: moved.reactivation.count,
      lost_voluntary: moved.churnVoluntary.count,
      lost_involuntary: moved.churnInvoluntary.count,
    },
    customer_churn_rate: rate(lostFromStart, atStart.count),
    retention_rate: rate(atStart.count - lostFromStart, atStart.count),
    mrr: {
      start: mrrAtStart,
      end: mrrAtStart + moved.active.amount,
      new: moved.new.amount,
      expansion,
      contraction,
      churn,
      churn_from_start: churnFromStart,
      churn_voluntary: moved.churnVoluntary.amount,
      churn_involuntary: moved.churnInvoluntary.amount,
      reactivation,
      net_change: moved.new.amount + expansion + reactivation - contraction - churn,
    },
    gross_mrr_churn: rate(churnFromStart + contraction, mrrAtStart),
    net_mrr_churn: rate(churn + contraction - expansion - reactivation, mrrAtStart),
    gross_revenue_retention: rate(mrrAtStart - churnFromStart - contraction, mrrAtStart),
    net_revenue_retention: rate(mrrAtStart - churn - contraction + expansion + reactivation, mrrAtStart),
  };
}
