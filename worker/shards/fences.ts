/**
 * The statements that fence a customer on a shard (`customer_fences`, migrations/0012). A fence of
 * any state makes the shard's fence triggers (worker/shards/fence-triggers.ts, installed by the move
 * pass before it fences anyone) abort every write of the customer's rows with `customer_moving`;
 * the move tool writes through its own fence by setting `writable` first and clearing it last in
 * the same batch (a batch is one transaction: no other writer sees it set).
 */

/** Why a customer could not be fenced on its old shard. */
export type FenceRefusal = "send_in_flight" | "campaign_running";

/** A fence's state: being copied off, being copied onto, or a tombstone of a finished move. */
export type FenceState = "leaving" | "arriving" | "moved";

/**
 * Fences the customer on its old shard, in one statement that inserts the fence only when none of
 * its sends is being delivered (`sending`: a consumer holds it and will write its outcome here) and
 * no campaign run of the shard is running, held or not: a run paused between pages (out of budget, a
 * failing shard backing off) still has customers ahead of its cursor, and one of them moved now would
 * miss the occurrence if the new shard's run of it has already finished. Sends `queued` or `failed` (a retry scheduled) move with
 * the customer: their queue messages find them by id on the new shard (ids carry the slot). Then
 * reads the fence and what refused it. Idempotent: an existing fence is kept.
 */
export async function fenceLeaving(
  db: D1Database,
  customerId: string,
  to: number,
  now: number,
): Promise<{ state: FenceState | null; refusal: FenceRefusal | null }> {
  const [, fence, blockers] = await db.batch([
    db
      .prepare(
        `INSERT INTO customer_fences (customer_id, state, peer, writable, fenced_at, updated_at)
         SELECT ?1, 'leaving', ?2, 0, ?3, ?3
         WHERE NOT EXISTS (SELECT 1 FROM sends WHERE customer_id = ?1 AND status = 'sending')
           AND NOT EXISTS (SELECT 1 FROM campaign_runs WHERE status = 'running')
         ON CONFLICT (customer_id) DO NOTHING`,
      )
      .bind(customerId, to, now),
    db.prepare("SELECT state FROM customer_fences WHERE customer_id = ?1").bind(customerId),
    db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM sends WHERE customer_id = ?1 AND status = 'sending') AS sending,
                EXISTS (SELECT 1 FROM campaign_runs WHERE status = 'running') AS running`,
      )
      .bind(customerId),
  ]);
  const state = (fence?.results[0] as { state: FenceState } | undefined)?.state ?? null;
  if (state !== null) return { state, refusal: null };
  const found = blockers?.results[0] as { sending: number; running: number } | undefined;
  return { state: null, refusal: found?.sending ? "send_in_flight" : "campaign_running" };
}

/**
 * Fences the customer on its new shard (`arriving`) so that nothing writes the copy before the
 * switch. Refuses (answers false) when the new shard already holds the customer without such a
 * fence: someone wrote it there outside a move, and copying over it would lose those rows.
 */
export async function fenceArriving(
  db: D1Database,
  customerId: string,
  from: number,
  now: number,
): Promise<boolean> {
  const [, fence] = await db.batch([
    db
      .prepare(
        `INSERT INTO customer_fences (customer_id, state, peer, writable, fenced_at, updated_at)
         SELECT ?1, 'arriving', ?2, 0, ?3, ?3
         WHERE NOT EXISTS (SELECT 1 FROM customers WHERE id = ?1)
         ON CONFLICT (customer_id) DO NOTHING`,
      )
      .bind(customerId, from, now),
    db.prepare("SELECT state FROM customer_fences WHERE customer_id = ?1").bind(customerId),
  ]);
  return (fence?.results[0] as { state: FenceState } | undefined)?.state === "arriving";
}

/** Opens the tool's own fence for the statements that follow in its batch (`state` must match). */
export function openFence(db: D1Database, customerId: string, state: FenceState): D1PreparedStatement {
  return db
    .prepare("UPDATE customer_fences SET writable = 1 WHERE customer_id = ?1 AND state = ?2")
    .bind(customerId, state);
}

/** Closes the fence again: the last statement of the batch that opened it. */
export function closeFence(db: D1Database, customerId: string): D1PreparedStatement {
  return db.prepare("UPDATE customer_fences SET writable = 0 WHERE customer_id = ?1").bind(customerId);
}

/** The condition a tool statement adds so that it writes only through an open fence of `state`. */
export function throughOpenFence(customerParam: string, state: FenceState): string {
  return `EXISTS (SELECT 1 FROM customer_fences WHERE customer_id = ${customerParam} AND state = '${state}' AND writable = 1)`;
}

/** The customer's fence state on a shard, or null. */
export async function fenceState(db: D1Database, customerId: string): Promise<FenceState | null> {
  const row = await db
    .prepare("SELECT state FROM customer_fences WHERE customer_id = ?1")
    .bind(customerId)
    .first<{ state: FenceState }>();
  return row?.state ?? null;
}
