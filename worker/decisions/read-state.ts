/**
 * Decision stage 1 of 3 (read → evaluate → write): everything one decision needs, in ONE D1 round
 * trip (a batch): the profile, the customer's outstanding offer, offer history within the longest cap
 * window, redemptions and cancellations for the anti-abuse guard, and the recent events of the types
 * the rules read. Every statement is an index seek bounded by a LIMIT (worker/decisions/limits.ts).
 */
import type { PastOffer } from "../../dsl/decide";
import type { EventRecord } from "../../dsl/types";
import type { DecisionRuleset } from "./deployed-ruleset";
import { DECISION_LIMITS } from "./limits";
import type { DecisionRow } from "./stored-decision";

/** What the read found for one customer at `now`. */
export interface DecisionState {
  /** The `customers` row with `attributes` parsed; null when no event was ever ingested for them. */
  readonly customer: Record<string, unknown> | null;
  /** The row holding the customer's outstanding offer (it may have expired by `now`). */
  readonly outstanding: DecisionRow | null;
  /** Offers within the history horizon, plus every redeemed offer the anti-abuse guard looks at. */
  readonly offers: readonly PastOffer[];
  readonly cancellations: readonly number[];
  /** Newest first, at most DECISION_LIMITS.maxEvents. */
  readonly events: readonly EventRecord[];
  /** True when the event window held more events than were read. */
  readonly eventsTruncated: boolean;
  readonly rowsRead: number;
}

const CUSTOMER_SQL = "SELECT * FROM customers WHERE id = ?1";

// decisions_one_outstanding: at most one row.
const OUTSTANDING_SQL = "SELECT * FROM decisions WHERE customer_id = ?1 AND status = 'outstanding'";

// decisions_customer_offers (partial: `offer_key IS NOT NULL` must be in the WHERE to use it).
const OFFER_HISTORY_SQL = `
SELECT d.id, d.offer_key, d.created_at, r.redeemed_at FROM decisions d
LEFT JOIN redemptions r ON r.decision_id = d.id
WHERE d.customer_id = ?1 AND d.offer_key IS NOT NULL AND d.created_at > ?2 AND d.created_at <= ?3
ORDER BY d.created_at DESC LIMIT ?4`;

// redemptions_customer_time: older redemptions matter to anti-abuse however old they are.
const REDEMPTIONS_SQL = `
SELECT r.decision_id AS id, r.offer_key, d.created_at, r.redeemed_at FROM redemptions r
JOIN decisions d ON d.id = r.decision_id
WHERE r.customer_id = ?1 AND r.redeemed_at <= ?2
ORDER BY r.redeemed_at DESC LIMIT ?3`;

// events_customer_type_time: one seek on (customer_id, type).
const CANCELLATIONS_SQL = `
SELECT occurred_at FROM events
WHERE customer_id = ?1 AND type = 'subscription.canceled' AND occurred_at <= ?2
ORDER BY occurred_at DESC LIMIT ?3`;

// events_customer_type_time: one seek per type the rules read, then the occurred_at range.
const TYPED_EVENTS_SQL = `
SELECT id, type, occurred_at, properties FROM events
WHERE customer_id = ?1 AND type IN (SELECT value FROM json_each(?2)) AND occurred_at > ?3 AND occurred_at <= ?4
ORDER BY occurred_at DESC LIMIT ?5`;

const ALL_EVENTS_SQL = `
SELECT id, type, occurred_at, properties FROM events
WHERE customer_id = ?1 AND occurred_at > ?2 AND occurred_at <= ?3
ORDER BY occurred_at DESC LIMIT ?4`;

interface HistoryRow {
  id: string;
  offer_key: string;
  created_at: number;
  redeemed_at: number | null;
}

interface EventRow {
  id: string;
  type: string;
  occurred_at: number;
  properties: string;
}

/**
 * Reads one customer's decision state in a single batch.
 *
 * @example const state = await readDecisionState(env.DB, plan, "cus_42", Date.now());
 */
export async function readDecisionState(
  db: D1Database,
  plan: DecisionRuleset,
  customerId: string,
  now: number,
): Promise<DecisionState> {
  const windowMs = plan.ruleset.eventWindowMs;
  const eventsAfter = windowMs === null ? Number.MIN_SAFE_INTEGER : now - windowMs;
  // One more than the limit tells a full window from a truncated one.
  const eventLimit = DECISION_LIMITS.maxEvents + 1;
  const statements = [
    db.prepare(CUSTOMER_SQL).bind(customerId),
    db.prepare(OUTSTANDING_SQL).bind(customerId),
    db
      .prepare(OFFER_HISTORY_SQL)
      .bind(customerId, now - plan.historyHorizonMs, now, DECISION_LIMITS.maxOfferHistory),
    db.prepare(REDEMPTIONS_SQL).bind(customerId, now, DECISION_LIMITS.maxRedemptions),
    db.prepare(CANCELLATIONS_SQL).bind(customerId, now, DECISION_LIMITS.maxCancellations),
  ];
  if (plan.eventTypes === null) {
    statements.push(db.prepare(ALL_EVENTS_SQL).bind(customerId, eventsAfter, now, eventLimit));
  } else if (plan.eventTypes.length > 0) {
    statements.push(
      db
        .prepare(TYPED_EVENTS_SQL)
        .bind(customerId, JSON.stringify(plan.eventTypes), eventsAfter, now, eventLimit),
    );
  }
  const results = await db.batch(statements);
  const [
    customerResult,
    outstandingResult,
    historyResult,
    redemptionResult,
    cancellationResult,
    eventResult,
  ] = results;

  const customerRow = (customerResult?.results[0] as Record<string, unknown> | undefined) ?? null;
  const customer = customerRow
    ? { ...customerRow, attributes: parseAttributes(customerRow.attributes) }
    : null;

  const offers = new Map<string, PastOffer>();
  for (const row of [
    ...((historyResult?.results ?? []) as HistoryRow[]),
    ...((redemptionResult?.results ?? []) as HistoryRow[]),
  ]) {
    offers.set(row.id, { offerKey: row.offer_key, at: row.created_at, redeemedAt: row.redeemed_at });
  }

  const eventRows = (eventResult?.results ?? []) as EventRow[];
  const events: EventRecord[] = eventRows.slice(0, DECISION_LIMITS.maxEvents).map((row) => ({
    id: row.id,
    type: row.type,
    occurred_at: row.occurred_at,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
  }));

  return {
    customer,
    outstanding: (outstandingResult?.results[0] as DecisionRow | undefined) ?? null,
    offers: [...offers.values()],
    cancellations: ((cancellationResult?.results ?? []) as { occurred_at: number }[]).map(
      (row) => row.occurred_at,
    ),
    events,
    eventsTruncated: eventRows.length > DECISION_LIMITS.maxEvents,
    rowsRead: results.reduce((sum, result) => sum + (result.meta.rows_read ?? 0), 0),
  };
}

function parseAttributes(stored: unknown): Record<string, unknown> {
  if (typeof stored !== "string") return {};
  const parsed: unknown = JSON.parse(stored);
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}
