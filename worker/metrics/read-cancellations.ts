/**
 * Why they leave: the period's cancellations of paying customers by reason (voluntary or
 * involuntary), by plan and reason, and by tenure at cancellation, with the MRR each took, read in
 * one statement from the `mrr.churn` rows of the `metric_days` aggregate.
 *
 * On a sharded deployment every shard's rows are read and added up together.
 *
 * Stage: metrics reader, called by worker/api/routes/metrics-flows.ts with the parsed period.
 */
import { dayIso } from "./days";
import { TENURE_BUCKETS } from "./definitions";
import { intervalLocator, intervalsOf, type MetricsPeriod } from "./period";

interface ChurnRow {
  period: number;
  plan: string;
  reason: string;
  kind: string;
  tenure: string;
  count: number;
  amount: number;
}

interface Lost {
  count: number;
  mrr_lost: number;
}

export interface Cancellations {
  by_reason: ({ reason: string; involuntary: boolean } & Lost)[];
  by_plan: ({ plan: string | null; reason: string } & Lost)[];
  tenure: ({ bucket: string } & Lost)[];
  total: Lost;
  periods: ({ start: string; end: string } & Lost)[];
}

/**
 * The cancellations of `period.currency` in the period, most MRR lost first.
 *
 * @example (await readCancellations(db, period)).by_reason[0] // { reason: "too_expensive", count: 3, mrr_lost: 14700, involuntary: false }
 */
export async function readCancellations(db: D1Database, period: MetricsPeriod): Promise<Cancellations> {
  return readCancellationsOfShards([db], period);
}

/** The cancellations over every shard's aggregate (one database: `[db]`); see readCancellations. */
export async function readCancellationsOfShards(
  dbs: readonly D1Database[],
  period: MetricsPeriod,
): Promise<Cancellations> {
  const results = (await Promise.all(dbs.map((db) => readChurnRows(db, period)))).flat();
  return cancellationsOf(period, results);
}

async function readChurnRows(db: D1Database, period: MetricsPeriod): Promise<ChurnRow[]> {
  // The rows are the aggregate's keys already (one per day, plan, reason, kind, tenure bucket).
  const { results } = await db
    .prepare(
      `SELECT period, k1 AS plan, k2 AS reason, k3 AS kind, k4 AS tenure, count, amount FROM metric_days
       WHERE metric = 'mrr.churn' AND grain = 'd' AND period BETWEEN ?1 AND ?2 AND currency = ?3`,
    )
    .bind(period.from, period.to, period.currency)
    .all<ChurnRow>();
  return results;
}

function cancellationsOf(period: MetricsPeriod, results: readonly ChurnRow[]): Cancellations {
  const byReason = new Map<string, { reason: string; involuntary: boolean } & Lost>();
  const byPlan = new Map<string, { plan: string | null; reason: string } & Lost>();
  const tenure = new Map<string, { bucket: string } & Lost>(
    TENURE_BUCKETS.map((bucket) => [bucket, { bucket, count: 0, mrr_lost: 0 }]),
  );
  const total: Lost = { count: 0, mrr_lost: 0 };
  const spans = intervalsOf(period.from, period.to, period.interval);
  const periods = spans.map((span) => ({
    start: dayIso(span.start),
    end: dayIso(span.end),
    count: 0,
    mrr_lost: 0,
  }));
  const intervalOf = intervalLocator(spans);

  for (const row of results) {
    const involuntary = row.kind === "involuntary";
    add(byReason, `${row.reason}\u0000${row.kind}`, () => ({ reason: row.reason, involuntary }), row);
    add(
      byPlan,
      `${row.plan}\u0000${row.reason}`,
      () => ({ plan: row.plan || null, reason: row.reason }),
      row,
    );
    add(tenure, row.tenure, () => ({ bucket: row.tenure }), row);
    addTo(total, row);
    const interval = periods[intervalOf(row.period)];
    if (interval) addTo(interval, row);
  }

  const mostLostFirst = (a: Lost, b: Lost) => b.mrr_lost - a.mrr_lost || b.count - a.count;
  return {
    by_reason: [...byReason.values()]
      .filter(hasAny)
      .sort((a, b) => mostLostFirst(a, b) || a.reason.localeCompare(b.reason)),
    by_plan: [...byPlan.values()]
      .filter(hasAny)
      .sort(
        (a, b) =>
          (a.plan ?? "").localeCompare(b.plan ?? "") ||
          mostLostFirst(a, b) ||
          a.reason.localeCompare(b.reason),
      ),
    tenure: [...tenure.values()],
    total,
    periods,
  };
}

function add<T extends Lost>(
  into: Map<string, T>,
  key: string,
  make: () => Omit<T, keyof Lost>,
  row: ChurnRow,
) {
  let entry = into.get(key);
  if (!entry) {
    entry = { ...make(), count: 0, mrr_lost: 0 } as T;
    into.set(key, entry);
  }
  addTo(entry, row);
}

function addTo(into: Lost, row: ChurnRow): void {
  into.count += row.count;
  into.mrr_lost += row.amount;
}

function hasAny(entry: Lost): boolean {
  return entry.count !== 0 || entry.mrr_lost !== 0;
}
