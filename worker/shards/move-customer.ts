/**
 * Moving one customer from its old shard to its new one (docs/scaling.md, "Adding shards"). Each step
 * is idempotent and the whole is resumable: rerun after a crash at any point, it finds where the
 * previous run stopped (the control database's placement, then the fences) and goes on from there.
 *
 *   1. fence the old shard (only when no send of the customer is being delivered and no campaign run
 *      of the shard is running): from here every write of the customer's rows there aborts;
 *   2. fence the new shard (`arriving`), so nothing writes the copy before the switch, and the new
 *      shard's lifecycle watermark stops (worker/tick/state.ts); the move waits for a later pass when
 *      that watermark is already past the old shard's, since the moments between the two would then
 *      be scanned for this customer on neither shard;
 *   3. copy every row (one batch on the new shard);
 *   4. verify: per table, the same row count and digest on both sides, else undo 2–3 and 1;
 *   5. switch: record the placement on the control database, then lift the new shard's fence;
 *   6. clean up the old shard in one batch: delete the rows, keep the fence as a `moved` tombstone, so
 *      a late writer routed there by a stale read still fails with `customer_moving` and retries.
 */
import type { Shard } from "../db/shards";
import { copyCustomerRows, deleteCustomerRows, differingTables, digestRows, readCustomerRows } from "./copy";
import { closeFence, type FenceRefusal, fenceArriving, fenceLeaving, openFence } from "./fences";
import { CUSTOMER_TABLES } from "./tables";

/** A customer to move, and between which shards. */
export interface Move {
  /** The control database, which records the switch. */
  readonly control: D1Database;
  readonly customerId: string;
  readonly from: Shard;
  readonly to: Shard;
}

/** Why a customer was left where it is for now (a later call tries again). */
export type SkipReason = FenceRefusal | "already_on_new_shard" | "verify_failed" | "lifecycle_behind";

/** What one move did. */
export type MoveOutcome =
  | { readonly kind: "moved"; readonly rows: number }
  | { readonly kind: "skipped"; readonly reason: SkipReason; readonly tables?: string[] };

/** Moves one customer: steps 1 to 6, or from wherever a previous run stopped. */
export async function moveCustomer(move: Move, now: number): Promise<MoveOutcome> {
  if (await isSwitched(move)) {
    await finishMove(move, now);
    return { kind: "moved", rows: 0 };
  }
  const fenced = await fenceOld(move, now);
  if (fenced) return fenced;
  if (!(await fenceArriving(move.to.db, move.customerId, move.from.index, now))) {
    await unfenceOld(move);
    return { kind: "skipped", reason: "already_on_new_shard" };
  }
  if (await lifecycleAhead(move)) {
    await abandonCopy(move);
    return { kind: "skipped", reason: "lifecycle_behind" };
  }
  const copied = await copyAndVerify(move);
  if (copied.kind === "skipped") return copied;
  await switchPlacement(move, now);
  await finishMove(move, now);
  return copied;
}

/** Step 1. Answers a skip when the fence was refused, or null once the customer is fenced. */
export async function fenceOld(move: Move, now: number): Promise<MoveOutcome | null> {
  const fence = await fenceLeaving(move.from.db, move.customerId, move.to.index, now);
  if (fence.refusal) return { kind: "skipped", reason: fence.refusal };
  return null;
}

/** Steps 3 and 4: copy, read back, compare; on a difference undo the copy and both fences. */
export async function copyAndVerify(move: Move): Promise<MoveOutcome> {
  const rows = await readCustomerRows(move.from.db, move.customerId);
  await copyCustomerRows(move.to.db, move.customerId, rows);
  const copy = await readCustomerRows(move.to.db, move.customerId);
  const differing = differingTables(await digestRows(rows), await digestRows(copy));
  if (differing.length > 0) {
    await abandonCopy(move);
    return { kind: "skipped", reason: "verify_failed", tables: differing };
  }
  let count = 0;
  for (const tableRows of rows.values()) count += tableRows.length;
  return { kind: "moved", rows: count };
}

/** Step 5, first half: the control database records the customer on its new shard. */
export async function switchPlacement(move: Move, now: number): Promise<void> {
  await move.control
    .prepare(
      `INSERT INTO customer_placements (customer_id, shard, moved_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (customer_id) DO UPDATE SET shard = excluded.shard, moved_at = excluded.moved_at`,
    )
    .bind(move.customerId, move.to.index, now)
    .run();
}

/** Step 5, second half, and step 6: lift the new shard's fence, clear the old shard. */
export async function finishMove(move: Move, now: number): Promise<void> {
  await move.to.db
    .prepare("DELETE FROM customer_fences WHERE customer_id = ?1 AND state = 'arriving'")
    .bind(move.customerId)
    .run();
  const db = move.from.db;
  await db.batch([
    db
      .prepare(
        `UPDATE customer_fences SET state = 'moved', writable = 1, updated_at = ?2
         WHERE customer_id = ?1 AND state IN ('leaving', 'moved')`,
      )
      .bind(move.customerId, now),
    ...(await deleteCustomerRows(db, move.customerId, "moved")),
    closeFence(db, move.customerId),
  ]);
}

export async function isSwitched(move: Move): Promise<boolean> {
  const row = await move.control
    .prepare("SELECT shard FROM customer_placements WHERE customer_id = ?1")
    .bind(move.customerId)
    .first<{ shard: number }>();
  return row?.shard === move.to.index;
}

/**
 * Whether the new shard's lifecycle scans have got further than the old shard's. Read once the new
 * shard's fence stops its watermark, so the answer holds until the switch: the old shard's own scans
 * covered the customer up to its watermark, and the new shard's next scan starts at its own.
 */
async function lifecycleAhead(move: Move): Promise<boolean> {
  const read = (db: D1Database) =>
    db
      .prepare("SELECT value FROM tick_state WHERE key = 'lifecycle'")
      .first<{ value: number }>()
      .then((row) => row?.value ?? null);
  const [old, fresh] = await Promise.all([read(move.from.db), read(move.to.db)]);
  return fresh !== null && (old === null || fresh > old);
}

/** Removes the copy and the new shard's fence, then the old shard's fence: as if never started. */
async function abandonCopy(move: Move): Promise<void> {
  const db = move.to.db;
  await db.batch([
    openFence(db, move.customerId, "arriving"),
    ...(await deleteCustomerRows(db, move.customerId, "arriving")),
    db
      .prepare("DELETE FROM customer_fences WHERE customer_id = ?1 AND state = 'arriving'")
      .bind(move.customerId),
  ]);
  await unfenceOld(move);
}

async function unfenceOld(move: Move): Promise<void> {
  await move.from.db
    .prepare("DELETE FROM customer_fences WHERE customer_id = ?1 AND state = 'leaving'")
    .bind(move.customerId)
    .run();
}

/** The per-customer tables a move carries (for reports and tests). */
export const MOVED_TABLES: readonly string[] = CUSTOMER_TABLES.map((table) => table.name);
