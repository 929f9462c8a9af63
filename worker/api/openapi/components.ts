/**
 * Schemas the OpenAPI document shares between operations (`#/components/schemas/…`): the error
 * envelope every route answers with, and the decision an app reads from four routes. The request
 * schemas of worker/api/schemas join them in worker/api/openapi/document.ts.
 */
import type { JsonSchema } from "../app-env";

const isoTime = { type: "string", format: "date-time" } as const;
const nullableIsoTime = { type: ["string", "null"], format: "date-time" } as const;

/** `{"error": {"code", "message", "details"}}`: worker/api/error-boundary.ts. */
export const ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "details"],
      properties: {
        code: {
          type: "string",
          description: "Stable error code (worker/errors.ts); match on it, not on the message.",
        },
        message: { type: "string", description: "A sentence for a person." },
        details: {
          type: "array",
          description:
            'One entry per problem, for bad input. `path` says where: a JSON Pointer into the body (`/events/3/occurred_at`, `""` for the body as a whole), `?name` for a query parameter, `header:Name` for a header, `path:name` for a path parameter.',
          items: {
            type: "object",
            required: ["path", "message"],
            properties: { path: { type: "string" }, message: { type: "string" } },
          },
        },
      },
    },
  },
};

/** An offer as a decision carries it (worker/api/routes/decision-view.ts). */
export const OFFER_SCHEMA: JsonSchema = {
  type: "object",
  required: ["key", "reward", "message", "expires_at"],
  properties: {
    key: { type: "string", description: "The offer's key in rules/offers.yaml." },
    reward: {
      type: "object",
      description: "The reward in the API's shape: its `type`, `key`, amounts in minor units and currency.",
      required: ["type", "key"],
      properties: { type: { type: "string" }, key: { type: "string" } },
      additionalProperties: { type: ["string", "number"] },
    },
    message: {
      type: "object",
      description: "The message the rules render for the offer, rendered when it was made.",
      required: ["key", "subject", "body"],
      properties: {
        key: { type: "string" },
        channel: { type: ["string", "null"] },
        subject: { type: "string" },
        body: { type: "string" },
      },
    },
    expires_at: isoTime,
  },
};

/** The fields of a decision every decision route answers with. */
export const DECISION_PROPERTIES = {
  decision_id: { type: "string", description: "`dec_` and 28 hex digits." },
  customer_id: { type: "string" },
  context: { enum: ["cancel_flow", "in_app", "winback", "dunning"] },
  reason: { type: ["string", "null"] },
  offer: {
    description: "The offer, or null when the decision gives none (`reason_code` says why).",
    anyOf: [{ $ref: "#/components/schemas/Offer" }, { type: "null" }],
  },
  reason_code: {
    type: "string",
    description: "Why this outcome, as a stable code (`offered`, `no_matching_rule`, …).",
  },
  why: { type: "string", description: "The same, for a person." },
  variant: { type: ["string", "null"] },
  experiment: { type: ["string", "null"] },
  holdout: { type: "boolean" },
  ruleset: { type: "string", description: "The version of the rules that decided (`sha256:…`)." },
  status: {
    type: "string",
    description: "`offered`, `no_offer`, `accepted`, `declined`, `expired`, `withdrawn`, `superseded`.",
  },
  source: { type: "string" },
  created_at: isoTime,
  responded_at: nullableIsoTime,
} as const;

export const DECISION_REQUIRED = Object.keys(DECISION_PROPERTIES);

/** `meta` of the decision routes: what the request cost in D1 rows, and the "now" it ran at. */
export const DECISION_META: JsonSchema = {
  type: "object",
  required: ["rows_read", "rows_written"],
  properties: {
    rows_read: { type: "integer" },
    rows_written: { type: "integer" },
    now: isoTime,
  },
};

/** The redemption an accepted offer records. */
export const REDEMPTION_SCHEMA: JsonSchema = {
  type: "object",
  required: ["offer_key", "cost", "redeemed_at"],
  properties: {
    offer_key: { type: "string" },
    cost: {
      description: "What the reward cost, in minor units of its currency; null for a reward without a price.",
      anyOf: [
        {
          type: "object",
          required: ["amount", "currency"],
          properties: { amount: { type: "integer" }, currency: { type: "string" } },
        },
        { type: "null" },
      ],
    },
    redeemed_at: isoTime,
  },
};

/** Shared schemas by component name. */
export const SHARED_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  Error: ERROR_SCHEMA,
  Offer: OFFER_SCHEMA,
  Redemption: REDEMPTION_SCHEMA,
};
