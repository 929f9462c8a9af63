/**
 * The customer's answer to an offer: accept or decline, each in ONE D1 batch. Accepting records a
 * redemption with the cost priced when the offer was made. Both are idempotent (a repeated answer
 * returns the same result), guarded against each other (a declined offer cannot be accepted, nor an
 * accepted one declined) and against the clock (after `expires_at` the offer is expired).
 *
 * The guards live in the UPDATE's WHERE clause, so a concurrent accept and decline cannot both win:
 * whichever commits first changes the status, the other finds it changed and reports that.
 */
import { localDay, type ReportingZoneSettings, reportingZone } from "../metrics/days";
import { type DecisionRow, type StoredDecision, storedDecisionOf } from "./stored-decision";

export type OfferResponse = "accept" | "decline";

/** How an answer came out; the HTTP route maps each kind to a status. */
export type ResponseOutcome =
  | { readonly kind: "accepted"; readonly decision: StoredDecision; readonly redemption: Redemption }
  | { readonly kind: "declined"; readonly decision: StoredDecision }
  | { readonly kind: "not_found" }
  | { readonly kind: "no_offer"; readonly decision: StoredDecision }
  | { readonly kind: "expired"; readonly decision: StoredDecision }
  /** Taken back before the customer answered (worker/decisions/decide-and-record.ts). */
  | { readonly kind: "withdrawn"; readonly decision: StoredDecision }
  | { readonly kind: "superseded"; readonly decision: StoredDecision }
  /** Accepting a declined offer, or declining an accepted one. */
  | { readonly kind: "already_answered"; readonly decision: StoredDecision };

export interface Redemption {
  readonly decisionId: string;
  readonly customerId: string;
  readonly offerKey: string;
  readonly cost: number | null;
  readonly currency: string | null;
  readonly redeemedAt: number;
}

// ?3: the reporting day of the answer, for the metrics trigger (migrations/0008_metrics.sql).
const ACCEPT_SQL = `
UPDATE decisions SET status = 'accepted', responded_at = ?2, closed_day = ?3
WHERE id = ?1 AND status = 'outstanding' AND expires_at > ?2`;

const DECLINE_SQL = `
UPDATE decisions SET status = 'declined', responded_at = ?2, closed_day = ?3
WHERE id = ?1 AND status = 'outstanding' AND expires_at > ?2`;

// ON CONFLICT on the primary key: a second accept records nothing new.
const REDEEM_SQL = `
INSERT INTO redemptions (decision_id, customer_id, offer_key, cost, currency, redeemed_at)
SELECT id, customer_id, offer_key, cost, cost_currency, responded_at FROM decisions
WHERE id = ?1 AND status = 'accepted'
ON CONFLICT (decision_id) DO NOTHING`;

// Frees the customer's outstanding slot (decisions_one_outstanding) once the offer has lapsed.
const EXPIRE_SQL = `
UPDATE decisions SET status = 'expired'
WHERE id = ?1 AND status = 'outstanding' AND expires_at <= ?2`;

// Only when each customer reports in their own zone (settings.metrics.timezone: customer).
const CUSTOMER_ZONE_SQL = `
SELECT c.timezone FROM decisions d JOIN customers c ON c.id = d.customer_id WHERE d.id = ?1`;

const READ_SQL = `
SELECT d.*, r.redeemed_at AS redemption_redeemed_at, r.cost AS redemption_cost,
       r.currency AS redemption_currency
FROM decisions d LEFT JOIN redemptions r ON r.decision_id = d.id
WHERE d.id = ?1`;

interface AnsweredRow extends DecisionRow {
  redemption_redeemed_at: number | null;
  redemption_cost: number | null;
  redemption_currency: string | null;
}

/**
 * Records the customer's answer to the offer of decision `decisionId` at `now`; `zones` says which
 * reporting day the answer is counted on.
 *
 * @example const outcome = await respondToOffer(env.DB, "dec_…", "accept", Date.now(), ruleset);
 */
export async function respondToOffer(
  db: D1Database,
  decisionId: string,
  response: OfferResponse,
  now: number,
  zones: ReportingZoneSettings,
): Promise<ResponseOutcome & { readonly rowsRead: number; readonly rowsWritten: number }> {
  let zoneRowsRead = 0;
  let customerTimezone: unknown = null;
  if (zones.metricsTimezone === "customer") {
    const zone = await db.prepare(CUSTOMER_ZONE_SQL).bind(decisionId).run<{ timezone: string | null }>();
    zoneRowsRead = zone.meta.rows_read ?? 0;
    customerTimezone = zone.results[0]?.timezone ?? null;
  }
  const day = localDay(now, reportingZone(zones, customerTimezone));
  const statements =
    response === "accept"
      ? [
          db.prepare(ACCEPT_SQL).bind(decisionId, now, day),
          db.prepare(REDEEM_SQL).bind(decisionId),
          db.prepare(EXPIRE_SQL).bind(decisionId, now),
          db.prepare(READ_SQL).bind(decisionId),
        ]
      : [
          db.prepare(DECLINE_SQL).bind(decisionId, now, day),
          db.prepare(EXPIRE_SQL).bind(decisionId, now),
          db.prepare(READ_SQL).bind(decisionId),
        ];
  const results = await db.batch(statements);
  const accounting = {
    rowsRead: zoneRowsRead + results.reduce((sum, result) => sum + (result.meta.rows_read ?? 0), 0),
    rowsWritten: results.reduce((sum, result) => sum + (result.meta.rows_written ?? 0), 0),
  };
  const row = results[results.length - 1]?.results[0] as AnsweredRow | undefined;
  return { ...outcomeOf(row, response, now), ...accounting };
}

/**
 * A stored decision with the redemption its offer recorded, if it was accepted (decision null when
 * no decision has that id), and the rows the read took (`GET /v1/decisions/:id`).
 */
export async function readDecision(
  db: D1Database,
  decisionId: string,
  now: number,
): Promise<{
  readonly decision: StoredDecision | null;
  readonly redemption: Redemption | null;
  readonly rowsRead: number;
}> {
  const result = await db.prepare(READ_SQL).bind(decisionId).run<AnsweredRow>();
  const row = result.results[0];
  const rowsRead = result.meta.rows_read ?? 0;
  if (!row) return { decision: null, redemption: null, rowsRead };
  return { decision: storedDecisionOf(row, now), redemption: redemptionOf(row), rowsRead };
}

function redemptionOf(row: AnsweredRow): Redemption | null {
  if (row.redemption_redeemed_at === null) return null;
  return {
    decisionId: row.id,
    customerId: row.customer_id,
    offerKey: row.offer_key ?? "",
    cost: row.redemption_cost,
    currency: row.redemption_currency,
    redeemedAt: row.redemption_redeemed_at,
  };
}

function outcomeOf(row: AnsweredRow | undefined, response: OfferResponse, now: number): ResponseOutcome {
  if (!row) return { kind: "not_found" };
  const decision = storedDecisionOf(row, now);
  switch (decision.status) {
    case "no_offer":
      return { kind: "no_offer", decision };
    case "expired":
      return { kind: "expired", decision };
    case "withdrawn":
      return { kind: "withdrawn", decision };
    case "superseded":
      return { kind: "superseded", decision };
    case "accepted": {
      if (response === "decline") return { kind: "already_answered", decision };
      // REDEEM_SQL ran in the same batch as the accept: an accepted offer has its redemption.
      const redemption = redemptionOf(row);
      if (!redemption) throw new Error(`decision ${row.id} is accepted but has no redemption`);
      return { kind: "accepted", decision, redemption };
    }
    case "declined":
      if (response === "accept") return { kind: "already_answered", decision };
      return { kind: "declined", decision };
    case "outstanding":
      // The batch either answered the offer or marked it expired; a row still outstanding means the
      // statements above no longer match the schema, which must not pass as an answer.
      throw new Error(`decision ${row.id} is still outstanding after answering it`);
  }
}
