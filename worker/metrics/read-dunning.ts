/**
 * Dunning over a period: cases at risk (open when it began, or opened in it) and the MRR their
 * failed payments put at risk, cases opened, cases recovered (counted in the period they were
 * recovered) and the MRR kept, cases closed by the final action or by the customer's own
 * cancellation, recoveries by the step that preceded them and by decline code; read in one batch
 * from the `dunning.*` rows the `dunning_cases` triggers keep in the `metric_days` aggregate: the
 * open stock at `from` (bounded by grains, as the customer stock) and the period's day rows.
 *
 * Every case recovered in a period was at risk in it, so `recovered <= at_risk`,
 * `recovered_mrr <= failed_mrr` and `recovery_rate` stays within 0..1 over any period.
 *
 * On a sharded deployment every shard's rows are read and added up together (rates from the sums).
 *
 * Stage: metrics reader, called by worker/api/routes/metrics-flows.ts with the parsed period.
 */
import { dayIso, firstDayOfMonth, monthOfDay, yearOfDay } from "./days";
import { intervalLocator, intervalsOf, type MetricsPeriod, rate } from "./period";

interface DunningRow {
  metric: "dunning.opened" | "dunning.recovered" | "dunning.final" | "dunning.canceled" | "dunning.open";
  period: number;
  decline_code: string;
  step: string;
  count: number;
  amount: number;
}

interface CaseCounts {
  /** Cases open when the span began plus cases opened in it. */
  at_risk: number;
  /** The MRR of those cases, when each opened. */
  failed_mrr: number;
  opened: number;
  opened_mrr: number;
  recovered: number;
  recovery_rate: number | null;
  recovered_mrr: number;
  final: number;
  canceled: number;
}

export interface Dunning extends CaseCounts {
  by_step: { step: string | null; recovered: number; recovered_mrr: number }[];
  by_decline_code: {
    decline_code: string | null;
    at_risk: number;
    opened: number;
    recovered: number;
    recovery_rate: number | null;
  }[];
  periods: ({ start: string; end: string } & CaseCounts)[];
}

/**
 * The dunning figures of `period.currency` over the period.
 *
 * @example (await readDunning(db, period)).recovery_rate // 0.5: 2 recovered of 4 at risk
 */
export async function readDunning(db: D1Database, period: MetricsPeriod): Promise<Dunning> {
  return readDunningOfShards([db], period);
}

/** The dunning figures over every shard's aggregate (one database: `[db]`); see readDunning. */
export async function readDunningOfShards(
  dbs: readonly D1Database[],
  period: MetricsPeriod,
): Promise<Dunning> {
  const parts = await Promise.all(dbs.map((db) => readDunningRows(db, period)));
  return dunningOf(
    period,
    parts.flatMap((part) => part.openAtStart),
    parts.flatMap((part) => part.results),
  );
}

async function readDunningRows(
  db: D1Database,
  period: MetricsPeriod,
): Promise<{ openAtStart: DunningRow[]; results: DunningRow[] }> {
  const month = monthOfDay(period.from);
  const [stockResult, dayResult] = await db.batch<DunningRow>([
    // Cases open at the start of `from`, by decline code: whole years, months, then days before it.
    db
      .prepare(
        `SELECT 'dunning.open' AS metric, ?5 AS period, k2 AS decline_code, '' AS step, count, amount FROM metric_days
         WHERE metric = 'dunning.open' AND grain = 'y' AND period < ?1 AND currency = ?6
         UNION ALL
         SELECT 'dunning.open', ?5, k2, '', count, amount FROM metric_days
         WHERE metric = 'dunning.open' AND grain = 'm' AND period >= ?1 * 12 AND period < ?2 AND currency = ?6
         UNION ALL
         SELECT 'dunning.open', ?5, k2, '', count, amount FROM metric_days
         WHERE metric = 'dunning.open' AND grain = 'd' AND period >= ?3 AND period < ?4 AND currency = ?6`,
      )
      .bind(yearOfDay(period.from), month, firstDayOfMonth(month), period.from, period.from, period.currency),
    // The period's rows as stored (one per day, cadence, code and step), summed here.
    db
      .prepare(
        `SELECT metric, period, k2 AS decline_code, k3 AS step, count, amount FROM metric_days
         WHERE metric IN ('dunning.opened', 'dunning.recovered', 'dunning.final', 'dunning.canceled', 'dunning.open')
           AND grain = 'd' AND period BETWEEN ?1 AND ?2 AND currency = ?3`,
      )
      .bind(period.from, period.to, period.currency),
  ]);
  return {
    openAtStart: (stockResult?.results ?? []) as DunningRow[],
    results: (dayResult?.results ?? []) as DunningRow[],
  };
}

function dunningOf(
  period: MetricsPeriod,
  openAtStart: readonly DunningRow[],
  results: readonly DunningRow[],
): Dunning {
  const spans = intervalsOf(period.from, period.to, period.interval);
  const intervalOf = intervalLocator(spans);
  const total = emptyCounts();
  const perInterval = spans.map(emptyCounts);
  const bySteps = new Map<string, { recovered: number; recovered_mrr: number }>();
  const byCodes = new Map<string, { at_risk: number; opened: number; recovered: number }>();
  const codeOf = (code: string) => {
    const counts = byCodes.get(code) ?? { at_risk: 0, opened: 0, recovered: 0 };
    byCodes.set(code, counts);
    return counts;
  };

  // Open at the start of the period, then at the start of each interval (the open stock moves by
  // the period's own `dunning.open` day rows, read below with the rest).
  let open = { count: 0, amount: 0 };
  for (const row of openAtStart) {
    open = { count: open.count + row.count, amount: open.amount + row.amount };
    codeOf(row.decline_code).at_risk += row.count;
  }
  total.at_risk += open.count;
  total.failed_mrr += open.amount;
  const openDeltas = spans.map(() => ({ count: 0, amount: 0 }));
  for (const row of results) {
    if (row.metric !== "dunning.open") continue;
    const delta = openDeltas[intervalOf(row.period)];
    if (delta) {
      delta.count += row.count;
      delta.amount += row.amount;
    }
  }
  spans.forEach((_, n) => {
    perInterval[n]!.at_risk += open.count;
    perInterval[n]!.failed_mrr += open.amount;
    open = { count: open.count + openDeltas[n]!.count, amount: open.amount + openDeltas[n]!.amount };
  });

  for (const row of results) {
    if (row.metric === "dunning.open") continue;
    for (const into of [total, perInterval[intervalOf(row.period)]]) if (into) tally(into, row);
    if (row.metric === "dunning.recovered") {
      const step = bySteps.get(row.step) ?? { recovered: 0, recovered_mrr: 0 };
      step.recovered += row.count;
      step.recovered_mrr += row.amount;
      bySteps.set(row.step, step);
    }
    if (row.metric === "dunning.opened") {
      const code = codeOf(row.decline_code);
      code.opened += row.count;
      code.at_risk += row.count;
    }
    if (row.metric === "dunning.recovered") codeOf(row.decline_code).recovered += row.count;
  }

  return {
    ...withRate(total),
    // Steps in cadence order (day-3 before day-14); recoveries before any step first.
    by_step: [...bySteps.entries()]
      .filter(([, step]) => step.recovered !== 0)
      .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
      .map(([step, counts]) => ({ step: step === "" ? null : step, ...counts })),
    by_decline_code: [...byCodes.entries()]
      .filter(([, code]) => code.at_risk !== 0 || code.recovered !== 0)
      .sort(([a, x], [b, y]) => y.opened - x.opened || a.localeCompare(b))
      .map(([code, counts]) => ({
        decline_code: code === "" ? null : code,
        ...counts,
        recovery_rate: rate(counts.recovered, counts.at_risk),
      })),
    periods: spans.map((span, n) => ({
      start: dayIso(span.start),
      end: dayIso(span.end),
      ...withRate(perInterval[n]!),
    })),
  };
}

function emptyCounts(): CaseCounts {
  return {
    at_risk: 0,
    failed_mrr: 0,
    opened: 0,
    opened_mrr: 0,
    recovered: 0,
    recovery_rate: null,
    recovered_mrr: 0,
    final: 0,
    canceled: 0,
  };
}

function tally(into: CaseCounts, row: DunningRow): void {
  switch (row.metric) {
    case "dunning.opened":
      into.at_risk += row.count;
      into.failed_mrr += row.amount;
      into.opened += row.count;
      into.opened_mrr += row.amount;
      return;
    case "dunning.recovered":
      into.recovered += row.count;
      into.recovered_mrr += row.amount;
      return;
    case "dunning.final":
      into.final += row.count;
      return;
    case "dunning.canceled":
      into.canceled += row.count;
      return;
  }
}

function withRate(counts: CaseCounts): CaseCounts {
  return { ...counts, recovery_rate: rate(counts.recovered, counts.at_risk) };
}
