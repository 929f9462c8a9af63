/**
 * OpenAPI documentation of worker/api/routes/events.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";
import { INTEGER, objectOf } from "./shared";

export const postEventsDoc: RouteDoc = {
  summary: "Record events",
  tag: "Events",
  description:
    'Ingests one event, or a batch `{"events": [...]}` of up to 500. All or nothing: any invalid item rejects the whole request with every problem listed (`validation_failed`, one detail per problem, JSON Pointers into the body). Events are idempotent by `id`: a resent event counts as a duplicate; an id already stored with other content is listed in `conflicting_ids` and the stored event wins.\n\n**Sharded deployments** (`SHARDS` > 1): a batch is split by customer database and each database stores its part all or nothing. A batch whose customers all live on one database answers exactly as above. One that spans databases answers 200 only when every part was stored; when a part failed, nothing of that part was stored and the answer says so: 503 `events_not_all_stored` (400 `validation_failed` when the only failures are events dated in archived days) with one detail per event not stored, `not_stored_ids`, and `stored` (the 200\'s counts for the parts that were). Sending the whole request again is safe and stores the rest exactly once: the stored events come back as duplicates.',
  requestBody: {
    schema: {
      anyOf: [
        { $ref: "https://rebound.dev/schemas/event-batch.json" },
        { $ref: "https://rebound.dev/schemas/event.json" },
      ],
    },
    description: 'One event, or `{"events": [...]}`.',
    example: {
      events: [
        {
          id: "evt_1001",
          type: "subscription.started",
          customer_id: "cus_42",
          occurred_at: "2026-03-01T09:30:00Z",
          properties: { plan: "pro", mrr: 4900, currency: "USD" },
        },
      ],
    },
  },
  response: {
    status: 200,
    description: "The events were stored (or were duplicates).",
    schema: objectOf({
      accepted: INTEGER,
      duplicates: INTEGER,
      duplicate_ids: { type: "array", items: {} },
      conflicting_ids: { type: "array", items: {} },
      erased: INTEGER,
      erased_ids: { type: "array", items: {} },
      meta: objectOf({ rows_read: INTEGER, rows_written: INTEGER }),
    }),
    example: {
      accepted: 1,
      duplicates: 0,
      duplicate_ids: [],
      conflicting_ids: [],
      erased: 0,
      erased_ids: [],
      meta: { rows_read: 19, rows_written: 14 },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "An event breaks the schema, names an undeclared reason, plan or attribute, or is dated in a day already archived.",
    },
    {
      status: 400,
      code: "too_many_events",
      when: "A batch carries more than 500 events.",
    },
    {
      status: 503,
      code: "ingest_busy",
      when: "Concurrent writes for the same customers kept conflicting; send the request again.",
    },
    {
      status: 503,
      code: "customer_moving",
      when: "A customer of the request is being moved to another database (shards being added); send the request again in a few seconds.",
    },
    {
      status: 503,
      code: "events_not_all_stored",
      when: "Sharded deployments: a batch spanning customer databases was stored on some and not on others. The body adds `stored` (the counts of what was stored) and `not_stored_ids`; send the whole request again, stored events come back as duplicates.",
    },
  ],
};
