/**
 * The customer's answer to an offer: `POST /v1/offers/:decision_id/accept` and `.../decline`, with
 * the same `decisions:read` key the app asks for decisions with (the app that shows an offer is the
 * one that reports what the customer did with it; it still cannot ingest events or manage keys).
 *
 * Accept: 200 with the redemption (idempotent: accepting again returns the same one); 410
 * `offer_expired` after `expires_at`; 410 `offer_withdrawn` once taken back (the customer became
 * ineligible); 410 `offer_superseded` once replaced by an offer for an ask it did not serve; 409 `offer_declined` once declined; 409 `no_offer` for a decision that gave none; 404
 * `decision_not_found`. Decline mirrors it (409 `offer_accepted`).
 *
 * The answer is recorded on the decision's shard, found from the slot its id carries
 * (`idShards` in worker/db/shards.ts).
 */
import type { Context } from "hono";
import type { Ruleset } from "../../../dsl";
import { idShards } from "../../db/shards";
import { type OfferResponse, respondToOffer } from "../../decisions/respond";
import type { Env } from "../../env";
import { ApiError } from "../../errors";
import { idSlot, isDecisionId } from "../../ids";
import type { AppEnv, RouteDef } from "../app-env";
import { acceptOfferDoc, declineOfferDoc } from "../docs/decisions";
import { decisionView, redemptionView } from "./decision-view";
import { requestNow } from "./request-now";

function answer(response: OfferResponse) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const now = requestNow(c);
    const decisionId = c.req.param("decision_id") ?? "";
    if (!isDecisionId(decisionId)) throw notFound(decisionId);
    const outcome = await respondOnShard(c.env, decisionId, response, now, c.get("ruleset"));
    c.header("X-Rebound-Rows-Read", String(outcome.rowsRead));
    const meta = { rows_read: outcome.rowsRead, rows_written: outcome.rowsWritten };
    switch (outcome.kind) {
      case "not_found":
        throw notFound(decisionId);
      case "no_offer":
        throw new ApiError(
          409,
          "no_offer",
          `Decision ${decisionId} gave no offer (${outcome.decision.reasonCode}), so there is nothing to ${response}.`,
        );
      case "expired":
        throw new ApiError(
          410,
          "offer_expired",
          `The offer of decision ${decisionId} expired at ${new Date(outcome.decision.offer?.expiresAt ?? now).toISOString()}; ask for a new decision.`,
        );
      case "withdrawn":
        throw new ApiError(
          410,
          "offer_withdrawn",
          `The offer of decision ${decisionId} was withdrawn: the customer is no longer eligible for an offer.`,
        );
      case "superseded":
        throw new ApiError(
          410,
          "offer_superseded",
          `The offer of decision ${decisionId} was superseded by a later offer, from an ask it did not answer; ask for the customer's current offer.`,
        );
      case "already_answered":
        throw response === "accept"
          ? new ApiError(
              409,
              "offer_declined",
              `The offer of decision ${decisionId} was declined; it cannot be accepted.`,
            )
          : new ApiError(
              409,
              "offer_accepted",
              `The offer of decision ${decisionId} was accepted; it cannot be declined.`,
            );
      case "declined":
        return c.json({ ...decisionView(outcome.decision), meta });
      case "accepted":
        return c.json({
          ...decisionView(outcome.decision),
          redemption: redemptionView(outcome.redemption),
          meta,
        });
    }
  };
}

/**
 * Records the answer on the first shard that holds the decision (a shard without it writes nothing
 * and says `not_found`); the rows are counted over every shard asked.
 */
async function respondOnShard(
  env: Env,
  decisionId: string,
  response: OfferResponse,
  now: number,
  ruleset: Ruleset,
): Promise<Awaited<ReturnType<typeof respondToOffer>>> {
  let rowsRead = 0;
  let rowsWritten = 0;
  let outcome: Awaited<ReturnType<typeof respondToOffer>> | null = null;
  for (const shard of idShards(env, idSlot(decisionId))) {
    outcome = await respondToOffer(shard.db, decisionId, response, now, ruleset);
    rowsRead += outcome.rowsRead;
    rowsWritten += outcome.rowsWritten;
    if (outcome.kind !== "not_found") break;
  }
  if (!outcome) throw new Error(`no shard to look decision ${decisionId} up on`);
  return { ...outcome, rowsRead, rowsWritten };
}

function notFound(decisionId: string): ApiError {
  return new ApiError(404, "decision_not_found", `No decision has the id "${decisionId}".`);
}

export const offerRoutes: readonly RouteDef[] = [
  {
    method: "POST",
    path: "/v1/offers/:decision_id/accept",
    scope: "decisions:read",
    handler: answer("accept"),
    doc: acceptOfferDoc,
  },
  {
    method: "POST",
    path: "/v1/offers/:decision_id/decline",
    scope: "decisions:read",
    handler: answer("decline"),
    doc: declineOfferDoc,
  },
];
