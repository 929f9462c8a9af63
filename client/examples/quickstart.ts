import { createReboundClient, orThrow, type ReboundClient, type Schema } from "../src/index"; // your app: "@rebound/client"

// A key with the `events:write` and `decisions:read` scopes, kept on your server.
export function reboundFor(baseUrl: string, apiKey: string): ReboundClient {
  return createReboundClient({ baseUrl, apiKey });
}

/** Reports what happened. Bad input comes back as 400 `validation_failed`, each problem located. */
export async function report(rebound: ReboundClient, events: Schema<"Event">[]) {
  const { data, error } = await rebound.POST("/v1/events", { body: { events } });
  if (error?.error.code === "validation_failed") {
    // e.g. [{ path: "/events/0/occurred_at", message: 'must match format "date-time"' }]
    return { accepted: 0, problems: error.error.details };
  }
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  return { accepted: data.accepted, problems: [] };
}

/** The customer clicked "Cancel" and picked a reason: the offer to show them, if any. */
export async function offerToStay(rebound: ReboundClient, customerId: string, reason: string) {
  const decision = await orThrow(
    rebound.GET("/v1/customers/{id}/next-offer", {
      params: { path: { id: customerId }, query: { context: "cancel_flow", reason } },
    }),
  );
  // No offer: `reason_code` says why (`ineligible`, `no_matching_rule`, `holdout`, …).
  if (!decision.offer) return null;
  const { subject, body } = decision.offer.message;
  return { decisionId: decision.decision_id, subject, body, expiresAt: decision.offer.expires_at };
}

/** They took it: the redemption records what the reward cost. */
export async function acceptOffer(rebound: ReboundClient, decisionId: string) {
  const accepted = await orThrow(
    rebound.POST("/v1/offers/{decision_id}/accept", { params: { path: { decision_id: decisionId } } }),
  );
  return accepted.redemption;
}
