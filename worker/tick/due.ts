/**
 * Which occurrences of a campaign stage a tick at `now` runs: those due since the last clean tick
 * (catch-up), bounded twice: nothing older than `catchUpWindowMs`, and at most
 * `maxOccurrencesPerTick` per stage, newest first. The older due ones are returned as `skipped`
 * so they can be recorded and logged rather than dropped silently.
 *
 * Stage: tick → due occurrences (this file) → claims (claims.ts) → audience and sends (campaign-run.ts).
 */
import { latestOccurrences, occurrencesBetween } from "../../dsl";
import { TICK_LIMITS } from "./limits";
import type { CampaignStage } from "./stages";

export interface DueOccurrences {
  /** Occurrence instants (epoch ms) to claim and run now, ascending. */
  readonly run: number[];
  /** Due within the catch-up window but beyond the per-tick limit: recorded as skipped. */
  readonly skipped: number[];
  /** Due before the catch-up window (stale): counted for the log (up to the scan limit). */
  readonly beyondWindow: number;
}

/** The note on a `campaign_runs` row the catch-up skipped. */
export const CATCH_UP_NOTE = `catch-up: only the newest ${TICK_LIMITS.maxOccurrencesPerTick} due occurrence(s) run per tick`;

/**
 * The start of the catch-up range: the last clean tick, or a short look-back on the first tick ever
 * (and when the watermark is ahead of `now`, after an admin tick in the future).
 */
export function catchUpFrom(lastCleanTick: number | null, now: number): number {
  if (lastCleanTick === null || lastCleanTick >= now) return now - TICK_LIMITS.firstTickLookbackMs;
  return lastCleanTick;
}

/** The occurrences of `stage` whose due time (occurrence + offset) lies in (from, now]. */
export function dueOccurrences(stage: CampaignStage, from: number, now: number): DueOccurrences {
  const { schedule, timezone } = stage.campaign;
  const offset = stage.offsetMs;
  const windowFrom = Math.max(from, now - TICK_LIMITS.catchUpWindowMs);
  const run = latestOccurrences(
    schedule,
    timezone,
    windowFrom - offset,
    now - offset,
    TICK_LIMITS.maxOccurrencesPerTick,
  );
  const skipped =
    run.length === 0
      ? []
      : occurrencesBetween(schedule, timezone, windowFrom - offset, run[0]! - 1, TICK_LIMITS.missedScanLimit);
  const beyondWindow =
    from < windowFrom
      ? occurrencesBetween(
          schedule,
          timezone,
          from - offset,
          windowFrom - offset,
          TICK_LIMITS.missedScanLimit,
        ).length
      : 0;
  return { run, skipped, beyondWindow };
}
