/**
 * `metric_days`: what the metrics API reads instead of customers, events or decisions. Each row is
 * a sum of deltas for one metric on one reporting day (or month or year) and one combination of
 * keys, so a report reads the period's days, never the customers or the history behind them
 * (docs/metrics.md, "How the figures stay cheap").
 *
 * Who adds to it, always in the same batch or statement as the change it counts:
 * - ingest, for MRR movements (worker/metrics/movements.ts folds each customer's subscription
 *   timeline and writes the difference between what it counted before and what it counts now, so a
 *   late or out-of-order event corrects the days it changes);
 * - triggers on `decisions` (offers shown, answered, withdrawn, expiring) and on `dunning_cases`
 *   (opened, recovered, final, canceled), reading the reporting days the writers store beside them
 *   (migrations/0008_metrics.sql).
 *
 * `grain` is `d` (period = day number of the local date in the reporting zone), `m` (year × 12 +
 * month − 1) or `y` (year). Only `customers.active`, the running stock of paying customers and MRR,
 * is kept at all three, so the stock at any day sums at most one row per year, twelve per month and
 * thirty-one per day (worker/metrics/days.ts numbers them).
 */
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const METRIC_GRAINS = ["d", "m", "y"] as const;

export const metricDays = sqliteTable(
  "metric_days",
  {
    /** `mrr.new`, `offer.accepted`, `dunning.recovered`, ... (docs/metrics.md lists them with their keys). */
    metric: text("metric").notNull(),
    grain: text("grain", { enum: METRIC_GRAINS }).notNull(),
    period: integer("period").notNull(),
    /** ISO 4217 code of `amount`; `''` when the figure has none. */
    currency: text("currency").notNull(),
    /** The metric's keys (plan, reason, offer, variant, cadence, ...); `''` when unused. */
    k1: text("k1").notNull(),
    k2: text("k2").notNull(),
    k3: text("k3").notNull(),
    k4: text("k4").notNull(),
    count: integer("count").notNull(),
    /** Minor units of `currency`. */
    amount: integer("amount").notNull(),
  },
  (table) => [
    primaryKey({
      columns: [
        table.metric,
        table.grain,
        table.period,
        table.currency,
        table.k1,
        table.k2,
        table.k3,
        table.k4,
      ],
    }),
  ],
);

export type MetricDayRow = typeof metricDays.$inferSelect;
