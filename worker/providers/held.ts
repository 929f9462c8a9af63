/**
 * Held deliveries (`provider_held_events`, migrations/0009): a provider event Rebound could not store
 * (an unmapped plan or reason, or mapped events ingest refused) is kept with its verified raw body
 * instead of being lost, keyed by (provider, provider event id) so a redelivery updates the one row.
 * A later delivery or replay that stores it (or finds nothing to store) releases it.
 *
 * Only a delivery that names its customer is held, and never one of an erased customer: every row
 * belongs to a customer, so the customer's export shows it and erasure deletes it
 * (worker/privacy/customer-data.ts).
 *
 * Stage: the end of a provider webhook (ingest-provider-event.ts) and of a replay (replay.ts); read
 * by the admin routes.
 */
import { customerKey } from "../customer-key";
import type { ErrorDetail } from "../errors";
import type { Mapped, Outcome, Provider } from "./mapping";

/** The outcomes whose delivery is held. */
export const HELD_OUTCOMES = ["unmapped_plan", "unmapped_reason", "rejected"] as const;
export type HeldOutcome = (typeof HELD_OUTCOMES)[number];

export function isHeldOutcome(outcome: Outcome): outcome is HeldOutcome {
  return (HELD_OUTCOMES as readonly string[]).includes(outcome);
}

export const HELD_LIMITS = Object.freeze({
  /** Held deliveries one replay call maps and ingests again (each is one ingest, a few D1 queries). */
  replayDefault: 50,
  replayMax: 100,
  /** Page sizes of `GET /v1/admin/provider-events/held`. */
  defaultPageSize: 50,
  maxPageSize: 200,
});

/** The customer a mapped delivery is about, or null when it names none. */
export function customerOf(mapped: Mapped): string | null {
  return mapped.events[0]?.customer_id ?? mapped.customerId ?? null;
}

const HOLD_SQL = `
INSERT INTO provider_held_events
  (provider, provider_event_id, event_type, customer_id, outcome, details, payload, received_at, last_attempt_at, attempts)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1
WHERE NOT EXISTS (SELECT 1 FROM erasures WHERE customer_key = ?9)
ON CONFLICT (provider, provider_event_id) DO UPDATE SET
  event_type = excluded.event_type,
  customer_id = excluded.customer_id,
  outcome = excluded.outcome,
  details = excluded.details,
  payload = excluded.payload,
  last_attempt_at = max(last_attempt_at, excluded.last_attempt_at),
  attempts = attempts + 1`;

/** What to hold of one delivery. */
export interface Holding {
  provider: Provider;
  mapped: Mapped;
  customerId: string;
  outcome: HeldOutcome;
  details: readonly ErrorDetail[];
  /** The verified raw body, UTF-8 JSON. */
  payload: string;
  at: number;
}

/**
 * The statement that holds a delivery (or refreshes its row: outcome, details, attempts), unless its
 * customer was erased, in which case it changes nothing (`meta.changes` 0). One statement, so an
 * erasure either lands first and the row is never written, or after and deletes it.
 */
export async function holdStatement(db: D1Database, holding: Holding): Promise<D1PreparedStatement> {
  return db
    .prepare(HOLD_SQL)
    .bind(
      holding.provider,
      holding.mapped.providerEventId,
      holding.mapped.providerType,
      holding.customerId,
      holding.outcome,
      JSON.stringify(holding.details),
      holding.payload,
      holding.at,
      await customerKey(holding.customerId),
    );
}

/** The statement that releases a delivery from the hold (nothing when it is not held). */
export function releaseStatement(db: D1Database, provider: Provider, providerEventId: string) {
  return db
    .prepare("DELETE FROM provider_held_events WHERE provider = ?1 AND provider_event_id = ?2")
    .bind(provider, providerEventId);
}

/** A position in the held deliveries, oldest first: the keyset of the listing and of replay. */
export interface HeldPosition {
  receivedAt: number;
  provider: string;
  providerEventId: string;
}

/** An opaque cursor for a position (base64url of its JSON). */
export function encodeCursor(position: HeldPosition): string {
  const json = JSON.stringify([position.receivedAt, position.provider, position.providerEventId]);
  let binary = "";
  for (const byte of new TextEncoder().encode(json)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The position of a cursor, or null when it is not one `encodeCursor` made. */
export function decodeCursor(cursor: string): HeldPosition | null {
  if (!/^[A-Za-z0-9_-]{1,8000}$/.test(cursor)) return null;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (char) => char.charCodeAt(0)),
    );
    const value: unknown = JSON.parse(text);
    if (
      Array.isArray(value) &&
      value.length === 3 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === "string" &&
      typeof value[2] === "string"
    ) {
      return { receivedAt: value[0], provider: value[1], providerEventId: value[2] };
    }
  } catch {
    // Not base64 or not JSON: not a cursor.
  }
  return null;
}

/** One held delivery as stored. */
export interface HeldRow {
  provider: Provider;
  provider_event_id: string;
  event_type: string;
  customer_id: string;
  outcome: HeldOutcome;
  details: string;
  payload: string;
  received_at: number;
  last_attempt_at: number;
  attempts: number;
}

const AFTER = `(?1 IS NULL OR provider = ?1)
  AND (?2 IS NULL OR (received_at, provider, provider_event_id) > (?2, ?3, ?4))`;

/** Up to `limit` held deliveries after `after` (oldest first), of one provider or all. */
export async function readHeld(
  db: D1Database,
  provider: Provider | null,
  after: HeldPosition | null,
  limit: number,
  withPayload: boolean,
): Promise<HeldRow[]> {
  const columns = `provider, provider_event_id, event_type, customer_id, outcome, details,
    ${withPayload ? "payload" : "'' AS payload"}, received_at, last_attempt_at, attempts`;
  const { results } = await db
    .prepare(
      `SELECT ${columns} FROM provider_held_events WHERE ${AFTER}
       ORDER BY received_at, provider, provider_event_id LIMIT ?5`,
    )
    .bind(provider, after?.receivedAt ?? null, after?.provider ?? null, after?.providerEventId ?? null, limit)
    .all<HeldRow>();
  return results;
}

/** How many deliveries are held after `after` (all when null), of one provider or all. */
export async function countHeld(
  db: D1Database,
  provider: Provider | null,
  after: HeldPosition | null = null,
): Promise<number> {
  const row = await db
    .prepare(`SELECT count(*) AS n FROM provider_held_events WHERE ${AFTER}`)
    .bind(provider, after?.receivedAt ?? null, after?.provider ?? null, after?.providerEventId ?? null)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** A held delivery as the admin listing answers it: everything but the raw body. */
export function heldView(row: HeldRow) {
  return {
    provider: row.provider,
    provider_event_id: row.provider_event_id,
    event_type: row.event_type,
    customer_id: row.customer_id,
    outcome: row.outcome,
    details: JSON.parse(row.details) as ErrorDetail[],
    received_at: new Date(row.received_at).toISOString(),
    last_attempt_at: new Date(row.last_attempt_at).toISOString(),
    attempts: row.attempts,
  };
}

export function positionOf(row: HeldRow): HeldPosition {
  return { receivedAt: row.received_at, provider: row.provider, providerEventId: row.provider_event_id };
}
