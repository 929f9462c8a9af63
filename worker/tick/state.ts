/**
 * The scheduler's watermarks in `tick_state`: `tick` (the scheduled time of the last tick that
 * finished cleanly; campaign catch-up starts there) and `lifecycle` (how far the windowed lifecycle
 * scans have reached). A watermark only moves forward, so a late or replayed tick cannot rewind it.
 */

export type WatermarkKey = "tick" | "lifecycle";

/** Reads both watermarks in one statement (null: never set). */
export async function readWatermarks(db: D1Database): Promise<Record<WatermarkKey, number | null>> {
  const { results } = await db
    .prepare("SELECT key, value FROM tick_state WHERE key IN ('tick', 'lifecycle')")
    .all<{ key: WatermarkKey; value: number }>();
  const marks: Record<WatermarkKey, number | null> = { tick: null, lifecycle: null };
  for (const row of results) marks[row.key] = row.value;
  return marks;
}

/** Moves a watermark forward to `value` (never back). */
export function advanceWatermark(db: D1Database, key: WatermarkKey, value: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO tick_state (key, value, updated_at) VALUES (?1, ?2, ?2)
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value), updated_at = excluded.updated_at`,
    )
    .bind(key, value);
}
