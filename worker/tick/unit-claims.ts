/**
 * Claims on the programme units of a sharded tick (`tick_units` on the unit's shard): each
 * (unit, tick time) runs once, however many messages name it.
 *
 *   (none) ──INSERT…ON CONFLICT DO NOTHING──▶ running ──finish──▶ done
 *                                                │  ▲
 *              redelivery of the message ────────┘  └── takeover (a consumer died or failed mid-unit)
 *
 * A duplicated message (two dispatches of one scheduled time) finds the claim and does nothing; a
 * redelivered one (the queue's `attempts` > 1: the consumer that had it crashed or asked for a retry)
 * takes over a claim still `running`. Every programme is idempotent anyway (send keys, conditional
 * updates), so even two holders would send nothing twice: the claim saves the work and keeps the
 * counts honest. Campaign units are claimed in `campaign_runs` (claims.ts).
 */

/** A unit this consumer holds. */
export interface HeldUnit {
  readonly unit: string;
  readonly at: number;
  readonly token: string;
}

/** How long a finished unit's claim is kept: longer than any redelivery of its message. */
const KEEP_CLAIMS_MS = 2 * 86_400_000;

/**
 * Claims `unit` of the tick at `at`, or with `redelivered` takes over a claim left running. Null
 * when the unit is done, or another consumer holds it and this message is not a redelivery.
 */
export async function claimUnit(
  db: D1Database,
  unit: string,
  at: number,
  redelivered: boolean,
): Promise<HeldUnit | null> {
  const token = crypto.randomUUID();
  const created = await db
    .prepare(
      `INSERT INTO tick_units (unit, at, status, lease_token, attempts, claimed_at)
       VALUES (?1, ?2, 'running', ?3, 1, ?2)
       ON CONFLICT (unit, at) DO NOTHING
       RETURNING unit`,
    )
    .bind(unit, at, token)
    .first<{ unit: string }>();
  if (created) return { unit, at, token };
  if (!redelivered) return null;
  const taken = await db
    .prepare(
      `UPDATE tick_units SET lease_token = ?3, attempts = attempts + 1
       WHERE unit = ?1 AND at = ?2 AND status = 'running'
       RETURNING unit`,
    )
    .bind(unit, at, token)
    .first<{ unit: string }>();
  return taken ? { unit, at, token } : null;
}

/** Marks a held unit done (false when another consumer took it over meanwhile). */
export function finishUnit(db: D1Database, held: HeldUnit): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE tick_units SET status = 'done', lease_token = NULL, finished_at = ?2
       WHERE unit = ?1 AND at = ?2 AND lease_token = ?3 AND status = 'running'`,
    )
    .bind(held.unit, held.at, held.token);
}

/** Deletes claims of ticks long past (the publish unit runs it once per tick and shard). */
export function pruneUnitClaims(db: D1Database, now: number): D1PreparedStatement {
  return db.prepare("DELETE FROM tick_units WHERE at < ?1").bind(now - KEEP_CLAIMS_MS);
}
