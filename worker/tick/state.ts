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

/**
 * A shard's `lifecycle` watermark moved forward to `value`, unless a customer is arriving on the
 * shard (a move in flight, worker/shards/): its rows are not here yet, so the scan that just ran did
 * not see it, and the next tick must scan the same window again once it has arrived. Sends are unique
 * per customer and step, so what was already sent on its old shard is not sent twice.
 */
export function advanceShardLifecycle(db: D1Database, value: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO tick_state (key, value, updated_at)
       SELECT 'lifecycle', ?1, ?1 WHERE NOT EXISTS (SELECT 1 FROM customer_fences WHERE state = 'arriving')
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value), updated_at = excluded.updated_at`,
    )
    .bind(value);
}

/**
 * Where a deployment that steps through time has got to: a real `POST /v1/admin/tick` dated after the
 * wall clock records its `at` here before it runs (only where REBOUND_ALLOW_FUTURE_TICKS allows such a
 * tick), so the queue consumer can deliver what that tick sends while it is still running
 * (worker/queue/simulated-clock.ts). It only moves forward.
 */
export function advanceSimulatedClock(db: D1Database, at: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO tick_state (key, value, updated_at) VALUES ('simulated_clock', ?1, ?1)
       ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value), updated_at = excluded.updated_at`,
    )
    .bind(at);
}

/** The later of the last clean tick and the simulated clock (null: neither was ever set). */
export async function readSimulatedClock(db: D1Database): Promise<number | null> {
  const row = await db
    .prepare("SELECT max(value) AS reached FROM tick_state WHERE key IN ('tick', 'simulated_clock')")
    .first<{ reached: number | null }>();
  return row?.reached ?? null;
}
