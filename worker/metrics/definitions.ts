/**
 * Names the metrics share between the code that counts them (worker/ingest/movements.ts, the
 * triggers in migrations/0008_metrics.sql) and the code that reports them (worker/metrics/read-*.ts).
 * docs/metrics.md defines each figure.
 */

/** Days from the first paying day to a cancellation, in the buckets reports use. */
export const TENURE_BUCKETS = ["0-30d", "31-90d", "91-180d", "181-365d", "366d+"] as const;

const DAY_MS = 86_400_000;

/** The tenure bucket of a time from the first paying day to the cancellation. */
export function tenureBucket(ms: number): (typeof TENURE_BUCKETS)[number] {
  const days = Math.floor(ms / DAY_MS);
  if (days <= 30) return "0-30d";
  if (days <= 90) return "31-90d";
  if (days <= 180) return "91-180d";
  if (days <= 365) return "181-365d";
  return "366d+";
}

/** The cancellation reason that makes churn involuntary (dunning's final action sends it). */
export const INVOLUNTARY_REASON = "payment_failed";
