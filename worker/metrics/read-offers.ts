/**
 * Offers over a period: shown, accepted, declined, expired, withdrawn, superseded, the acceptance
 * rate and the reward cost granted, by offer, reason, variant or context, plus the decisions held
 * out of each experiment; read in one statement from the `offer.*` rows the `decisions` triggers
 * keep in the `metric_days` aggregate. Every currency is counted; costs are listed per currency,
 * and added up in the ruleset's currency with its `settings.exchange_rates` (`cost_granted_reporting`).
 *
 * On a sharded deployment every shard's rows are read and added up together (the acceptance rate from
 * the summed counts).
 *
 * Stage: metrics reader, called by worker/api/routes/metrics-flows.ts with the parsed period.
 */
import { type Exchange, toRulesetCurrency } from "../../dsl";
import { dayIso } from "./days";
import { intervalLocator, intervalsOf, type MetricsPeriod, rate } from "./period";

/** What `?by=` groups offers by, and the aggregate's key column that holds it. */
export const OFFER_GROUPINGS = Object.freeze({ offer: "k1", reason: "k2", variant: "k3", context: "k4" });
export type OfferGrouping = keyof typeof OFFER_GROUPINGS;

const OUTCOMES = {
  "offer.shown": "shown",
  "offer.accepted": "accepted",
  "offer.declined": "declined",
  "offer.expiring": "expired",
  "offer.withdrawn": "withdrawn",
  "offer.superseded": "superseded",
} as const;
type OutcomeMetric = keyof typeof OUTCOMES;
type OfferMetric = OutcomeMetric | "offer.holdout";

interface Row<Metric extends OfferMetric> {
  metric: Metric;
  period: number;
  key: string;
  currency: string;
  count: number;
  amount: number;
}
type OfferRow = Row<OutcomeMetric> | Row<"offer.holdout">;

export interface OfferCounts {
  shown: number;
  accepted: number;
  declined: number;
  expired: number;
  withdrawn: number;
  superseded: number;
  /** accepted / (accepted + declined + expired): of the offers customers answered or let lapse. */
  acceptance_rate: number | null;
  cost_granted: { currency: string; amount: number }[];
  /**
   * `cost_granted` added up in the ruleset's currency with `settings.exchange_rates`, rounded to
   * whole minor units; costs in a currency without a rate are left out and named.
   */
  cost_granted_reporting: { currency: string; amount: number; unconverted_currencies: string[] };
}

export interface Offers {
  rows: ({ key: string | null } & OfferCounts)[];
  total: OfferCounts;
  holdouts: { experiment: string; count: number }[];
  periods: ({ start: string; end: string } & Omit<OfferCounts, "cost_granted" | "cost_granted_reporting">)[];
}

interface Counter {
  counts: Record<(typeof OUTCOMES)[keyof typeof OUTCOMES], number>;
  granted: Map<string, number>;
}

/**
 * The offers of the period grouped by `by`, most shown first.
 *
 * @example (await readOffers(db, period, "offer")).rows[0] // { key: "save_20", shown: 4, accepted: 1, ... }
 */
export async function readOffers(
  db: D1Database,
  period: MetricsPeriod,
  by: OfferGrouping,
  exchange: Exchange,
): Promise<Offers> {
  return readOffersOfShards([db], period, by, exchange);
}

/** The offers over every shard's aggregate (one database: `[db]`); see readOffers. */
export async function readOffersOfShards(
  dbs: readonly D1Database[],
  period: MetricsPeriod,
  by: OfferGrouping,
  exchange: Exchange,
): Promise<Offers> {
  const results = (await Promise.all(dbs.map((db) => readOfferRows(db, period, by)))).flat();
  return offersOf(period, exchange, results);
}

async function readOfferRows(db: D1Database, period: MetricsPeriod, by: OfferGrouping): Promise<OfferRow[]> {
  const metrics = [...Object.keys(OUTCOMES), "offer.holdout"].map((metric) => `'${metric}'`).join(", ");
  // Holdout rows keep the experiment in k1 whatever the grouping. Rows are summed here: a GROUP BY
  // would read each row twice.
  const { results } = await db
    .prepare(
      `SELECT metric, period, CASE WHEN metric = 'offer.holdout' THEN k1 ELSE ${OFFER_GROUPINGS[by]} END AS key,
              currency, count, amount
       FROM metric_days
       WHERE metric IN (${metrics}) AND grain = 'd' AND period BETWEEN ?1 AND ?2`,
    )
    .bind(period.from, period.to)
    .all<OfferRow>();
  return results;
}

function offersOf(period: MetricsPeriod, exchange: Exchange, results: readonly OfferRow[]): Offers {
  const spans = intervalsOf(period.from, period.to, period.interval);
  const intervalOf = intervalLocator(spans);
  const byKey = new Map<string, Counter>();
  const total = counter();
  const perInterval = spans.map(counter);
  const holdouts = new Map<string, number>();

  for (const row of results) {
    if (row.metric === "offer.holdout") {
      holdouts.set(row.key, (holdouts.get(row.key) ?? 0) + row.count);
      continue;
    }
    // An offer expires at the end of its expiry day: only days that are over have expired offers.
    if (row.metric === "offer.expiring" && row.period >= period.today) continue;
    let keyed = byKey.get(row.key);
    if (!keyed) {
      keyed = counter();
      byKey.set(row.key, keyed);
    }
    for (const into of [keyed, total, perInterval[intervalOf(row.period)]]) {
      if (into) tally(into, row);
    }
  }

  return {
    rows: [...byKey.entries()]
      .map(([key, keyed]) => ({ key: key === "" ? null : key, ...countsOf(keyed, exchange) }))
      .filter((row) => OUTCOME_NAMES.some((name) => row[name] !== 0))
      .sort((a, b) => b.shown - a.shown || (a.key ?? "").localeCompare(b.key ?? "")),
    total: countsOf(total, exchange),
    holdouts: [...holdouts.entries()]
      .filter(([, count]) => count !== 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([experiment, count]) => ({ experiment, count })),
    periods: spans.map((span, n) => {
      const { cost_granted: _, cost_granted_reporting: __, ...counts } = countsOf(perInterval[n]!, exchange);
      return { start: dayIso(span.start), end: dayIso(span.end), ...counts };
    }),
  };
}

const OUTCOME_NAMES = Object.values(OUTCOMES);

function counter(): Counter {
  return {
    counts: { shown: 0, accepted: 0, declined: 0, expired: 0, withdrawn: 0, superseded: 0 },
    granted: new Map(),
  };
}

function tally(into: Counter, row: Row<OutcomeMetric>): void {
  into.counts[OUTCOMES[row.metric]] += row.count;
  // An offer without a known cost is stored under no currency: it adds to the counts, not to a sum.
  if (row.metric === "offer.accepted" && row.currency !== "") {
    into.granted.set(row.currency, (into.granted.get(row.currency) ?? 0) + row.amount);
  }
}

function countsOf({ counts, granted }: Counter, exchange: Exchange): OfferCounts {
  const costGranted = [...granted.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) => ({ currency, amount }));
  return {
    ...counts,
    acceptance_rate: rate(counts.accepted, counts.accepted + counts.declined + counts.expired),
    cost_granted: costGranted,
    cost_granted_reporting: inReportingCurrency(costGranted, exchange),
  };
}

/** Per-currency totals as one amount in the ruleset currency; currencies without a rate are named. */
function inReportingCurrency(
  totals: readonly { currency: string; amount: number }[],
  exchange: Exchange,
): OfferCounts["cost_granted_reporting"] {
  let sum = 0;
  const unconverted: string[] = [];
  for (const { currency, amount } of totals) {
    const converted = toRulesetCurrency(exchange, amount, currency);
    if (converted === null) {
      if (amount !== 0) unconverted.push(currency);
    } else sum += converted;
  }
  return { currency: exchange.currency, amount: Math.round(sum), unconverted_currencies: unconverted };
}
