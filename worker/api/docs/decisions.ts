/**
 * OpenAPI documentation of worker/api/routes/decisions.ts and offers.ts (served at GET /openapi.json):
 * the routes an app calls. Their answers share the decision of worker/api/routes/decision-view.ts.
 */
import type { JsonSchema, RouteDoc, RouteDocParameter } from "../app-env";
import { DECISION_META, DECISION_PROPERTIES, DECISION_REQUIRED } from "../openapi/components";
import { BOOLEAN, INTEGER, objectOf, STRING } from "./shared";

const NOW_HEADER: Readonly<Record<string, RouteDocParameter>> = {
  "X-Rebound-Now": {
    description:
      "Admin keys only: decide as of this time (ISO 8601 with a zone, or epoch ms), to step through expiries and cooldowns in tests and demos. Any other key sending it gets 403.",
    schema: { type: "string" },
    example: "2026-03-03T15:00:00Z",
  },
};

const EXPLAIN: RouteDocParameter = {
  description: "`1`/`true` adds the rule trace (`trace`) and the offer the customer held (`outstanding`).",
  schema: { enum: ["1", "true", "0", "false"] },
  example: "1",
};

const ROWS_READ_HEADER = {
  "X-Rebound-Rows-Read": {
    description: "D1 rows the request read.",
    schema: { type: "string" },
    example: "3",
  },
};

/** Why a condition failed: the failing part's text and position, and the values it read. */
const CONDITION_FAILURE: JsonSchema = objectOf({
  text: STRING,
  span: objectOf({ start: INTEGER, end: INTEGER }),
  result: STRING,
  values: { type: "array", items: objectOf({ expression: STRING, value: STRING }) },
});

/** One offer of the rule trace (`?explain=1`): what the rules made of it. */
const TRACE_ENTRY: JsonSchema = {
  type: "object",
  required: ["offer", "outcome", "detail", "at"],
  properties: {
    offer: STRING,
    outcome: STRING,
    detail: STRING,
    condition: objectOf({ expression: STRING, at: STRING, result: STRING, failure: CONDITION_FAILURE }),
    at: STRING,
  },
};

const DECISION_ANSWER: JsonSchema = {
  type: "object",
  required: [...DECISION_REQUIRED, "reused", "meta"],
  properties: {
    ...DECISION_PROPERTIES,
    reused: {
      type: "boolean",
      description: "True when an outstanding decision was answered again instead of a new one.",
    },
    trace: {
      type: "array",
      items: TRACE_ENTRY,
      description: "With `?explain=1`: one entry per offer, in priority order.",
    },
    outstanding: {
      description: "With `?explain=1`: the offer the customer held when asked, and whether this ask kept it.",
      anyOf: [
        objectOf({ decision_id: STRING, offer_key: STRING, kept: BOOLEAN, why: STRING }),
        { type: "null" },
      ],
    },
    meta: DECISION_META,
  },
};

const DECIDE_ERRORS = [
  {
    status: 400,
    code: "validation_failed",
    when: "The ask breaks the schema, names a reason or attribute the rules do not declare, or a query parameter is unknown or invalid.",
  },
  { status: 403, code: "forbidden", when: "A key without `admin` sent `X-Rebound-Now`." },
] as const;

const DECISION_ID: Readonly<Record<string, RouteDocParameter>> = {
  decision_id: {
    description: "The decision's id (`dec_…`).",
    schema: { type: "string" },
    example: "dec_01a2422b6d023eaa1631078f1838",
  },
};

/** The decision the examples follow: a $10-off offer to a customer leaving over price. */
const PRICE_OFFER_DECISION = {
  decision_id: "dec_01a2422b6d023eaa1631078f1838",
  customer_id: "demo-0006",
  context: "cancel_flow",
  reason: "too_expensive",
  offer: {
    key: "price_everyone_else",
    reward: {
      type: "amount_off",
      key: "ten_off",
      amount: 1000,
      currency: "USD",
      expires_after_ms: 1209600000,
      description: "$10 off",
    },
    message: {
      key: "offer_price",
      channel: null,
      subject: "Uma, here is $10 off to stay",
      body: "We hear you: price matters. Take $10 off on us if you stay with\nAcme Analytics. The offer is yours until December 18, 2026.\n",
    },
    expires_at: "2026-12-18T17:47:51.938Z",
  },
  reason_code: "offered",
  why: "price_everyone_else: matched: reason is too_expensive; `not low_value` holds",
  variant: null,
  experiment: null,
  holdout: false,
  ruleset: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
};

export const postDecisionDoc: RouteDoc = {
  summary: "Ask for a customer's next offer",
  tag: "Decisions",
  description:
    "Decides which offer, if any, the customer should see now in `context`, stores the decision and answers it. An ask the customer's outstanding offer already answers is answered with it (`reused: true`). `attributes` are what the app knows now (the rules declare them). The key lookup rides in the decision's first read.",
  query: { explain: EXPLAIN },
  headers: NOW_HEADER,
  requestBody: {
    schema: { $ref: "https://rebound.dev/schemas/decision-request.json" },
    example: { customer_id: "cus_42", context: "cancel_flow", reason: "too_expensive" },
  },
  response: {
    status: 200,
    description: "The decision, with an offer or with the reason there is none.",
    schema: DECISION_ANSWER,
    example: {
      ...PRICE_OFFER_DECISION,
      status: "outstanding",
      source: "api",
      created_at: "2026-12-04T17:47:51.938Z",
      responded_at: null,
      reused: false,
      meta: { rows_read: 11, rows_written: 7, now: "2026-12-04T17:47:51.938Z" },
    },
    headers: ROWS_READ_HEADER,
  },
  errors: DECIDE_ERRORS,
};

export const getNextOfferDoc: RouteDoc = {
  summary: "Ask for a customer's next offer (GET)",
  tag: "Decisions",
  description:
    "The same decision as `POST /v1/decisions`, without attributes. It stores the decision it makes, so HEAD is refused (405).",
  pathParams: {
    id: {
      description: "The customer's id.",
      schema: { $ref: "https://rebound.dev/schemas/id.json" },
      example: "cus_42",
    },
  },
  query: {
    context: {
      description: "Where the offer would be shown.",
      schema: { enum: ["cancel_flow", "in_app", "winback", "dunning"] },
      required: true,
      example: "cancel_flow",
    },
    reason: {
      description: "The reason the customer gave (a key of the rules' `reasons:`).",
      schema: { type: "string" },
      example: "too_expensive",
    },
    explain: EXPLAIN,
  },
  headers: NOW_HEADER,
  response: {
    status: 200,
    description: "The decision.",
    schema: DECISION_ANSWER,
    example: {
      decision_id: "dec_01a2422b6ca406763a237baf99be",
      customer_id: "demo-0005",
      context: "cancel_flow",
      reason: "payment_failed",
      offer: null,
      reason_code: "no_matching_rule",
      why: "no offer matches in context `cancel_flow` for reason `payment_failed`",
      variant: null,
      experiment: null,
      holdout: false,
      ruleset: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
      status: "no_offer",
      source: "api",
      created_at: "2026-12-04T17:47:51.844Z",
      responded_at: null,
      reused: false,
      trace: [
        {
          offer: "price_high_value",
          outcome: "reason_mismatch",
          detail: "answers too_expensive; the customer's reason is payment_failed",
          at: "rules/offers.yaml:8:10",
        },
      ],
      outstanding: null,
      meta: { rows_read: 11, rows_written: 4, now: "2026-12-04T17:47:51.844Z" },
    },
    headers: ROWS_READ_HEADER,
  },
  errors: DECIDE_ERRORS,
};

export const getDecisionDoc: RouteDoc = {
  summary: "Read a decision",
  tag: "Decisions",
  description: "A stored decision with the inputs that mattered, and its redemption once accepted.",
  pathParams: DECISION_ID,
  headers: NOW_HEADER,
  response: {
    status: 200,
    description: "The decision.",
    schema: {
      type: "object",
      required: [...DECISION_REQUIRED, "inputs", "meta"],
      properties: {
        ...DECISION_PROPERTIES,
        inputs: {
          type: "object",
          description: "What the decision read: the request, profile, segments, history.",
          required: [
            "request",
            "reason_used",
            "reason_from",
            "matched",
            "profile",
            "segments",
            "events",
            "history",
            "buckets",
          ],
          properties: {
            request: {
              type: "object",
              required: ["context", "reason", "attributes", "only"],
              properties: {
                context: { type: "string" },
                reason: { type: ["string", "null"] },
                attributes: { type: ["object", "null"] },
                only: { type: ["array", "null"], items: { type: "string" } },
              },
            },
            reason_used: { type: ["string", "null"] },
            reason_from: {
              enum: ["request", "profile", null],
              description: "Where the reason came from: the request, the profile's churn reason, or none.",
            },
            matched: { description: "What the chosen offer's conditions matched on, or null." },
            profile: {
              type: "object",
              description:
                "The profile values the evaluated offers read, by field; money as `{amount, currency}`.",
            },
            segments: {
              type: "object",
              description: "Membership of each segment the evaluated offers read.",
              additionalProperties: { type: "boolean" },
            },
            events: {
              type: "object",
              required: ["considered", "truncated"],
              properties: { considered: { type: "integer" }, truncated: { type: "boolean" } },
            },
            history: {
              type: "object",
              required: ["offers", "last_offer_at", "redemptions", "cancellations"],
              properties: {
                offers: { type: "integer" },
                last_offer_at: { type: ["string", "null"], format: "date-time" },
                redemptions: { type: "integer" },
                cancellations: { type: "integer" },
              },
            },
            buckets: {
              description: "The experiment's buckets for this customer, or null without an experiment.",
              anyOf: [
                {
                  type: "object",
                  required: ["experiment", "holdout_point", "variant_point"],
                  properties: {
                    experiment: { type: "string" },
                    holdout_point: { type: "integer", description: "0 to 9999." },
                    variant_point: { type: "integer", description: "0 to 9999." },
                  },
                },
                { type: "null" },
              ],
            },
          },
        },
        redemption: { $ref: "#/components/schemas/Redemption" },
        meta: DECISION_META,
      },
    },
    example: {
      decision_id: "dec_01a2422b6c7c9266da6d42c53dd8",
      customer_id: "demo-0004",
      context: "cancel_flow",
      reason: "too_expensive",
      offer: null,
      reason_code: "no_matching_rule",
      why: "no offer matches in context `cancel_flow` for reason `too_expensive`; price_everyone_else would match, but reward ten_off is in USD; the customer pays in GBP",
      variant: null,
      experiment: null,
      holdout: false,
      ruleset: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
      status: "no_offer",
      source: "api",
      created_at: "2026-12-04T17:47:51.804Z",
      responded_at: null,
      inputs: {
        request: { context: "cancel_flow", reason: "too_expensive", attributes: null, only: null },
        reason_used: "too_expensive",
        reason_from: "request",
        matched: null,
        profile: {
          aov: null,
          ltv: { amount: 3610, currency: "GBP" },
          mrr: { amount: 1805, currency: "GBP" },
          referrals: 0,
        },
        segments: { high_value: false, low_value: false },
        events: { considered: 0, truncated: false },
        history: { offers: 0, last_offer_at: null, redemptions: 0, cancellations: 0 },
        buckets: null,
      },
      meta: { rows_read: 1, rows_written: 0, now: "2026-12-04T17:47:51.884Z" },
    },
    headers: ROWS_READ_HEADER,
  },
  errors: [{ status: 404, code: "decision_not_found", when: "No decision has this id." }],
};

const ANSWER_ERRORS = [
  { status: 404, code: "decision_not_found", when: "No decision has this id." },
  { status: 409, code: "no_offer", when: "The decision gave no offer." },
  { status: 410, code: "offer_expired", when: "The offer expired (`expires_at`); ask for a new decision." },
  {
    status: 410,
    code: "offer_withdrawn",
    when: "The offer was taken back: the customer is no longer eligible.",
  },
  {
    status: 410,
    code: "offer_superseded",
    when: "A later offer, for an ask this one did not serve, replaced it.",
  },
] as const;

export const acceptOfferDoc: RouteDoc = {
  summary: "Accept an offer",
  tag: "Decisions",
  description:
    "Records that the customer took the offer, and its redemption. Idempotent: accepting again answers the same redemption.",
  pathParams: DECISION_ID,
  headers: NOW_HEADER,
  response: {
    status: 200,
    description: "The accepted decision and its redemption.",
    schema: {
      type: "object",
      required: [...DECISION_REQUIRED, "redemption", "meta"],
      properties: {
        ...DECISION_PROPERTIES,
        redemption: { $ref: "#/components/schemas/Redemption" },
        meta: DECISION_META,
      },
    },
    example: {
      ...PRICE_OFFER_DECISION,
      status: "accepted",
      source: "api",
      created_at: "2026-12-04T17:47:51.938Z",
      responded_at: "2026-12-04T17:47:52.018Z",
      meta: { rows_read: 3, rows_written: 3 },
      redemption: {
        offer_key: "price_everyone_else",
        cost: { amount: 1000, currency: "USD" },
        redeemed_at: "2026-12-04T17:47:52.018Z",
      },
    },
    headers: ROWS_READ_HEADER,
  },
  errors: [...ANSWER_ERRORS, { status: 409, code: "offer_declined", when: "The offer was declined." }],
};

export const declineOfferDoc: RouteDoc = {
  summary: "Decline an offer",
  tag: "Decisions",
  description: "Records that the customer refused the offer. Idempotent.",
  pathParams: DECISION_ID,
  headers: NOW_HEADER,
  response: {
    status: 200,
    description: "The declined decision.",
    schema: {
      type: "object",
      required: [...DECISION_REQUIRED, "meta"],
      properties: { ...DECISION_PROPERTIES, meta: DECISION_META },
    },
    example: {
      ...PRICE_OFFER_DECISION,
      status: "declined",
      source: "api",
      created_at: "2026-12-04T17:47:51.938Z",
      responded_at: "2026-12-04T17:47:52.018Z",
      meta: { rows_read: 3, rows_written: 3 },
    },
    headers: ROWS_READ_HEADER,
  },
  errors: [...ANSWER_ERRORS, { status: 409, code: "offer_accepted", when: "The offer was accepted." }],
};
