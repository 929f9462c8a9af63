/**
 * OpenAPI documentation of worker/api/routes/dunning-cases.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const dunningCasesDoc: RouteDoc = {
  summary: "List dunning cases",
  tag: "Admin",
  description:
    "The dunning cases the tick opened, one per failed invoice, with what became of them, oldest failure first.",
  query: {
    status: {
      description: "Only cases with this status.",
      schema: {
        enum: ["open", "recovered", "canceled", "final"],
      },
    },
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
  },
  response: {
    status: 200,
    description: "The cases.",
    schema: {
      type: "object",
      required: ["cases"],
      properties: {
        cases: {
          type: "array",
          items: {
            type: "object",
            required: [
              "customer_id",
              "invoice_id",
              "cadence",
              "status",
              "failed_at",
              "amount",
              "currency",
              "opened_at",
              "last_step",
              "last_step_at",
              "closed_at",
              "recovered_at",
              "mrr_saved",
              "recovered_after_step",
              "final_actions",
            ],
            properties: {
              customer_id: {
                type: "string",
              },
              invoice_id: {
                type: "string",
              },
              cadence: {
                type: "string",
              },
              status: {
                type: "string",
              },
              failed_at: {
                type: "string",
                format: "date-time",
              },
              amount: {
                type: ["integer", "null"],
              },
              currency: {
                type: ["string", "null"],
              },
              opened_at: {
                type: "string",
                format: "date-time",
              },
              last_step: {
                type: ["string", "null"],
              },
              last_step_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              closed_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              recovered_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              mrr_saved: {
                type: ["integer", "null"],
              },
              recovered_after_step: {
                type: ["string", "null"],
              },
              final_actions: {
                type: ["array", "null"],
                items: {
                  type: "string",
                },
              },
            },
          },
        },
      },
    },
    example: {
      cases: [
        {
          customer_id: "demo-0032",
          invoice_id: "in_demo-0032_3",
          cadence: "standard",
          status: "final",
          failed_at: "2026-10-02T08:12:24.547Z",
          amount: 4900,
          currency: "USD",
          opened_at: "2026-10-25T15:00:00.000Z",
          last_step: "day-28",
          last_step_at: "2026-10-30T15:00:00.000Z",
          closed_at: "2026-11-01T15:00:00.000Z",
          recovered_at: null,
          mrr_saved: null,
          recovered_after_step: null,
          final_actions: ["cancel"],
        },
        {
          customer_id: "demo-0005",
          invoice_id: "in_demo-0005_4",
          cadence: "standard",
          status: "final",
          failed_at: "2026-10-02T13:19:31.674Z",
          amount: 1805,
          currency: "AUD",
          opened_at: "2026-10-25T15:00:00.000Z",
          last_step: "day-28",
          last_step_at: "2026-10-30T15:00:00.000Z",
          closed_at: "2026-11-01T15:00:00.000Z",
          recovered_at: null,
          mrr_saved: null,
          recovered_after_step: null,
          final_actions: ["cancel"],
        },
      ],
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "`status`, the customer id or `limit` is invalid.",
    },
  ],
};
