/**
 * OpenAPI documentation of worker/api/routes/floor.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const floorDoc: RouteDoc = {
  summary: "Benchmark floor",
  tag: "Admin",
  description:
    "The least a D1-backed route can do (one primary-key read), behind the same authentication, so `npm run bench:decide` can show what a decision costs on top of it.",
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
    description: "The customer row, or null.",
    schema: {
      type: "object",
      required: ["customer", "meta"],
      properties: {
        customer: {
          type: "object",
          required: ["id", "status"],
          properties: {
            id: {
              type: "string",
            },
            status: {
              type: "string",
            },
          },
        },
        meta: {
          type: "object",
          required: ["rows_read"],
          properties: {
            rows_read: {
              type: "integer",
            },
          },
        },
      },
    },
    example: {
      customer: {
        id: "demo-0001",
        status: "lead",
      },
      meta: {
        rows_read: 1,
      },
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
