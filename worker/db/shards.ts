/**
 * Where a customer's data lives: one of N D1 databases (docs/scaling.md).
 *
 * - A customer id hashes to one of `SLOT_COUNT` slots (FNV-1a over its UTF-8 bytes, then a 32-bit
 *   finaliser, modulo 4096). The slot is written into the customer's decision and send ids
 *   (worker/ids.ts), so a route that is given only such an id finds the shard without asking.
 * - A slot maps to a shard by jump consistent hashing (Lamping and Veach, 2014) over the shard count.
 *   Growing from N to M shards moves only the slots jump(slot, M) gives to the new shards, about
 *   (M − N) / M of them, and never between two old shards.
 * - Shard 0 is the binding `DB`; shard i ≥ 1 is `DB_<i>`. `SHARDS` (a var, default 1) says how many
 *   customers are placed on. Shard 0 is also the control database: API keys (copied to every shard,
 *   so a per-customer route reads its key where it reads its customer), the scheduler's watermark,
 *   and during a growth the directory of customers already moved.
 * - While shards are added, `SHARDS_FROM` holds the old count. A customer whose slot the new count
 *   places elsewhere stays where the old count placed it until the move tool (worker/shards/) has
 *   copied, verified and switched it; `customer_placements` on the control database records the
 *   switch, and is read only for those customers and only while `SHARDS_FROM` is set.
 */
import type { Env } from "../env";
import { ApiError } from "../errors";
import { customerSlot, shardBinding, shardOfSlot } from "./placement";

export { customerSlot, jumpHash, placedShard, SLOT_COUNT, shardBinding, shardOfSlot } from "./placement";

/** The most shards one deployment can bind (DB, DB_1 … DB_63). */
export const MAX_SHARDS = 64;

/** One customer database. */
export interface Shard {
  /** 0 for `DB` (also the control database), i for `DB_<i>`. */
  readonly index: number;
  readonly db: D1Database;
}

/** How many shards customers are placed on, and during a growth how many they were placed on. */
export interface ShardPlan {
  readonly count: number;
  /** The count before the growth in progress, or null when no customers are moving. */
  readonly from: number | null;
}

/**
 * The deployment's shard counts from `SHARDS` and `SHARDS_FROM`.
 *
 * @throws Error when a count is not a whole number from 1 to MAX_SHARDS, or when `SHARDS_FROM` is not
 * below `SHARDS` (a misconfigured deployment must not place a customer anywhere)
 */
export function shardPlan(env: Pick<Env, "SHARDS" | "SHARDS_FROM">): ShardPlan {
  const count = parseCount("SHARDS", env.SHARDS ?? "1");
  const fromText = env.SHARDS_FROM?.trim();
  if (fromText === undefined || fromText === "") return { count, from: null };
  const from = parseCount("SHARDS_FROM", fromText);
  if (from >= count)
    throw new Error(
      `SHARDS_FROM (${from}) must be below SHARDS (${count}): it is the count before the growth`,
    );
  return { count, from };
}

function parseCount(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_SHARDS)
    throw new Error(`${name} must be a whole number from 1 to ${MAX_SHARDS}, not ${JSON.stringify(text)}`);
  return value;
}

/**
 * Every shard customers are placed on, in index order.
 *
 * @throws Error naming the missing binding when `SHARDS` counts more databases than wrangler.toml binds
 */
export function allShards(env: Env): Shard[] {
  const { count } = shardPlan(env);
  const shards: Shard[] = [];
  for (let index = 0; index < count; index += 1) shards.push({ index, db: shardDatabase(env, index) });
  return shards;
}

/** The database of shard `index`. */
export function shardDatabase(env: Env, index: number): D1Database {
  const db = (env as unknown as Record<string, D1Database | undefined>)[shardBinding(index)];
  if (!db)
    throw new Error(
      `SHARDS is ${env.SHARDS ?? "1"} but no D1 database is bound as ${shardBinding(index)} (wrangler.toml [[d1_databases]])`,
    );
  return db;
}

/** The control database: shard 0 (`DB`). */
export function controlDatabase(env: Env): D1Database {
  return env.DB;
}

/** Whether customers live on more than one database. */
export function isSharded(env: Env): boolean {
  return shardPlan(env).count > 1;
}

/**
 * The shard that holds a customer now. Without a growth in progress this is pure arithmetic. During
 * one, a customer whose slot moves is looked up in `customer_placements` (one seek on the control
 * database): moved customers are on their new shard, the others still on their old one.
 */
export async function customerShard(env: Env, customerId: string): Promise<Shard> {
  return (await customerShards(env, [customerId])).get(customerId) as Shard;
}

/**
 * Where a row found by an id that carries this slot (a decision, a send) can be: its shard, or during
 * a growth that moves the slot its new shard then its old one. A move fences the customer's rows on
 * both sides until it switches, so whichever holds the row answers for it.
 */
export function slotShards(env: Env, slot: number): Shard[] {
  const plan = shardPlan(env);
  const to = shardOfSlot(slot, plan.count);
  const indexes = [to];
  if (plan.from !== null) {
    const was = shardOfSlot(slot, plan.from);
    if (was !== to) indexes.push(was);
  }
  return indexes.map((index) => ({ index, db: shardDatabase(env, index) }));
}

/**
 * Where a row found by a decision or send id can be, in the order to ask: the shard(s) of the slot the
 * id carries (`slotShards`), then, on a sharded deployment, every other shard, for ids made before
 * sharding (their slot digits are random). With one database: that database.
 */
export function idShards(env: Env, slot: number): Shard[] {
  const likely = Number.isInteger(slot) ? slotShards(env, slot) : [];
  if (!isSharded(env) && likely.length > 0) return likely;
  const asked = new Set(likely.map((shard) => shard.index));
  return [...likely, ...allShards(env).filter((shard) => !asked.has(shard.index))];
}

/**
 * The shard of each of many customers. During a growth the moving ones are looked up in the
 * directory with one statement (their ids as one bound JSON array), not one each.
 */
export async function customerShards(env: Env, customerIds: Iterable<string>): Promise<Map<string, Shard>> {
  const plan = shardPlan(env);
  const indexes = new Map<string, number>();
  const moving = new Map<string, number>();
  for (const customerId of customerIds) {
    if (indexes.has(customerId) || moving.has(customerId)) continue;
    const slot = customerSlot(customerId);
    const to = shardOfSlot(slot, plan.count);
    const was = plan.from === null ? to : shardOfSlot(slot, plan.from);
    if (was === to) indexes.set(customerId, to);
    else moving.set(customerId, was);
  }
  if (moving.size > 0) {
    const { results } = await controlDatabase(env)
      .prepare(
        "SELECT customer_id, shard FROM customer_placements WHERE customer_id IN (SELECT value FROM json_each(?1))",
      )
      .bind(JSON.stringify([...moving.keys()]))
      .all<{ customer_id: string; shard: number }>();
    const placed = new Map(results.map((row) => [row.customer_id, row.shard]));
    for (const [customerId, was] of moving) indexes.set(customerId, placed.get(customerId) ?? was);
  }
  const shards = new Map<string, Shard>();
  for (const [customerId, index] of indexes) shards.set(customerId, { index, db: shardDatabase(env, index) });
  return shards;
}

/**
 * Groups items by the shard of their customer, keeping each group in the items' order.
 *
 * @example await groupByShard(env, events, (event) => event.customer_id)
 */
export async function groupByShard<T>(
  env: Env,
  items: readonly T[],
  customerOf: (item: T) => string,
): Promise<Map<number, { shard: Shard; items: T[] }>> {
  const shards = await customerShards(env, items.map(customerOf));
  const groups = new Map<number, { shard: Shard; items: T[] }>();
  for (const item of items) {
    const shard = shards.get(customerOf(item)) as Shard;
    const group = groups.get(shard.index);
    if (group) group.items.push(item);
    else groups.set(shard.index, { shard, items: [item] });
  }
  return groups;
}

/** The error a write answers when it raced a move of its customer: retry, and it lands on the new shard. */
export function customerMovingError(): ApiError {
  return new ApiError(
    503,
    "customer_moving",
    "This customer is being moved to another database; retry in a few seconds.",
  );
}

/**
 * `error` as the API answers it when it is a fence trigger's abort (worker/shards/fence-triggers.ts
 * raises `customer_moving` while the customer is copied to another shard): the 503 above. Any other
 * error comes back unchanged.
 */
export function asCustomerMoving(error: unknown): unknown {
  if (error instanceof ApiError) return error;
  const message = String((error as Error | undefined)?.message ?? error);
  return message.includes("customer_moving") ? customerMovingError() : error;
}
