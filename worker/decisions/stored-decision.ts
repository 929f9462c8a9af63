/**
 * A stored decision as the engine and the API see it: the `decisions` row (raw D1 column names, as a
 * batch returns them) parsed into typed fields. Both the decision read and accept/decline go through
 * `storedDecisionOf`, so they agree on what an expired offer is.
 */
import type { DecisionStatus } from "../db/schema";

/** The `decisions` columns as D1 returns them from `SELECT *`. */
export interface DecisionRow {
  id: string;
  customer_id: string;
  context: string;
  reason: string | null;
  offer_key: string | null;
  reward: string | null;
  message: string | null;
  reason_code: string;
  why: string;
  experiment: string | null;
  variant: string | null;
  holdout: number;
  ruleset_version: string;
  inputs: string;
  cost: number | null;
  cost_currency: string | null;
  source: string;
  created_at: number;
  expires_at: number | null;
  status: DecisionStatus;
  responded_at: number | null;
}

/** Every `decisions` column, in table order: what the decision read rebuilds a row from as JSON. */
export const DECISION_COLUMNS = [
  "id",
  "customer_id",
  "context",
  "reason",
  "offer_key",
  "reward",
  "message",
  "reason_code",
  "why",
  "experiment",
  "variant",
  "holdout",
  "ruleset_version",
  "inputs",
  "cost",
  "cost_currency",
  "source",
  "created_at",
  "expires_at",
  "status",
  "responded_at",
] as const satisfies readonly (keyof DecisionRow)[];

/** The message of an offer, rendered when the offer was made. */
export interface RenderedOfferMessage {
  readonly key: string;
  readonly channel: string | null;
  readonly subject: string | null;
  readonly body: string;
}

export interface StoredOffer {
  readonly key: string;
  /** The reward in the API's shape (dsl/runtime/messages.ts `rewardJson`), including its `key`. */
  readonly reward: Readonly<Record<string, string | number>>;
  readonly message: RenderedOfferMessage;
  readonly expiresAt: number;
  /** What granting it costs, priced when it was offered; null when unknown. */
  readonly cost: { readonly amount: number; readonly currency: string } | null;
}

export interface StoredDecision {
  readonly id: string;
  readonly customerId: string;
  readonly context: string;
  readonly reason: string | null;
  readonly offer: StoredOffer | null;
  readonly reasonCode: string;
  readonly why: string;
  readonly experiment: string | null;
  readonly variant: string | null;
  readonly holdout: boolean;
  readonly rulesetVersion: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly source: string;
  readonly createdAt: number;
  /**
   * The status at `now`: an `outstanding` row whose `expires_at` has passed reads as `expired`
   * even before a write marks it so.
   */
  readonly status: DecisionStatus;
  readonly respondedAt: number | null;
}

/** Parses a `decisions` row; `now` decides whether an outstanding offer has expired. */
export function storedDecisionOf(row: DecisionRow, now: number): StoredDecision {
  const offer: StoredOffer | null =
    row.offer_key !== null && row.reward !== null && row.message !== null && row.expires_at !== null
      ? {
          key: row.offer_key,
          reward: JSON.parse(row.reward) as Record<string, string | number>,
          message: JSON.parse(row.message) as RenderedOfferMessage,
          expiresAt: row.expires_at,
          cost:
            row.cost !== null && row.cost_currency !== null
              ? { amount: row.cost, currency: row.cost_currency }
              : null,
        }
      : null;
  return {
    id: row.id,
    customerId: row.customer_id,
    context: row.context,
    reason: row.reason,
    offer,
    reasonCode: row.reason_code,
    why: row.why,
    experiment: row.experiment,
    variant: row.variant,
    holdout: row.holdout === 1,
    rulesetVersion: row.ruleset_version,
    inputs: JSON.parse(row.inputs) as Record<string, unknown>,
    source: row.source,
    createdAt: row.created_at,
    status: isExpired(row, now) ? "expired" : row.status,
    respondedAt: row.responded_at,
  };
}

/** Whether an offer still outstanding in the row has passed its expiry at `now`. */
export function isExpired(row: Pick<DecisionRow, "status" | "expires_at">, now: number): boolean {
  return row.status === "outstanding" && row.expires_at !== null && row.expires_at <= now;
}
