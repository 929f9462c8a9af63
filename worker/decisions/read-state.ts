/**
 * Decision stage 1 of 3 (read → evaluate → write): everything one decision needs, in ONE D1 round
 * trip (one statement): the caller's API key (folded in by the decision routes), the profile,
 * the latest no-offer decision in the asked context, the customer's outstanding offer, offer history within the longest cap
 * window, redemptions and cancellations for the anti-abuse guard, and the recent events of the types
 * the rules read. Every statement is an index seek bounded by a LIMIT (worker/decisions/limits.ts).
 * It runs on the customer's shard (worker/db/shards.ts), which holds a copy of every API key.
 */

import type { EventRecord, PastOffer } from "../../dsl";
import { parseAttributes } from "../attributes/check-attributes";
import { keyLookupColumn, type StoredKey, storedKeyOf } from "../db/api-key-lookup";
import type { DecisionRuleset } from "./decision-ruleset";
import { DECISION_LIMITS } from "./limits";
import { DECISION_COLUMNS, type DecisionRow } from "./stored-decision";

/** What the read found for one customer at `now`. */
export interface DecisionState {
  /** The `customers` row with `attributes` parsed; null when no event was ever ingested for them. */
  readonly customer: Record<string, unknown> | null;
  /** The row holding the customer's outstanding offer (it may have expired by `now`). */
  readonly outstanding: DecisionRow | null;
  /**
   * The customer's latest decision without an offer in the asked context, made at or before `now`,
   * unless an offer was made since (then null): a repeated ask that comes out the same returns it.
   */
  readonly lastNoOffer: DecisionRow | null;
  /**
   * Offers within the history horizon, plus every redeemed offer the anti-abuse guard looks at.
   * While a live offer is outstanding only the redeemed ones: nothing is decided, but the customer's
   * redemptions and cancellations still tell whether that offer must be withdrawn.
   */
  readonly offers: readonly PastOffer[];
  readonly cancellations: readonly number[];
  /** Newest first, at most DECISION_LIMITS.maxEvents; empty while a live offer is outstanding. */
  readonly events: readonly EventRecord[];
  /** True when the event window held more events than were read. */
  readonly eventsTruncated: boolean;
  /**
   * What the folded API key lookup found (worker/db/api-key-lookup.ts `keyLookupColumn`): the live
   * key with the hash passed in, or null (also when no hash was passed). Whether it may ask is the
   * caller's to decide (worker/auth/authenticate.ts).
   */
  readonly storedKey: StoredKey | null;
  /**
   * The highest rowid among the customer's decisions with an offer (0: none), as of this read. The
   * write stores a new offer only if no offer decision came after it (decide-and-record.ts).
   */
  readonly offerSeq: number;
  readonly rowsRead: number;
}

const decisionObject = (alias: string) =>
  `json_object(${DECISION_COLUMNS.map((column) => `'${column}', ${alias}.${column}`).join(", ")})`;

/**
 * The read as ONE statement: the customer row (all columns, NULL when unknown) and one JSON column
 * per history read. D1 charges a batch per statement, so a single statement is the cheapest round
 * trip. Each subquery is an index seek with a LIMIT:
 * - `_outstanding`: decisions_one_outstanding (at most one row);
 * - `_no_offer`: decisions_customer_context_no_offer, the newest row at or before now, kept only if
 *   no offer was made since (decisions_customer_offers; the seek stops at the first such offer);
 * - `_history`: decisions_customer_offers within the longest cap window (the partial index needs
 *   `offer_key IS NOT NULL` in the WHERE), each joined to its redemption by primary key, with its
 *   reward's kind read from the stored `reward` JSON (scoped caps and cooldowns); withdrawn
 *   and superseded offers are left out (taken back unanswered, they count for no cap or cooldown);
 * - `_redemptions`: redemptions_customer_time, however old (anti-abuse has no horizon);
 * - `_cancellations`: events_customer_type_time on (customer, 'subscription.canceled');
 * - `_events`: events_customer_type_time, one seek per type the rules read, then the time range;
 * - `_offer_seq`: decisions_customer_offers, the customer's offer decisions (a handful: caps keep
 *   them few), for the highest rowid;
 * - `_key`: the caller's API key, one seek on api_keys_key_hash (none when ?10 is NULL).
 * Parameters: ?1 customer, ?2 history horizon, ?3 now, ?4 history limit, ?5 redemptions limit,
 * ?6 cancellations limit, ?7 event types (JSON array), ?8 events after, ?9 events limit,
 * ?10 API key hash (NULL when the caller is already authenticated, or for the tick), ?11 context,
 * ?12 1 to read the history even while a live offer is outstanding.
 */
function stateSql(): string {
  // While a live offer is outstanding the decision returns it unchanged (unless the redemptions and
  // cancellations say to withdraw it) and needs no offer history or events: CASE evaluates lazily,
  // so repeated asks (an in-app banner on every page) skip those reads.
  // ?12 = 1 reads everything even so (an offer about to be withdrawn: the ask is decided afresh).
  const unlessLive = (subquery: string) => `CASE WHEN s.live AND ?12 = 0 THEN NULL ELSE (${subquery}) END`;
  return `
SELECT c.*,
  (SELECT ${decisionObject("d")} FROM decisions d
   WHERE d.customer_id = ?1 AND d.status = 'outstanding') AS _outstanding,
  ${unlessLive(`SELECT ${decisionObject("n")} FROM (
     SELECT * FROM decisions
     WHERE customer_id = ?1 AND context = ?11 AND status = 'no_offer' AND created_at <= ?3
     ORDER BY created_at DESC LIMIT 1) n
     WHERE NOT EXISTS (SELECT 1 FROM decisions o WHERE o.customer_id = ?1 AND o.offer_key IS NOT NULL
       AND o.created_at >= n.created_at AND o.created_at <= ?3)`)} AS _no_offer,
  ${unlessLive(`SELECT json_group_array(json_array(h.id, h.offer_key, h.created_at, h.redeemed_at, h.reward_kind)) FROM (
     SELECT d.id, d.offer_key, d.created_at, r.redeemed_at, json_extract(d.reward, '$.type') AS reward_kind
     FROM decisions d
     LEFT JOIN redemptions r ON r.decision_id = d.id
     WHERE d.customer_id = ?1 AND d.offer_key IS NOT NULL AND d.created_at > ?2 AND d.created_at <= ?3
       AND d.status NOT IN ('withdrawn', 'superseded')
     ORDER BY d.created_at DESC LIMIT ?4) h`)} AS _history,
  (SELECT json_group_array(json_array(x.id, x.offer_key, x.created_at, x.redeemed_at, x.reward_kind)) FROM (
     SELECT r.decision_id AS id, r.offer_key, d.created_at, r.redeemed_at,
       json_extract(d.reward, '$.type') AS reward_kind
     FROM redemptions r
     JOIN decisions d ON d.id = r.decision_id
     WHERE r.customer_id = ?1 AND r.redeemed_at <= ?3
     ORDER BY r.redeemed_at DESC LIMIT ?5) x) AS _redemptions,
  (SELECT json_group_array(k.occurred_at) FROM (
     SELECT occurred_at FROM events
     WHERE customer_id = ?1 AND type = 'subscription.canceled' AND occurred_at <= ?3
     ORDER BY occurred_at DESC LIMIT ?6) k) AS _cancellations,
  ${unlessLive(`SELECT json_group_array(json_array(e.id, e.type, e.occurred_at, e.properties)) FROM (
     SELECT id, type, occurred_at, properties FROM events
     WHERE customer_id = ?1 AND type IN (SELECT value FROM json_each(?7)) AND occurred_at > ?8 AND occurred_at <= ?3
     ORDER BY occurred_at DESC LIMIT ?9) e`)} AS _events,
  ${unlessLive("SELECT max(rowid) FROM decisions WHERE customer_id = ?1 AND offer_key IS NOT NULL")} AS _offer_seq,
  ${keyLookupColumn("?10")} AS _key
FROM (
  SELECT EXISTS (SELECT 1 FROM decisions WHERE customer_id = ?1 AND status = 'outstanding' AND expires_at > ?3) AS live
) s
LEFT JOIN customers c ON c.id = ?1`;
}

const STATE_SQL = stateSql();

const STATE_COLUMNS = [
  "_outstanding",
  "_no_offer",
  "_history",
  "_redemptions",
  "_cancellations",
  "_events",
  "_offer_seq",
  "_key",
];

type HistoryTuple = [
  id: string,
  offerKey: string,
  createdAt: number,
  redeemedAt: number | null,
  /** The stored reward's `type` (dsl/runtime/messages.ts `rewardJson`): its RewardIR.kind. */
  rewardKind: string | null,
];
type EventTuple = [id: string, type: string, occurredAt: number, properties: string];

/**
 * Reads one customer's decision state in a single D1 round trip.
 *
 * `keyHash` folds the caller's API key lookup into the same statement (`storedKey` holds the answer).
 *
 * @example const state = await readDecisionState(env.DB, plan, { customerId: "cus_42", context: "winback", now });
 */
export async function readDecisionState(
  db: D1Database,
  plan: DecisionRuleset,
  ask: {
    customerId: string;
    context: string;
    now: number;
    keyHash?: string | null;
    /** Read the offer history and events even while a live offer is outstanding. */
    evenIfLive?: boolean;
  },
): Promise<DecisionState> {
  const { customerId, now } = ask;
  const windowMs = plan.ruleset.eventWindowMs;
  // The event types the offers and segments aggregate (dsl/runtime/reads.ts), computed at load.
  const eventTypes = plan.ruleset.reads.decision.eventTypes;
  // One more than the limit tells a full window from a truncated one.
  const eventLimit = DECISION_LIMITS.maxEvents + 1;
  const result = await db
    .prepare(STATE_SQL)
    .bind(
      customerId,
      now - plan.historyHorizonMs,
      now,
      DECISION_LIMITS.maxOfferHistory,
      DECISION_LIMITS.maxRedemptions,
      DECISION_LIMITS.maxCancellations,
      JSON.stringify(eventTypes),
      windowMs === null ? Number.MIN_SAFE_INTEGER : now - windowMs,
      eventLimit,
      ask.keyHash ?? null,
      ask.context,
      ask.evenIfLive ? 1 : 0,
    )
    .run<Record<string, unknown>>();
  const row = result.results[0] ?? {};

  let customer: Record<string, unknown> | null = null;
  if (row.id !== null && row.id !== undefined) {
    customer = {};
    for (const [column, value] of Object.entries(row)) {
      if (!STATE_COLUMNS.includes(column)) customer[column] = value;
    }
    customer.attributes = parseAttributes(row.attributes);
  }

  const offers = new Map<string, PastOffer>();
  for (const [id, offerKey, at, redeemedAt, rewardKind] of [
    ...jsonArray<HistoryTuple>(row._history),
    ...jsonArray<HistoryTuple>(row._redemptions),
  ]) {
    offers.set(id, { offerKey, rewardKind: rewardKind ?? null, at, redeemedAt });
  }

  const eventTuples = jsonArray<EventTuple>(row._events);
  const events: EventRecord[] = eventTuples
    .slice(0, DECISION_LIMITS.maxEvents)
    .map(([id, type, occurredAt, properties]) => ({
      id,
      type,
      occurred_at: occurredAt,
      properties: JSON.parse(properties) as Record<string, unknown>,
    }));

  return {
    customer,
    outstanding: typeof row._outstanding === "string" ? (JSON.parse(row._outstanding) as DecisionRow) : null,
    lastNoOffer: typeof row._no_offer === "string" ? (JSON.parse(row._no_offer) as DecisionRow) : null,
    offers: [...offers.values()],
    cancellations: jsonArray<number>(row._cancellations),
    events,
    eventsTruncated: eventTuples.length > DECISION_LIMITS.maxEvents,
    storedKey: storedKeyOf(row._key),
    offerSeq: typeof row._offer_seq === "number" ? row._offer_seq : 0,
    rowsRead: result.meta.rows_read ?? 0,
  };
}

function jsonArray<T>(stored: unknown): T[] {
  return typeof stored === "string" ? (JSON.parse(stored) as T[]) : [];
}
