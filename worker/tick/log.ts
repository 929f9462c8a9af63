/**
 * Structured log lines of the tick (one JSON object per line, readable in `wrangler tail` and
 * Workers Logs): claims, catch-up, pauses, programme errors. What a run did is also stored on its
 * `campaign_runs` row; the log gives it a timeline.
 */

type LogValue = string | number | boolean | null;

/** Logs one tick event, e.g. `logTickEvent("tick.catch_up", { campaign, skipped: 2 })`. */
export function logTickEvent(event: string, fields: Record<string, LogValue>): void {
  const line = JSON.stringify({ event, ...fields });
  if (event.endsWith("error") || event.endsWith("skipped") || event.endsWith("truncated")) console.warn(line);
  else console.log(line);
}

/** Logs one event of the tick `tc`; a dry run's lines say so (`dryRun: true`), as nothing happened. */
export function logTick(
  tc: { readonly dryRun: unknown },
  event: string,
  fields: Record<string, LogValue>,
): void {
  logTickEvent(event, tc.dryRun ? { ...fields, dryRun: true } : fields);
}
