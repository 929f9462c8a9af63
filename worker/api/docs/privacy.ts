/**
 * OpenAPI documentation of worker/api/routes/privacy.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";
import { profileSchema } from "./customers";

export const exportDoc: RouteDoc = {
  summary: "Export a customer's data",
  tag: "Privacy",
  description:
    "Everything Rebound holds about the customer as one JSON document (an attachment), archived events included.",
  pathParams: {
    id: {
      description: "The customer's id, as your events name it.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
      example: "cus_42",
    },
  },
  response: {
    status: 200,
    description: "The customer's data.",
    schema: {
      type: "object",
      required: [
        "customer_id",
        "exported_at",
        "profile",
        "events",
        "daily_history",
        "decisions",
        "redemptions",
        "sends",
        "outbox",
        "dunning_cases",
        "campaign_exclusions",
        "provider_held_events",
        "erased_at",
      ],
      properties: {
        customer_id: {
          type: "string",
        },
        exported_at: {
          type: "string",
          format: "date-time",
        },
        profile: { anyOf: [profileSchema("epoch_ms"), { type: "null" }] },
        events: {
          type: "array",
          items: {
            type: "object",
            required: ["id", "type", "occurred_at", "received_at", "properties", "archived"],
            properties: {
              id: {
                type: "string",
              },
              type: {
                type: "string",
              },
              occurred_at: {
                type: "string",
                format: "date-time",
              },
              received_at: {
                type: "string",
                format: "date-time",
              },
              properties: {
                type: "object",
                description: "The event's properties, as sent.",
              },
              archived: {
                type: "boolean",
              },
            },
          },
        },
        daily_history: {
          type: "array",
          items: {
            type: "object",
            required: ["day", "type", "currency", "count", "amount", "latest_at", "latest_id", "latest"],
            properties: {
              day: {
                type: "string",
                format: "date",
              },
              type: {
                type: "string",
              },
              currency: {
                type: "string",
              },
              count: {
                type: "integer",
              },
              amount: {
                type: "integer",
              },
              latest_at: {
                type: "integer",
              },
              latest_id: {
                type: "string",
              },
              latest: {},
            },
          },
        },
        decisions: {
          type: "array",
          items: {},
        },
        redemptions: {
          type: "array",
          items: {},
        },
        sends: {
          type: "array",
          items: {},
        },
        outbox: {
          type: "array",
          items: {},
        },
        dunning_cases: {
          type: "array",
          items: {},
        },
        campaign_exclusions: {
          type: "array",
          items: {},
        },
        provider_held_events: {
          type: "array",
          description: "Billing-provider deliveries held for replay, each with the provider's payload.",
          items: {},
        },
        erased_at: {
          type: ["string", "null"],
          format: "date-time",
        },
      },
    },
    example: {
      customer_id: "demo-0002",
      exported_at: "2026-12-04T17:47:51.549Z",
      profile: {
        id: "demo-0002",
        email: "gus.0002@example.com",
        first_name: "Gus",
        country: "US",
        timezone: "America/Los_Angeles",
        plan: null,
        mrr: null,
        currency: null,
        status: "lead",
        signed_up_at: null,
        canceled_at: null,
        churn_reason: null,
        churn_comment: null,
        reactivated_at: null,
        last_active_at: 1782861894124,
        ltv: 0,
        order_count: 0,
        order_total: 0,
        aov: null,
        referrals: 0,
        nps: null,
        open_tickets: 0,
        last_ticket_satisfied: null,
        payment_failed_at: null,
        failed_invoice_id: null,
        failed_amount: null,
        decline_code: null,
        card_last4: null,
        update_url: null,
        card_expires_at: null,
        attributes: {
          channel: "referral",
          company_size: "small",
        },
        first_seen_at: 1782545594291,
        last_event_at: 1782861894124,
      },
      events: [
        {
          id: "demo-0002.1",
          type: "customer.updated",
          occurred_at: "2026-06-27T07:33:14.291Z",
          received_at: "2026-12-04T17:47:30.027Z",
          properties: {
            attributes: {
              channel: "referral",
              company_size: "small",
            },
            country: "US",
            email: "gus.0002@example.com",
            first_name: "Gus",
            timezone: "America/Los_Angeles",
          },
          archived: true,
        },
        {
          id: "demo-0002.2",
          type: "activity",
          occurred_at: "2026-06-30T23:24:54.124Z",
          received_at: "2026-12-04T17:47:30.027Z",
          properties: {
            feature: "reports",
          },
          archived: true,
        },
      ],
      daily_history: [
        {
          day: "2026-06-27",
          type: "customer.updated",
          currency: "",
          count: 1,
          amount: 0,
          latest_at: 1782545594291,
          latest_id: "demo-0002.1",
          latest: null,
        },
        {
          day: "2026-06-30",
          type: "activity",
          currency: "",
          count: 1,
          amount: 0,
          latest_at: 1782861894124,
          latest_id: "demo-0002.2",
          latest: null,
        },
      ],
      decisions: [],
      redemptions: [],
      sends: [],
      outbox: [],
      dunning_cases: [],
      campaign_exclusions: [],
      provider_held_events: [],
      erased_at: null,
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "The id is not a valid id.",
    },
  ],
};

export const eraseDoc: RouteDoc = {
  summary: "Erase a customer's data",
  tag: "Privacy",
  description:
    "Deletes everything about the customer, the archive included, keeping only a pseudonym that refuses their events from then on. Idempotent: repeat until `status` is `erased`.",
  pathParams: {
    id: {
      description: "The customer's id, as your events name it.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
      example: "cus_42",
    },
  },
  response: {
    status: 200,
    description: "What was deleted.",
    schema: {
      type: "object",
      required: [
        "customer_key",
        "erased_at",
        "status",
        "deleted",
        "archive_objects_rewritten",
        "archive_days_remaining",
      ],
      properties: {
        customer_key: {
          type: "string",
        },
        erased_at: {
          type: "string",
          format: "date-time",
        },
        status: {
          type: "string",
        },
        deleted: {
          type: "object",
          required: [
            "customers",
            "events",
            "event_days",
            "decisions",
            "redemptions",
            "sends",
            "outbox",
            "dunning_cases",
            "campaign_exclusions",
            "provider_held_events",
          ],
          properties: {
            customers: {
              type: "integer",
            },
            events: {
              type: "integer",
            },
            event_days: {
              type: "integer",
            },
            decisions: {
              type: "integer",
            },
            redemptions: {
              type: "integer",
            },
            sends: {
              type: "integer",
            },
            outbox: {
              type: "integer",
            },
            dunning_cases: {
              type: "integer",
            },
            campaign_exclusions: {
              type: "integer",
            },
            provider_held_events: {
              type: "integer",
            },
          },
        },
        archive_objects_rewritten: {
          type: "integer",
        },
        archive_days_remaining: {
          type: "integer",
        },
      },
    },
    example: {
      customer_key: "bc0541511ac6a799e989e187509198d48b82dbb7ac1952daf14e2b0cf1641f21",
      erased_at: "2026-12-04T17:47:51.592Z",
      status: "erased",
      deleted: {
        customers: 1,
        events: 0,
        event_days: 5,
        decisions: 0,
        redemptions: 0,
        sends: 0,
        outbox: 0,
        dunning_cases: 0,
        campaign_exclusions: 0,
        provider_held_events: 0,
      },
      archive_objects_rewritten: 5,
      archive_days_remaining: 0,
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "The id is not a valid id.",
    },
  ],
};
