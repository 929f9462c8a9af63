/**
 * OpenAPI documentation of worker/api/routes/campaign-runs.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { JsonSchema, RouteDoc } from "../app-env";
import {
  CURSOR_PARAM,
  INTEGER,
  LIMIT_200_PARAM,
  NEXT_CURSOR,
  objectOf,
  RUN_STATS,
  STRING,
  STRING_OR_NULL,
  TIME,
  TIME_OR_NULL,
  withShardMeta,
} from "./shared";

/** A run of a sharded deployment also says how many shards hold a part of it. */
function withShards(schema: JsonSchema): JsonSchema {
  return {
    ...schema,
    properties: {
      ...(schema.properties as object),
      shards: {
        type: "integer",
        description:
          "Only on a sharded deployment: how many shards ran a part of this run (their counters are summed).",
      },
    },
  };
}

export const campaignRunsDoc: RouteDoc = {
  summary: "List campaign runs",
  tag: "Admin",
  description:
    "Every campaign occurrence step the tick claimed, ran, skipped or expired, newest first, with its counters. On a sharded deployment the parts of one run on several shards are one run (counters summed; `running` while any part runs, else `expired`, `skipped`, `done`), ordered by due time, campaign, occurrence and step, newest first, and a page filtered by `status` may hold fewer than `limit` runs.",
  query: {
    status: {
      description: "Only runs with this status.",
      schema: { enum: ["running", "done", "skipped", "expired"] },
    },
    campaign: {
      description: "Only this campaign's runs.",
      schema: STRING,
      example: "spring_sale",
    },
    limit: LIMIT_200_PARAM,
    cursor: CURSOR_PARAM,
  },
  response: {
    status: 200,
    description: "A page of runs.",
    schema: withShardMeta(
      objectOf({
        runs: {
          type: "array",
          items: withShards(
            objectOf({
              id: STRING,
              campaign: STRING,
              occurrence: TIME,
              step: STRING,
              due_at: TIME,
              status: STRING,
              attempts: INTEGER,
              cursor: STRING,
              stats: objectOf({
                ...RUN_STATS,
              }),
              note: STRING_OR_NULL,
              lease_expires_at: TIME_OR_NULL,
              claimed_at: TIME,
              finished_at: TIME,
            }),
          ),
        },
        next_cursor: NEXT_CURSOR,
      }),
    ),
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
