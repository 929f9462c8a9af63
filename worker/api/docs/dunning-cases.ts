/**
 * OpenAPI documentation of worker/api/routes/dunning-cases.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";
import {
  CUSTOMER_FILTER_PARAM,
  DUNNING_CASE_FIELDS,
  LIMIT_200_PARAM,
  objectOf,
  TIME_OR_NULL,
  withShardMeta,
} from "./shared";

export const dunningCasesDoc: RouteDoc = {
  summary: "List dunning cases",
  tag: "Admin",
  description:
    "The dunning cases the tick opened, one per failed invoice, with what became of them, oldest failure first.",
  query: {
    status: {
      description: "Only cases with this status.",
      schema: { enum: ["open", "recovered", "canceled", "final"] },
    },
    customer_id: CUSTOMER_FILTER_PARAM,
    limit: LIMIT_200_PARAM,
  },
  response: {
    status: 200,
    description: "The cases.",
    schema: withShardMeta(
      objectOf({
        cases: {
          type: "array",
          items: objectOf({ ...DUNNING_CASE_FIELDS, last_step_at: TIME_OR_NULL }),
        },
      }),
    ),
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
