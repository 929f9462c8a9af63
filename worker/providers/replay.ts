/**
 * Replaying held deliveries (held.ts): each held raw body is mapped again under the CURRENT rules
 * and written through ingest as a delivery would be. The Rebound event ids come from the provider's
 * event id, so a replay of what is already stored is a duplicate and replaying twice changes
 * nothing. A delivery that now stores (or is a duplicate, ignored, erased or sealed) leaves the hold;
 * one that still maps to nothing stays, with the new outcome and details. Bounded per call; a replay
 * is not a delivery and is not counted in `provider_event_counts`.
 *
 * On a sharded deployment each held delivery is replayed on the shard that holds it, its customer's.
 *
 * Stage: `POST /v1/admin/provider-events/replay`; calls the mappings (mappers.ts), ingest
 * (ingest-provider-event.ts) and the hold.
 */
import type { Ruleset } from "../../dsl";
import { addCosts, mergePages, readEveryShard, type ShardCost } from "../db/shard-reads";
import type { Env } from "../env";
import { ApiError, type ErrorDetail } from "../errors";
import {
  countHeld,
  customerOf,
  encodeCursor,
  type HeldPosition,
  type HeldRow,
  holdStatement,
  isHeldOutcome,
  positionOf,
  readHeld,
  releaseStatement,
} from "./held";
import { providerRules, writeMapped } from "./ingest-provider-event";
import { MAPPERS } from "./mappers";
import type { Mapped, Outcome, Provider } from "./mapping";

export interface ReplayRequest {
  provider: Provider | null;
  /** Start after this position (a previous call's `next_cursor`); null: from the oldest. */
  after: HeldPosition | null;
  limit: number;
}

export interface ReplayReport {
  /** Held deliveries mapped and ingested again by this call. */
  replayed: number;
  /** How many came to each outcome (only the outcomes that occurred). */
  outcomes: Partial<Record<Outcome, number>>;
  /** Left the hold: stored now, or nothing left to store. */
  released: number;
  /** Still held, with their new outcome and details. */
  still_held: number;
  /** Where the next call starts; null when this call reached the end. */
  next_cursor: string | null;
  /** Held deliveries after this call's last one, not looked at yet. */
  remaining: number;
  /** Deliveries held now (of the provider asked for, or all). */
  held: number;
}

/** Replays up to `request.limit` held deliveries, oldest first, at `now` (their `received_at`). */
export async function replayHeld(
  db: D1Database,
  ruleset: Ruleset,
  request: ReplayRequest,
  now: number,
): Promise<ReplayReport> {
  const rows = await readHeld(db, request.provider, request.after, request.limit, true);
  const settled = await replayRows(db, ruleset, rows, now);
  const last = rows.at(-1);
  const after = last ? positionOf(last) : request.after;
  const [remaining, held] = await Promise.all([
    last ? countHeld(db, request.provider, after) : Promise.resolve(0),
    countHeld(db, request.provider),
  ]);
  return reportOf(rows.length, settled, after, remaining, held);
}

/**
 * Replays up to `request.limit` held deliveries across every shard, oldest first: each shard offers
 * its first `limit` after the cursor, the first `limit` of their union (worker/db/shard-reads.ts) are
 * replayed each on the shard that holds it (its customer's), and the cursor is the last one's
 * position, which every shard pages from on the next call.
 */
export async function replayHeldAcrossShards(
  env: Env,
  ruleset: Ruleset,
  request: ReplayRequest,
  now: number,
): Promise<ReplayReport & { meta: ShardCost }> {
  // Positions first, without the raw bodies (up to 1 MiB each): only the chosen ones are read whole.
  const offered = await readEveryShard(env, async (db, shard) => {
    const rows = await readHeld(db, request.provider, request.after, request.limit, false);
    return { rows: rows.map((row) => ({ row, shard })), more: false };
  });
  const page = mergePages(offered.values, request.limit, ({ row }) => heldKey(row), "asc").rows;
  const settled = await readEveryShard(env, async (db, shard) => {
    // A shard's part of the page is the first rows it offered: read those again, bodies included.
    const chosen = page.filter((entry) => entry.shard.index === shard.index).length;
    const rows = chosen === 0 ? [] : await readHeld(db, request.provider, request.after, chosen, true);
    return replayRows(db, ruleset, rows, now);
  });
  const last = page.at(-1);
  const after = last ? positionOf(last.row) : request.after;
  const counted = await readEveryShard(env, async (db) => ({
    remaining: last ? await countHeld(db, request.provider, after) : 0,
    held: await countHeld(db, request.provider),
  }));
  const sum = (pick: (value: { remaining: number; held: number }) => number) =>
    counted.values.reduce((total, value) => total + pick(value), 0);
  const outcomes: Partial<Record<Outcome, number>> = {};
  let released = 0;
  for (const value of settled.values) {
    released += value.released;
    for (const [outcome, count] of Object.entries(value.outcomes) as [Outcome, number][])
      outcomes[outcome] = (outcomes[outcome] ?? 0) + count;
  }
  const report = reportOf(
    page.length,
    { outcomes, released },
    after,
    sum((v) => v.remaining),
    sum((v) => v.held),
  );
  return {
    ...report,
    meta: addCosts(addCosts(offered.cost, settled.cost), counted.cost),
  };
}

/** The keyset key of a held delivery: its position, oldest first. */
function heldKey(row: HeldRow): [number, string, string] {
  return [row.received_at, row.provider, row.provider_event_id];
}

function reportOf(
  replayed: number,
  settled: { outcomes: Partial<Record<Outcome, number>>; released: number },
  after: HeldPosition | null,
  remaining: number,
  held: number,
): ReplayReport {
  return {
    replayed,
    outcomes: settled.outcomes,
    released: settled.released,
    still_held: replayed - settled.released,
    next_cursor: remaining > 0 && after ? encodeCursor(after) : null,
    remaining,
    held,
  };
}

/** Maps `rows` (held on `db`) again, ingests them into `db` and settles each: released or held anew. */
async function replayRows(
  db: D1Database,
  ruleset: Ruleset,
  rows: readonly HeldRow[],
  now: number,
): Promise<{ outcomes: Partial<Record<Outcome, number>>; released: number }> {
  const rules = providerRules(ruleset);
  const outcomes: Partial<Record<Outcome, number>> = {};
  const settle: D1PreparedStatement[] = [];
  let released = 0;
  for (const row of rows) {
    let mapped: Mapped;
    let outcome: Outcome;
    let details: ErrorDetail[];
    try {
      mapped = MAPPERS[row.provider](JSON.parse(row.payload), rules.mapping, rules.reasons);
      ({ outcome, details } = await writeMapped(db, mapped, ruleset, now));
    } catch (error) {
      // A payload that was read once reads the same way: only a changed mapping could refuse it.
      if (!(error instanceof ApiError)) throw error;
      mapped = { providerEventId: row.provider_event_id, providerType: row.event_type, events: [] };
      outcome = "rejected";
      details = error.details.length > 0 ? [...error.details] : [{ path: "", message: error.message }];
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (isHeldOutcome(outcome)) {
      settle.push(
        await holdStatement(db, {
          provider: row.provider,
          mapped,
          customerId: customerOf(mapped) ?? row.customer_id,
          outcome,
          details,
          payload: row.payload,
          at: now,
        }),
      );
    } else {
      released++;
      settle.push(releaseStatement(db, row.provider, row.provider_event_id));
    }
  }
  if (settle.length > 0) await db.batch(settle);
  return { outcomes, released };
}
