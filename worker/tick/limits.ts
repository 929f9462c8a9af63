/**
 * The tick's limits and timings, frozen in one place: how far back a tick catches up, how long a
 * claim lasts, page sizes, and the per-invocation D1 budget (Workers allow 1,000 queries per
 * invocation; a tick that would exceed it pauses its run and the next tick resumes it).
 */
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export const TICK_LIMITS = Object.freeze({
  /** Campaign occurrences older than this are not caught up (they are stale), only logged. */
  catchUpWindowMs: DAY_MS,
  /**
   * Occurrences of one campaign step run per tick, newest first. Older due ones are recorded as
   * `skipped` (a weekly campaign missed three times sends once, not three copies at once).
   */
  maxOccurrencesPerTick: 1,
  /** Occurrences a catch-up scan enumerates to count what it skips. */
  missedScanLimit: 500,
  /** The first tick ever (no watermark yet) looks back this far for due occurrences. */
  firstTickLookbackMs: 10 * MINUTE_MS,
  /**
   * A claim lasts this long in tick time (three cron periods): a tick that died is resumed by the
   * first tick scheduled after its lease lapsed.
   */
  leaseMs: 15 * MINUTE_MS,
  /** A run left unfinished this long after it was due expires instead of sending stale messages. */
  staleRunMs: DAY_MS,
  /** Customers per audience page (keyset on id). */
  audiencePageSize: 500,
  /** D1 queries one tick may spend before it pauses (Workers: 1,000 per invocation). */
  queryBudget: 800,
  /** Lifecycle scans (win-back, inactivity, card expiry) re-read this much before their watermark. */
  lifecycleOverlapMs: DAY_MS,
  /** A lifecycle watermark older than this is not caught up beyond it (logged). */
  lifecycleCatchUpMs: 7 * DAY_MS,
  /** Customers per lifecycle page. */
  lifecyclePageSize: 200,
  /** Customers read per page by the one-off walk that counts profiles from before the metrics. */
  legacyPageSize: 500,
  /** Pages of that walk per tick (a million customers take 500 ticks, about eight hours). */
  legacyPagesPerTick: 4,
  /** Entries per list in a dry run's answer (sends, decisions, …); the rest are counted, not listed. */
  dryRunListLimit: 500,
});
