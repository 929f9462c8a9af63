/**
 * OpenAPI documentation of worker/api/routes/provider-webhooks.ts (served at GET /openapi.json): the
 * billing providers' webhooks (scope `provider`: their own signature, no API key), the admin
 * listing of what they sent, and the held deliveries with their replay.
 */
import type { RouteDoc } from "../app-env";
import { SHARD_META } from "./shared";

const DETAILS = {
  type: "array",
  items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
} as const;

const PROVIDER_ENUM = { enum: ["stripe", "paddle", "chargebee"] } as const;

const SCHEMES = {
  stripe: "stripeSignature",
  paddle: "paddleSignature",
  chargebee: "chargebeeBasicAuth",
} as const;

/** The doc of `POST /v1/webhooks/<provider>`. */
export function providerWebhookDoc(provider: keyof typeof SCHEMES): RouteDoc {
  return {
    summary: `Receive a ${provider[0]?.toUpperCase()}${provider.slice(1)} webhook`,
    tag: "Webhooks",
    description: `The ${provider} webhook, as an event source (docs/providers.md). Authenticated by the provider's own ${provider === "chargebee" ? "basic-auth credentials" : "signature of the raw body"}, not an API key. The provider's event is mapped to Rebound events and ingested; a resent event counts as a duplicate.`,
    requestBody: {
      schema: { type: "object", description: `The ${provider} event, as ${provider} sends it.` },
      example: { id: "evt_1Nx2", type: "customer.subscription.deleted" },
    },
    response: {
      status: 200,
      description: "The event was received (and ingested, or ignored: see `outcome`).",
      schema: {
        type: "object",
        required: ["received", "provider_event_id", "outcome", "events", "duplicates"],
        properties: {
          received: { const: true },
          provider_event_id: { type: "string" },
          outcome: { type: "string" },
          events: { type: "integer", description: "Rebound events recorded." },
          duplicates: { type: "integer" },
          details: DETAILS,
          held: {
            type: "boolean",
            description:
              "For `unmapped_plan`, `unmapped_reason` and `rejected`: the delivery is held for `POST /v1/admin/provider-events/replay` (false when it names no customer or the customer was erased).",
          },
        },
      },
      example: {
        received: true,
        provider_event_id: "evt_1Nx2",
        outcome: "ingested",
        events: 1,
        duplicates: 0,
      },
    },
    errors: [
      { status: 401, code: "unauthorized", when: "The signature or credentials are missing or wrong." },
      { status: 400, code: "validation_failed", when: "The event cannot be read." },
    ],
    security: [SCHEMES[provider]],
  };
}

export const providerEventsDoc: RouteDoc = {
  summary: "Count provider events",
  tag: "Webhooks",
  description: "What the providers' webhooks delivered over a period, by provider and outcome.",
  query: {
    from: {
      description: "First day (UTC, inclusive).",
      schema: { type: "string", format: "date" },
      example: "2026-03-01",
    },
    to: {
      description: "Last day (UTC, inclusive).",
      schema: { type: "string", format: "date" },
      example: "2026-03-31",
    },
    provider: { description: "Only this provider's.", schema: PROVIDER_ENUM },
  },
  response: {
    status: 200,
    description: "The counts.",
    schema: {
      type: "object",
      required: ["from", "to", "provider_events", "held"],
      properties: {
        meta: SHARD_META,
        from: { type: "string", format: "date" },
        to: { type: "string", format: "date" },
        provider_events: { type: "array", items: { type: "object" } },
        held: {
          type: "integer",
          description: "Deliveries held now for replay (of `provider`, or all), whatever the period.",
        },
      },
    },
    example: { from: "2026-03-01", to: "2026-03-31", provider_events: [], held: 0 },
  },
  errors: [{ status: 400, code: "validation_failed", when: "A date or the provider is invalid." }],
};

const HELD_EXAMPLE = {
  provider: "stripe",
  provider_event_id: "evt_1Nx2",
  event_type: "customer.subscription.created",
  customer_id: "cus_NffrFeUfNV2Hib",
  outcome: "unmapped_plan",
  details: [
    {
      path: "",
      message: "price or plan `price_1Q0team` maps to no plan of the rules (add it under `billing.plans`)",
    },
  ],
  received_at: "2026-03-02T09:14:00.000Z",
  last_attempt_at: "2026-03-02T09:14:00.000Z",
  attempts: 1,
};

export const providerHeldDoc: RouteDoc = {
  summary: "List held provider deliveries",
  tag: "Webhooks",
  description:
    "Deliveries that stored nothing (outcome `unmapped_plan`, `unmapped_reason` or `rejected`) and are held with their raw body for `POST /v1/admin/provider-events/replay`, oldest first, without the bodies. Keyset-paged: pass `next_cursor` back as `cursor`.",
  query: {
    provider: { description: "Only this provider's.", schema: PROVIDER_ENUM },
    limit: {
      description: "Deliveries per page (default 50).",
      schema: { type: "integer", minimum: 1, maximum: 200 },
      example: 50,
    },
    cursor: { description: "The `next_cursor` of the previous page.", schema: { type: "string" } },
  },
  response: {
    status: 200,
    description: "One page of held deliveries.",
    schema: {
      type: "object",
      required: ["held", "next_cursor", "total"],
      properties: {
        meta: SHARD_META,
        held: {
          type: "array",
          items: {
            type: "object",
            required: [
              "provider",
              "provider_event_id",
              "event_type",
              "customer_id",
              "outcome",
              "details",
              "received_at",
              "last_attempt_at",
              "attempts",
            ],
            properties: {
              provider: PROVIDER_ENUM,
              provider_event_id: { type: "string" },
              event_type: { type: "string" },
              customer_id: { type: "string" },
              outcome: { enum: ["unmapped_plan", "unmapped_reason", "rejected"] },
              details: DETAILS,
              received_at: { type: "string", format: "date-time", description: "The first delivery." },
              last_attempt_at: {
                type: "string",
                format: "date-time",
                description: "The latest delivery or replay.",
              },
              attempts: { type: "integer", description: "Deliveries and replays that left it held." },
            },
          },
        },
        next_cursor: { type: ["string", "null"] },
        total: { type: "integer", description: "Deliveries held (of `provider`, or all)." },
      },
    },
    example: { held: [HELD_EXAMPLE], next_cursor: null, total: 1 },
  },
  errors: [{ status: 400, code: "validation_failed", when: "The provider, limit or cursor is invalid." }],
};

export const providerReplayDoc: RouteDoc = {
  summary: "Replay held provider deliveries",
  tag: "Webhooks",
  description:
    "Maps up to `limit` held deliveries (oldest first, default 50, at most 100) again under the current rules and ingests them as a delivery would be. Those that now store (or are duplicates, ignored, erased or sealed) leave the hold; the rest stay with their new outcome and details. Idempotent: Rebound event ids come from the provider event id, so a second replay stores nothing new. Call again with `next_cursor` while `remaining` is above 0. The body may be left out.",
  requestBody: {
    schema: {
      type: "object",
      additionalProperties: false,
      properties: {
        provider: PROVIDER_ENUM,
        limit: { type: "integer", minimum: 1, maximum: 100 },
        cursor: { type: ["string", "null"], description: "The `next_cursor` of the previous call." },
      },
    },
    example: { provider: "stripe", limit: 100 },
  },
  response: {
    status: 200,
    description: "What the replay did.",
    schema: {
      type: "object",
      required: ["replayed", "outcomes", "released", "still_held", "next_cursor", "remaining", "held"],
      properties: {
        meta: SHARD_META,
        replayed: { type: "integer", description: "Held deliveries mapped and ingested again." },
        outcomes: {
          type: "object",
          description: "How many came to each outcome (`ingested`, `duplicate`, `unmapped_plan`, ...).",
          additionalProperties: { type: "integer" },
        },
        released: { type: "integer", description: "Left the hold." },
        still_held: { type: "integer", description: "Still held, with new details." },
        next_cursor: { type: ["string", "null"], description: "Where the next call starts." },
        remaining: { type: "integer", description: "Held deliveries after this call's last one." },
        held: { type: "integer", description: "Deliveries held now (of `provider`, or all)." },
      },
    },
    example: {
      replayed: 3,
      outcomes: { ingested: 2, unmapped_plan: 1 },
      released: 2,
      still_held: 1,
      next_cursor: null,
      remaining: 0,
      held: 1,
    },
  },
  errors: [{ status: 400, code: "validation_failed", when: "The provider, limit or cursor is invalid." }],
};
