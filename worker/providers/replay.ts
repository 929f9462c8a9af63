/**
 * Replaying held deliveries (held.ts): each held raw body is mapped again under the CURRENT rules
 * and written through ingest as a delivery would be. The Rebound event ids come from the provider's
 * event id, so a replay of what is already stored is a duplicate and replaying twice changes
 * nothing. A delivery that now stores (or is a duplicate, ignored, erased or sealed) leaves the hold;
 * one that still maps to nothing stays, with the new outcome and details. Bounded per call; a replay
 * is not a delivery and is not counted in `provider_event_counts`.
 *
 * Stage: `POST /v1/admin/provider-events/replay`; calls the mappings (mappers.ts), ingest
 * (ingest-provider-event.ts) and the hold.
 */
import type { Ruleset } from "../../dsl";
import { ApiError, type ErrorDetail } from "../errors";
import {
  countHeld,
  customerOf,
  encodeCursor,
  type HeldPosition,
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
  const last = rows.at(-1);
  const after = last ? positionOf(last) : request.after;
  const [remaining, held] = await Promise.all([
    last ? countHeld(db, request.provider, after) : Promise.resolve(0),
    countHeld(db, request.provider),
  ]);
  return {
    replayed: rows.length,
    outcomes,
    released,
    still_held: rows.length - released,
    next_cursor: remaining > 0 && after ? encodeCursor(after) : null,
    remaining,
    held,
  };
}
