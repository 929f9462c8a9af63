/**
 * The decision API: `POST /v1/decisions` and `GET /v1/customers/:id/next-offer` ask "what offer, if
 * any, should this customer see now?"; `GET /v1/decisions/:id` reads a stored decision back with the
 * inputs that mattered. The engine lives in worker/decisions/; this module only speaks HTTP.
 *
 * A decision lives on its customer's shard (worker/db/shards.ts): the decision routes decide there,
 * the key lookup folded into that shard's read (every shard holds every key); a decision read by id
 * is found from the slot its id carries (`idShards` in worker/db/shards.ts).
 *
 * Every answer reports the D1 rows the decision read (`meta.rows_read`, header `X-Rebound-Rows-Read`);
 * `?explain=1` adds the rule trace.
 */
import type { Context } from "hono";
import { OFFER_CONTEXTS, type OfferContext } from "../../../dsl";
import { type AttributeValue, checkAttributes } from "../../attributes/check-attributes";
import type { FoldedKeyCheck } from "../../auth/authenticate";
import { customerShard, idShards } from "../../db/shards";
import { type DecideRequest, decideAndRecord, type FoldedKey } from "../../decisions/decide-and-record";
import { decisionRulesetOf } from "../../decisions/decision-ruleset";
import { readDecision } from "../../decisions/respond";
import { ApiError, type ErrorDetail, validationFailed } from "../../errors";
import { validateDecisionRequest } from "../../generated/validators.js";
import { idSlot, isDecisionId } from "../../ids";
import { REQUEST_LIMITS } from "../../limits";
import type { AppEnv, RouteDef } from "../app-env";
import { getDecisionDoc, getNextOfferDoc, postDecisionDoc } from "../docs/decisions";
import { pathId } from "../identifiers";
import { readJsonBody } from "../json-body";
import { flagProblems, flagValue, queryParameterProblems } from "../query-parameters";
import { schemaProblems } from "../validation";
import { decisionView, redemptionView, traceView } from "./decision-view";
import { requestNow } from "./request-now";

interface DecisionBody {
  customer_id: string;
  context: OfferContext;
  reason?: string;
  attributes?: Record<string, string | number | boolean | null>;
}

/** The query parameters each decision route takes; any other, or one given twice, is a 400. */
const POST_PARAMETERS = ["explain"] as const;
const NEXT_OFFER_PARAMETERS = ["context", "reason", "explain"] as const;

async function postDecision(c: Context<AppEnv>): Promise<Response> {
  const now = requestNow(c);
  const body = await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes);
  const details = schemaProblems(validateDecisionRequest, body);
  details.push(...queryParameterProblems(c.req.url, POST_PARAMETERS), ...flagProblems(c.req.url, "explain"));
  const fields: Record<string, unknown> = isRecord(body) ? body : {};
  // Report an undeclared reason alongside any other problem, unless the schema already flagged it.
  const reason = fields.reason;
  if (typeof reason === "string" && !details.some((detail) => detail.path === "/reason")) {
    details.push(...reasonProblems(c, reason, "/reason"));
  }
  // Likewise an attribute the rules do not declare, or of the wrong type, would read as missing.
  const attributes = fields.attributes;
  let checkedAttributes: Record<string, AttributeValue> | null = null;
  if (isRecord(attributes) && !details.some((detail) => detail.path.startsWith("/attributes"))) {
    // The schema found nothing under /attributes, so every value is a string, number, boolean or null.
    const checked = checkAttributes(
      decisionRulesetOf(c.get("ruleset")).attributes,
      attributes as Record<string, AttributeValue>,
      {
        path: "/attributes",
        undeclared: "refuse",
      },
    );
    details.push(...checked.problems);
    checkedAttributes = checked.values;
  }
  if (details.length > 0) throw validationFailed(details);
  const request = body as DecisionBody;
  return decideAndAnswer(c, now, {
    customerId: request.customer_id,
    context: request.context,
    reason: request.reason ?? null,
    // Timestamps as the rules read them (epoch ms), whether sent so or as ISO 8601.
    attributes: checkedAttributes,
  });
}

async function getNextOffer(c: Context<AppEnv>): Promise<Response> {
  const now = requestNow(c);
  const { id: customerId, problems: idProblems } = pathId(c);
  const context = c.req.query("context");
  const reason = c.req.query("reason") ?? null;
  const details = [
    ...queryParameterProblems(c.req.url, NEXT_OFFER_PARAMETERS),
    ...flagProblems(c.req.url, "explain"),
    ...idProblems,
  ];
  if (context === undefined) {
    details.push({ path: "?context", message: `is required; use one of ${OFFER_CONTEXTS.join(", ")}` });
  } else if (!(OFFER_CONTEXTS as readonly string[]).includes(context)) {
    details.push({ path: "?context", message: `must be one of ${OFFER_CONTEXTS.join(", ")}` });
  }
  details.push(...reasonProblems(c, reason, "?reason"));
  if (details.length > 0) throw validationFailed(details);
  return decideAndAnswer(c, now, { customerId, context: context as OfferContext, reason });
}

async function getDecision(c: Context<AppEnv>): Promise<Response> {
  const now = requestNow(c);
  const decisionId = c.req.param("decision_id") ?? "";
  const found = isDecisionId(decisionId) ? await findDecision(c, decisionId, now) : null;
  if (found) c.header("X-Rebound-Rows-Read", String(found.rowsRead));
  if (!found?.decision)
    throw new ApiError(404, "decision_not_found", `No decision has the id "${decisionId}".`);
  return c.json({
    ...decisionView(found.decision),
    inputs: found.decision.inputs,
    ...(found.redemption ? { redemption: redemptionView(found.redemption) } : {}),
    meta: { rows_read: found.rowsRead, rows_written: 0, now: new Date(now).toISOString() },
  });
}

/** The decision with its redemption, from the first shard that holds it; rows read on every shard asked. */
async function findDecision(c: Context<AppEnv>, decisionId: string, now: number) {
  let rowsRead = 0;
  for (const shard of idShards(c.env, idSlot(decisionId))) {
    const found = await readDecision(shard.db, decisionId, now);
    rowsRead += found.rowsRead;
    if (found.decision) return { ...found, rowsRead };
  }
  return { decision: null, redemption: null, rowsRead };
}

/** A reason must be one the rules declare: a typo must not silently fall through to "no offer". */
function reasonProblems(c: Context<AppEnv>, reason: string | null, path: string): ErrorDetail[] {
  if (reason === null) return [];
  const reasons = c.get("ruleset").reasons;
  if (reasons.has(reason)) return [];
  return [
    { path, message: `is not a reason the rules declare; use one of ${[...reasons.keys()].join(", ")}` },
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The route's key check as the decision read takes it: the read looks the key hash up in its own
 * statement and hands back the row, which the check (worker/auth) accepts or refuses before anything
 * is decided. Null on a route that looked the key up before the handler ran.
 */
function foldedKeyOf(c: Context<AppEnv>): FoldedKey | null {
  const check: FoldedKeyCheck | undefined = c.get("keyCheck");
  return check ? { hash: check.keyHash, admit: (found) => check.settle(found) } : null;
}

/** Decides one validated ask and answers with the decision: where both decision routes end. */
async function decideAndAnswer(
  c: Context<AppEnv>,
  now: number,
  ask: Pick<DecideRequest, "customerId" | "context" | "reason" | "attributes">,
): Promise<Response> {
  // `?explain` was checked with the other parameters.
  const explain = flagValue(c.req.url, "explain");
  // The customer's shard holds their profile, history and decisions, and a copy of the caller's key.
  const shard = await customerShard(c.env, ask.customerId);
  const result = await decideAndRecord(
    { DB: shard.db, COMPANY_NAME: c.env.COMPANY_NAME },
    { ...ask, now, explain, foldedKey: foldedKeyOf(c) },
    c.get("ruleset"),
  );
  c.header("X-Rebound-Rows-Read", String(result.rowsRead));
  const view: Record<string, unknown> = {
    ...decisionView(result.decision),
    reused: result.outcome !== "created",
  };
  if (explain) {
    view.trace = result.trace ? traceView(result.trace) : [];
    // The offer the customer held when asked, and whether this ask kept, superseded or withdrew it.
    view.outstanding = result.held
      ? {
          decision_id: result.held.decisionId,
          offer_key: result.held.offerKey,
          kept: result.held.kept,
          why: result.held.why,
        }
      : null;
  }
  view.meta = {
    rows_read: result.rowsRead,
    rows_written: result.rowsWritten,
    now: new Date(now).toISOString(),
  };
  return c.json(view);
}

export const decisionRoutes: readonly RouteDef[] = [
  // The two routes an app calls on every page: the key lookup rides in the decision's read.
  {
    method: "POST",
    path: "/v1/decisions",
    scope: "decisions:read",
    keyLookup: "folded",
    handler: postDecision,
    doc: postDecisionDoc,
  },
  {
    method: "GET",
    path: "/v1/decisions/:decision_id",
    scope: "decisions:read",
    handler: getDecision,
    doc: getDecisionDoc,
  },
  {
    method: "GET",
    path: "/v1/customers/:id/next-offer",
    scope: "decisions:read",
    keyLookup: "folded",
    // It stores the decision it makes: a HEAD (a link prefetcher) must not start a cooldown.
    sideEffects: true,
    handler: getNextOffer,
    doc: getNextOfferDoc,
  },
];
