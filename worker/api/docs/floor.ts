/**
 * OpenAPI documentation of worker/api/routes/floor.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";
import { CUSTOMER_PATH, INTEGER, objectOf, STRING } from "./shared";

export const floorDoc: RouteDoc = {
  summary: "Benchmark floor",
  tag: "Admin",
  description:
    "The least a D1-backed route can do (one primary-key read), behind the same authentication, so `npm run bench:decide` can show what a decision costs on top of it.",
  pathParams: CUSTOMER_PATH,
  response: {
    status: 200,
    description: "The customer row, or null.",
    schema: objectOf({
      customer: objectOf({ id: STRING, status: STRING }),
      meta: objectOf({ rows_read: INTEGER }),
    }),
    example: { customer: { id: "demo-0001", status: "lead" }, meta: { rows_read: 1 } },
  },
  errors: [{ status: 400, code: "validation_failed", when: "The id is not a valid id." }],
};
