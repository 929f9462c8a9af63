/**
 * Where the decision API finds a decision's database (worker/db/shards.ts): a decision id carries its
 * customer's slot (worker/ids.ts), so a lookup by id asks the slot's shard first, and during a growth
 * its old shard too. Ids made before sharding carry random digits there: when those shards do not
 * hold the id, the other shards are asked in turn (a miss costs one seek per shard; with one
 * database there is only the one).
 */
import { allShards, isSharded, type Shard, slotShards } from "../db/shards";
import type { Env } from "../env";
import { idSlot } from "../ids";

/**
 * The shards that may hold the decision `decisionId`, in the order to ask them: the slot's shards,
 * then (sharded deployments only) every other one, for ids made before sharding.
 */
export function decisionShards(env: Env, decisionId: string): Shard[] {
  const placed = slotShards(env, idSlot(decisionId));
  if (!isSharded(env)) return placed;
  const asked = new Set(placed.map((shard) => shard.index));
  return [...placed, ...allShards(env).filter((shard) => !asked.has(shard.index))];
}
