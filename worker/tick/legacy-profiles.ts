/**
 * After an upgrade, counts the customers whose profile predates the metrics (worker/ingest/movements.ts):
 * a profile stored before migration 0007 (no fold state) or 0008 (fold state version 1) has no
 * subscription timeline and nothing counted in `metric_days`, so until its customer's next event the
 * metrics would miss it, and a quiet or yearly-billed customer may have none for months. The tick
 * walks the customers once, in rowid order from a cursor in `tick_state`, a few pages per tick, and
 * upgrades those that need it (worker/ingest/write-events.ts `upgradeLegacyProfiles`).
 *
 * Migration 0008 starts the walk (the cursor at 0) only on a database that already had customers,
 * and the walk deletes the cursor when it reaches the end: a new deployment, and every tick after
 * the walk, pays one primary-key read of `tick_state` for it.
 */
import { upgradeLegacyProfiles } from "../ingest/write-events";
import type { TickContext } from "./context";
import { TICK_LIMITS } from "./limits";
import { logTick } from "./log";

/** tick_state key of the walk's cursor: the last customer rowid it has handled. */
export const LEGACY_CURSOR_KEY = "metrics_legacy_after";

/** Continues the walk over the customers for at most `TICK_LIMITS.legacyPagesPerTick` pages. */
export async function upgradeLegacyProfilesStage(tc: TickContext): Promise<void> {
  const { env, ruleset, report } = tc;
  const cursor = await env.DB.prepare("SELECT value FROM tick_state WHERE key = ?1")
    .bind(LEGACY_CURSOR_KEY)
    .first<{ value: number }>();
  if (cursor === null) return;
  let after = cursor.value;
  for (let page = 0; page < TICK_LIMITS.legacyPagesPerTick; page++) {
    if (tc.budget.exhausted(60)) break;
    const { results } = await env.DB.prepare(
      `SELECT rowid AS rowid, id, profile_state IS NULL OR json_extract(profile_state, '$.v') = 1 AS legacy
       FROM customers WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`,
    )
      .bind(after, TICK_LIMITS.legacyPageSize)
      .all<{ rowid: number; id: string; legacy: number }>();
    const legacy = results.filter((row) => row.legacy === 1).map((row) => row.id);
    const upgraded = await upgradeLegacyProfiles(env.DB, legacy, ruleset, "skip");
    // A page whose batch lost a race to ingest is read again next tick: the cursor stays before it.
    if (legacy.length > 0 && upgraded === 0) break;
    report.legacy_profiles_upgraded += upgraded;
    if (results.length < TICK_LIMITS.legacyPageSize) {
      await env.DB.prepare("DELETE FROM tick_state WHERE key = ?1").bind(LEGACY_CURSOR_KEY).run();
      logTick(tc, "tick.legacy_profiles_done", { at: report.at });
      return;
    }
    after = results[results.length - 1]!.rowid;
    await env.DB.prepare("UPDATE tick_state SET value = ?2, updated_at = ?3 WHERE key = ?1")
      .bind(LEGACY_CURSOR_KEY, after, tc.now)
      .run();
  }
}
