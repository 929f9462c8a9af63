/**
 * OpenAPI documentation of worker/api/routes/outbox.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const listOutboxDoc: RouteDoc = {
  summary: "List outbox messages",
  tag: "Sends",
  description:
    'The messages the outbox channel (the local default) has "delivered", newest first: what customers would have received.',
  query: {
    customer_id: {
      description: "Only this customer's.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
      example: "cus_42",
    },
    limit: {
      description: "Items per page, 1 to 200 (default 50).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 200,
      },
      example: 50,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
  },
  response: {
    status: 200,
    description: "A page of messages.",
    schema: {
      type: "object",
      required: ["messages", "next_cursor"],
      properties: {
        messages: {
          type: "array",
          items: {
            type: "object",
            required: [
              "send_id",
              "customer_id",
              "recipient",
              "message_key",
              "subject",
              "text",
              "html",
              "programme",
              "delivered_at",
            ],
            properties: {
              send_id: {
                type: "string",
              },
              customer_id: {
                type: "string",
              },
              recipient: {
                type: "string",
              },
              message_key: {
                type: "string",
              },
              subject: {
                type: "string",
              },
              text: {
                type: "string",
              },
              html: {
                type: ["string", "null"],
              },
              programme: {
                type: "object",
                required: ["kind", "key", "occurrence", "step"],
                properties: {
                  kind: {
                    type: "string",
                  },
                  key: {
                    type: "string",
                  },
                  occurrence: {
                    type: "string",
                  },
                  step: {
                    type: "string",
                  },
                },
              },
              delivered_at: {
                type: "string",
                format: "date-time",
              },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
        },
      },
    },
    example: {
      messages: [
        {
          send_id: "snd_01a23c6b61800000f61b64ba7a5e",
          customer_id: "demo-0054",
          recipient: "wen.0054@example.com",
          message_key: "nudge_team",
          subject: "Your team misses you",
          text: "Your pro workspace at Acme Analytics has been quiet. Here is what is new.\n",
          html: null,
          programme: {
            kind: "inactivity",
            key: "team_quiet_two_weeks",
            occurrence: "2026-11-19T07:48:14.383Z",
            step: "0",
          },
          delivered_at: "2026-12-04T17:47:50.902Z",
        },
        {
          send_id: "snd_01a23c6b61800000d01ac4981b6a",
          customer_id: "demo-0095",
          recipient: "tara.0095@example.com",
          message_key: "dunning_day_0",
          subject: "Your payment did not go through",
          text: "Hi Tara, we could not charge your card ending in 4936\nfor €141.55. Update it here: https://billing.example.com/update/demo-0095\n",
          html: null,
          programme: {
            kind: "dunning",
            key: "standard",
            occurrence: "in_demo-0095_3",
            step: "day-0",
          },
          delivered_at: "2026-12-04T17:47:50.902Z",
        },
      ],
      next_cursor: "snd_01a23c6b61800000d01ac4981b6a",
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "The customer id, `limit` or `cursor` is invalid.",
    },
  ],
};
