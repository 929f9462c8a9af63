/**
 * The growth in progress, seen from the data: which shards customers are placed on, how many each
 * holds, and which customers still sit on an old shard their slot has left. Finding those reads every
 * customer id of the old shards (the slot is computed here, not in SQL), in pages, so it is bounded:
 * past `MOVE_LIMITS.scanQueries` statements the count is reported as unknown.
 */
import { CountedD1 } from "../db/counted";
import {
  allShards,
  customerSlot,
  type Shard,
  SLOT_COUNT,
  shardBinding,
  shardOfSlot,
  shardPlan,
} from "../db/shards";
import type { Env } from "../env";
import { validationFailed } from "../errors";

/** Limits of the move tool, in one place. */
export const MOVE_LIMITS = Object.freeze({
  /** Customers one move call handles by default, and at most. */
  defaultCustomersPerCall: 10,
  maxCustomersPerCall: 15,
  /** Statements one call may issue: D1 allows 1,000 per invocation; the rest is headroom. */
  queriesPerCall: 850,
  /** Statements reserved for each customer before starting it (a move issues about 50). */
  queriesPerCustomer: 70,
  /** Customer ids read per statement while looking for customers to move. */
  scanPageSize: 500,
  /** Customer ids read per statement by the plan's count. */
  countPageSize: 5_000,
  /** Statements the plan's count may issue before answering "unknown". */
  scanQueries: 400,
});

/** A growth: customers placed on `from` shards move to their place among `count`. */
export interface Growth {
  readonly from: number;
  readonly count: number;
}

/**
 * The growth to work on: `SHARDS_FROM` while it is set, else `from` as the caller gives it (to sweep
 * customers left on an old shard after `SHARDS_FROM` was removed).
 *
 * @throws ApiError 400 `validation_failed` at `/from` when there is neither, or `from` is not below `SHARDS`
 */
export function growthOf(env: Env, from?: number): Growth {
  const plan = shardPlan(env);
  const old = plan.from ?? from ?? null;
  if (old === null)
    throw validationFailed([
      { path: "/from", message: "is required: no growth is in progress (SHARDS_FROM is not set)" },
    ]);
  if (!Number.isInteger(old) || old < 1 || old >= plan.count)
    throw validationFailed([
      { path: "/from", message: `must be a whole number from 1 to ${plan.count - 1}` },
    ]);
  return { from: old, count: plan.count };
}

/** Every shard of the deployment, each through a counting handle (`queriesIssued` sums them). */
export function countingShards(env: Env): Shard[] {
  return allShards(env).map((shard) => ({ index: shard.index, db: new CountedD1(shard.db) }));
}

/** Statements issued so far through the counting handles. */
export function queriesIssued(shards: readonly Shard[]): number {
  return shards.reduce((sum, shard) => sum + (shard.db instanceof CountedD1 ? shard.db.queries : 0), 0);
}

/** Where a customer on old shard `index` belongs under the growth, or null when it stays. */
export function destination(customerId: string, index: number, growth: Growth): number | null {
  const slot = customerSlot(customerId);
  if (shardOfSlot(slot, growth.from) !== index) return null;
  const to = shardOfSlot(slot, growth.count);
  return to === index ? null : to;
}

/** One shard in the plan. */
export interface ShardCount {
  readonly index: number;
  readonly binding: string;
  readonly customers: number;
}

/** The plan: counts per shard and customers still to move (null when the bounded scan ran out). */
export interface GrowthReport {
  readonly count: number;
  readonly from: number | null;
  readonly shards: ShardCount[];
  readonly slots_moving: number;
  readonly to_move: number | null;
  readonly queries: number;
}

/** The deployment's shards and the customers still to move. */
export async function growthReport(env: Env, from?: number): Promise<GrowthReport> {
  const plan = shardPlan(env);
  const shards = countingShards(env);
  const counts: ShardCount[] = await Promise.all(
    shards.map(async (shard) => {
      const row = await shard.db.prepare("SELECT count(*) AS n FROM customers").first<{ n: number }>();
      return { index: shard.index, binding: shardBinding(shard.index), customers: row?.n ?? 0 };
    }),
  );
  const old = plan.from ?? from ?? null;
  if (old === null || old >= plan.count)
    return {
      count: plan.count,
      from: null,
      shards: counts,
      slots_moving: 0,
      to_move: 0,
      queries: queriesIssued(shards),
    };
  const growth = { from: old, count: plan.count };
  const toMove = await countToMove(shards, growth);
  return {
    count: plan.count,
    from: old,
    shards: counts,
    slots_moving: slotsMoving(growth),
    to_move: toMove,
    queries: queriesIssued(shards),
  };
}

/** Slots whose shard differs between the two counts. */
export function slotsMoving(growth: Growth): number {
  let moving = 0;
  for (let slot = 0; slot < SLOT_COUNT; slot += 1)
    if (shardOfSlot(slot, growth.from) !== shardOfSlot(slot, growth.count)) moving += 1;
  return moving;
}

/** Customers on the old shards that the growth places elsewhere, or null past the scan's budget. */
export async function countToMove(shards: readonly Shard[], growth: Growth): Promise<number | null> {
  let found = 0;
  let statements = 0;
  for (const shard of shards.filter((s) => s.index < growth.from)) {
    let after = "";
    for (;;) {
      if (statements >= MOVE_LIMITS.scanQueries) return null;
      statements += 1;
      const page = await shard.db
        .prepare("SELECT id FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2")
        .bind(after, MOVE_LIMITS.countPageSize)
        .all<{ id: string }>();
      for (const { id } of page.results) if (destination(id, shard.index, growth) !== null) found += 1;
      if (page.results.length < MOVE_LIMITS.countPageSize) break;
      after = page.results[page.results.length - 1]?.id ?? after;
    }
  }
  return found;
}
