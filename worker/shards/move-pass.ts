/**
 * One call of the move tool: walks the old shards' customers in id order from a cursor, moves each
 * one the growth places elsewhere (worker/shards/move-customer.ts), and stops after `limit` customers
 * or before the call's statements could pass D1's 1,000 per invocation. The answer says what moved,
 * what was skipped and why (a later pass tries those again), and where the next call goes on. A pass
 * is the calls from no cursor to `next_cursor: null`; the first call of each pass installs the fence
 * triggers on the shards it involves (worker/shards/fence-triggers.ts) before it fences anyone, and
 * copies the API keys and the erasures to the new shards (worker/auth/key-copies.ts,
 * worker/shards/erasures.ts); the last one counts what remains.
 */
import { copyKeysToShard } from "../auth/key-copies";
import type { Shard } from "../db/shards";
import type { Env } from "../env";
import { copyErasures } from "./erasures";
import { installFenceTriggers } from "./fence-triggers";
import { type MoveOutcome, moveCustomer, type SkipReason } from "./move-customer";
import { countingShards, countToMove, destination, type Growth, MOVE_LIMITS, queriesIssued } from "./plan";

/** Where a pass has got to: the old shard being walked and the last customer id handled on it. */
export interface MoveCursor {
  readonly shard: number;
  readonly after: string;
}

/** A customer the call moved. */
export interface MovedCustomer {
  readonly customer_id: string;
  readonly from: number;
  readonly to: number;
  /** Rows copied (0 when a previous call had copied and switched it, and this one finished it). */
  readonly rows: number;
}

/** A customer the call left where it is. */
export interface SkippedCustomer {
  readonly customer_id: string;
  readonly from: number;
  readonly to: number;
  readonly reason: SkipReason;
}

/** The answer of one call. */
export interface MovePassReport {
  readonly from: number;
  readonly count: number;
  readonly moved: MovedCustomer[];
  readonly skipped: SkippedCustomer[];
  /** Customer ids read while looking for customers to move. */
  readonly scanned: number;
  readonly erasures_copied: number;
  readonly next_cursor: MoveCursor | null;
  /** At the end of a pass: customers still on a shard their slot has left (null if not counted). */
  readonly remaining: number | null;
  /** D1 statements the call issued. */
  readonly queries: number;
}

/** Runs one call of a pass. `now` is the request's time (fences and placements record it). */
export async function movePass(
  env: Env,
  growth: Growth,
  options: { limit: number; cursor: MoveCursor | null; now: number; shard?: number },
): Promise<MovePassReport> {
  const shards = countingShards(env);
  const control = shards[0]?.db ?? env.DB;
  const moved: MovedCustomer[] = [];
  const skipped: SkippedCustomer[] = [];
  let erasuresCopied = 0;
  if (options.cursor === null) {
    // Before any customer of this pass is fenced: the shards it involves get the fence triggers.
    await installTriggersOn(involvedShards(shards, growth, options.shard));
    // Before any customer of this pass is switched: the new shards get every key (a per-customer
    // route checks its key on the customer's shard) and every erasure of the old shards.
    for (const shard of shards.filter((s) => s.index >= growth.from)) await copyKeysToShard(env, shard.db);
    erasuresCopied = await copyErasures(shards, growth.from);
  }
  // With `shard`, the pass walks that old shard only (several passes can then run side by side).
  const only = options.shard;
  let position: MoveCursor | null = options.cursor ?? { shard: only ?? 0, after: "" };
  let scanned = 0;
  const handled = () => moved.length + skipped.length;
  const affordable = () =>
    queriesIssued(shards) + MOVE_LIMITS.queriesPerCustomer + 1 <= MOVE_LIMITS.queriesPerCall;

  walk: while (position !== null && handled() < options.limit && affordable()) {
    const source: Shard | undefined = shards[position.shard];
    if (!source || position.shard >= growth.from || (only !== undefined && position.shard !== only)) {
      position = null;
      break;
    }
    const page: D1Result<{ id: string }> = await source.db
      .prepare("SELECT id FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2")
      .bind(position.after, MOVE_LIMITS.scanPageSize)
      .all<{ id: string }>();
    for (const { id } of page.results) {
      if (handled() >= options.limit || !affordable()) break walk;
      scanned += 1;
      position = { shard: position.shard, after: id };
      const to = destination(id, source.index, growth);
      if (to === null) continue;
      const target = shards[to] as Shard;
      const outcome = await moveCustomer({ control, customerId: id, from: source, to: target }, options.now);
      record(outcome, { customer_id: id, from: source.index, to }, moved, skipped);
    }
    if (page.results.length < MOVE_LIMITS.scanPageSize)
      position =
        only === undefined && position.shard + 1 < growth.from
          ? { shard: position.shard + 1, after: "" }
          : null;
  }
  const remaining =
    position === null
      ? await countToMove(
          shards.filter((s) => only === undefined || s.index === only),
          growth,
        )
      : null;
  return {
    from: growth.from,
    count: growth.count,
    moved,
    skipped,
    scanned,
    erasures_copied: erasuresCopied,
    next_cursor: position,
    remaining,
    queries: queriesIssued(shards),
  };
}

/** The old shards a pass walks (all, or `only`) and every new shard. */
function involvedShards(shards: readonly Shard[], growth: Growth, only: number | undefined): Shard[] {
  return shards.filter((s) => s.index >= growth.from || only === undefined || s.index === only);
}

/**
 * Installs the fence triggers (worker/shards/fence-triggers.ts) on each shard, one batch per shard,
 * at the start of every pass: idempotent, and it puts them back after a finish that came too early.
 * Safe against writes running meanwhile: each shard runs one statement at a time, so a write that
 * starts after its batch committed sees the triggers, and the pass fences a customer only after
 * that, in a later statement. A write that committed before the fence is simply copied.
 */
async function installTriggersOn(shards: readonly Shard[]): Promise<void> {
  await Promise.all(shards.map((shard) => installFenceTriggers(shard.db)));
}

function record(
  outcome: MoveOutcome,
  customer: { customer_id: string; from: number; to: number },
  moved: MovedCustomer[],
  skipped: SkippedCustomer[],
): void {
  if (outcome.kind === "moved") moved.push({ ...customer, rows: outcome.rows });
  else skipped.push({ ...customer, reason: outcome.reason });
}

/** The text form of a cursor (for the API). */
export function encodeMoveCursor(cursor: MoveCursor): string {
  const json = JSON.stringify([cursor.shard, cursor.after]);
  let binary = "";
  for (const byte of new TextEncoder().encode(json)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The cursor of a text `encodeMoveCursor` made, or null when it is not one. */
export function decodeMoveCursor(text: string): MoveCursor | null {
  if (!/^[A-Za-z0-9_-]{1,8000}$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    const value: unknown = JSON.parse(json);
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isInteger(value[0]) &&
      typeof value[1] === "string"
    )
      return { shard: value[0] as number, after: value[1] };
  } catch {
    // Not base64url JSON: not a cursor.
  }
  return null;
}
