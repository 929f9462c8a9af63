/**
 * OpenAPI documentation of worker/api/routes/campaign-runs.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const campaignRunsDoc: RouteDoc = {
  summary: "List campaign runs",
  tag: "Admin",
  description:
    "Every campaign occurrence step the tick claimed, ran, skipped or expired, newest first, with its counters.",
  query: {
    status: {
      description: "Only runs with this status.",
      schema: {
        enum: ["running", "done", "skipped", "expired"],
      },
    },
    campaign: {
      description: "Only this campaign's runs.",
      schema: {
        type: "string",
      },
      example: "spring_sale",
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
    description: "A page of runs.",
    schema: {
      type: "object",
      required: ["runs", "next_cursor"],
      properties: {
        runs: {
          type: "array",
          items: {
            type: "object",
            required: [
              "id",
              "campaign",
              "occurrence",
              "step",
              "due_at",
              "status",
              "attempts",
              "cursor",
              "stats",
              "note",
              "lease_expires_at",
              "claimed_at",
              "finished_at",
            ],
            properties: {
              id: {
                type: "string",
              },
              campaign: {
                type: "string",
              },
              occurrence: {
                type: "string",
                format: "date-time",
              },
              step: {
                type: "string",
              },
              due_at: {
                type: "string",
                format: "date-time",
              },
              status: {
                type: "string",
              },
              attempts: {
                type: "integer",
              },
              cursor: {
                type: "string",
              },
              stats: {
                type: "object",
                required: [
                  "audience",
                  "sent",
                  "deferred",
                  "holdout",
                  "frequency_capped",
                  "already_sent",
                  "no_offer",
                  "rows_read",
                  "pages",
                ],
                properties: {
                  audience: {
                    type: "integer",
                  },
                  sent: {
                    type: "integer",
                  },
                  deferred: {
                    type: "integer",
                  },
                  holdout: {
                    type: "integer",
                  },
                  frequency_capped: {
                    type: "integer",
                  },
                  already_sent: {
                    type: "integer",
                  },
                  no_offer: {
                    type: "integer",
                  },
                  rows_read: {
                    type: "integer",
                  },
                  pages: {
                    type: "integer",
                  },
                },
              },
              note: {
                type: ["string", "null"],
              },
              lease_expires_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              claimed_at: {
                type: "string",
                format: "date-time",
              },
              finished_at: {
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
      runs: [
        {
          id: "run_01a2321ea9800000dccbeef474b3",
          campaign: "spring_winback",
          occurrence: "2026-12-01T15:00:00.000Z",
          step: "0",
          due_at: "2026-12-01T15:00:00.000Z",
          status: "done",
          attempts: 1,
          cursor: "demo-0122",
          stats: {
            audience: 39,
            sent: 12,
            deferred: 4,
            holdout: 6,
            frequency_capped: 21,
            already_sent: 0,
            no_offer: 0,
            rows_read: 181,
            pages: 1,
          },
          note: null,
          lease_expires_at: null,
          claimed_at: "2026-12-01T15:00:00.000Z",
          finished_at: "2026-12-01T15:00:00.000Z",
        },
        {
          id: "run_01a227d1f1800000ee6ca5a2c7c5",
          campaign: "spring_winback",
          occurrence: "2026-11-24T15:00:00.000Z",
          step: "1",
          due_at: "2026-11-29T15:00:00.000Z",
          status: "done",
          attempts: 1,
          cursor: "demo-0116",
          stats: {
            audience: 21,
            sent: 21,
            deferred: 5,
            holdout: 0,
            frequency_capped: 0,
            already_sent: 0,
            no_offer: 0,
            rows_read: 143,
            pages: 1,
          },
          note: null,
          lease_expires_at: null,
          claimed_at: "2026-11-29T15:00:00.000Z",
          finished_at: "2026-11-29T15:00:00.000Z",
        },
      ],
      next_cursor: "run_01a227d1f1800000ee6ca5a2c7c5",
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "`status`, `limit` or `cursor` is invalid.",
    },
  ],
};
