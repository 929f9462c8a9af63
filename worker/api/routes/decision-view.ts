/**
 * The API view of a decision: what `POST /v1/decisions`, `GET /v1/customers/:id/next-offer`,
 * `GET /v1/decisions/:id` and accept/decline answer with. Timestamps are ISO 8601, money is integer
 * minor units with its currency, as everywhere in the API.
 */
import type { OfferTraceEntry } from "../../../dsl";
import type { Redemption } from "../../decisions/respond";
import type { StoredDecision } from "../../decisions/stored-decision";

/** The decision as the app reads it. */
export function decisionView(decision: StoredDecision): Record<string, unknown> {
  const offer = decision.offer;
  return {
    decision_id: decision.id,
    customer_id: decision.customerId,
    context: decision.context,
    reason: decision.reason,
    offer: offer
      ? {
          key: offer.key,
          reward: offer.reward,
          message: offer.message,
          expires_at: iso(offer.expiresAt),
        }
      : null,
    reason_code: decision.reasonCode,
    why: decision.why,
    variant: decision.variant,
    experiment: decision.experiment,
    holdout: decision.holdout,
    ruleset: decision.rulesetVersion,
    status: decision.status,
    source: decision.source,
    created_at: iso(decision.createdAt),
    responded_at: decision.respondedAt === null ? null : iso(decision.respondedAt),
  };
}

/** The redemption an accepted offer recorded, as accept and `GET /v1/decisions/:id` show it. */
export function redemptionView(redemption: Redemption): Record<string, unknown> {
  return {
    offer_key: redemption.offerKey,
    cost:
      redemption.cost === null || redemption.currency === null
        ? null
        : { amount: redemption.cost, currency: redemption.currency },
    redeemed_at: iso(redemption.redeemedAt),
  };
}

/** `?explain=1`: the rule trace, one entry per offer in priority order. */
export function traceView(trace: readonly OfferTraceEntry[]): Record<string, unknown>[] {
  return trace.map((entry) => ({ ...entry }));
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
