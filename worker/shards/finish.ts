/**
 * Finishing a growth (docs/scaling.md, "Adding shards", step 5): once `SHARDS_FROM` is removed and
 * that deploy has rolled out everywhere, nothing routes a moved customer to its old shard any more,
 * so what the move tool left behind only costs: the fence triggers (a probe of `customer_fences` per
 * written row, worker/shards/fence-triggers.ts), the `moved` tombstones, and the control database's
 * `customer_placements` (read only during a growth, and wrong for the next one). This drops them,
 * shard by shard, each shard in one batch.
 *
 * It refuses while `SHARDS_FROM` is set, and while any shard holds a `leaving` or `arriving` fence (a
 * move under way, or one that stopped mid-way: run the move tool again first). Dropping the
 * triggers then would let writes through to a customer being copied. A call stops before passing
 * `MOVE_LIMITS.queriesPerCall` statements and answers the shard the next call starts at.
 */
import { type Shard, shardBinding, shardPlan } from "../db/shards";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { countFenceTriggers, dropFenceTriggerStatements, FENCE_TRIGGERS } from "./fence-triggers";
import { countingShards, MOVE_LIMITS, queriesIssued } from "./plan";

/** What the finish removed from one shard. */
export interface FinishedShard {
  readonly index: number;
  readonly binding: string;
  /** Fence triggers dropped (30 on a shard a growth involved, else 0). */
  readonly fence_triggers: number;
  /** `moved` tombstones deleted. */
  readonly tombstones: number;
  /** `customer_placements` rows deleted (the control database, shard 0, only). */
  readonly placements: number;
}

/** The answer of one finish call. */
export interface FinishReport {
  readonly shards: FinishedShard[];
  /** The shard the next call starts at (`shard` in the request), or null when every shard is done. */
  readonly next_shard: number | null;
  readonly queries: number;
}

/** Statements one shard's finish issues: the count of its triggers, the drops, the tombstones, the placements. */
const STATEMENTS_PER_SHARD = FENCE_TRIGGERS.length + 3;

/**
 * Finishes the shards from index `start` on, as many as one call affords.
 *
 * @throws ApiError 409 `growth_in_progress` while `SHARDS_FROM` is set or a move is under way
 */
export async function finishGrowth(env: Env, start = 0): Promise<FinishReport> {
  if (shardPlan(env).from !== null)
    throw new ApiError(
      409,
      "growth_in_progress",
      "A growth is in progress (SHARDS_FROM is set): finish after the deploy that removes SHARDS_FROM has rolled out everywhere.",
    );
  const shards = countingShards(env);
  const moving = await shardsWithMovesUnderWay(shards);
  if (moving.length > 0)
    throw new ApiError(
      409,
      "growth_in_progress",
      `A move is under way on shard ${moving.join(", ")} (a 'leaving' or 'arriving' fence): run the move tool again until it ends, then finish.`,
    );
  const finished: FinishedShard[] = [];
  let next: number | null = null;
  for (const shard of shards.filter((s) => s.index >= start)) {
    if (queriesIssued(shards) + STATEMENTS_PER_SHARD > MOVE_LIMITS.queriesPerCall) {
      next = shard.index;
      break;
    }
    finished.push(await finishShard(shard));
  }
  return { shards: finished, next_shard: next, queries: queriesIssued(shards) };
}

/** The indexes of shards holding a fence of a move not yet finished. */
async function shardsWithMovesUnderWay(shards: readonly Shard[]): Promise<number[]> {
  const found = await Promise.all(
    shards.map((shard) =>
      shard.db
        .prepare("SELECT 1 AS yes FROM customer_fences WHERE state IN ('leaving', 'arriving') LIMIT 1")
        .first<{ yes: number }>(),
    ),
  );
  return shards.filter((_, i) => found[i] !== null).map((shard) => shard.index);
}

/** One shard, in one batch: its triggers, its tombstones and, on the control database, the placements. */
async function finishShard(shard: Shard): Promise<FinishedShard> {
  const db = shard.db;
  const isControl = shard.index === 0;
  const tombstonesAt = FENCE_TRIGGERS.length + 1;
  const results = await db.batch([
    countFenceTriggers(db),
    ...dropFenceTriggerStatements(db),
    db.prepare("DELETE FROM customer_fences WHERE state = 'moved'"),
    ...(isControl ? [db.prepare("DELETE FROM customer_placements")] : []),
  ]);
  const triggers = (results[0]?.results[0] as { n: number } | undefined)?.n ?? 0;
  const tombstones = results[tombstonesAt]?.meta.changes ?? 0;
  const placements = isControl ? (results[tombstonesAt + 1]?.meta.changes ?? 0) : 0;
  return {
    index: shard.index,
    binding: shardBinding(shard.index),
    fence_triggers: triggers,
    tombstones,
    placements,
  };
}
