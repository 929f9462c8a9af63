/**
 * OpenAPI documentation of worker/api/routes/shards.ts (served at GET /openapi.json). Schemas and
 * examples follow the handlers' answers field by field (worker/shards/plan.ts, move-pass.ts).
 */
import type { JsonSchema, RouteDoc } from "../app-env";
import { INTEGER, INTEGER_OR_NULL, objectOf, STRING, STRING_OR_NULL } from "./shared";

const SHARD_COUNT: JsonSchema = objectOf({
  index: { ...INTEGER, description: "0 for `DB` (also the control database), i for `DB_<i>`." },
  binding: STRING,
  customers: {
    ...INTEGER,
    description: "Customers stored on the shard (moved ones count on the new shard).",
  },
});

const MOVED: JsonSchema = objectOf({
  customer_id: STRING,
  from: INTEGER,
  to: INTEGER,
  rows: { ...INTEGER, description: "Rows copied (0 when an earlier call had copied and switched it)." },
});

const SKIPPED: JsonSchema = objectOf({
  customer_id: STRING,
  from: INTEGER,
  to: INTEGER,
  reason: {
    enum: ["send_in_flight", "campaign_running", "lifecycle_behind", "already_on_new_shard", "verify_failed"],
    description:
      "`send_in_flight`: a send of the customer is being delivered; `campaign_running`: a campaign run of the old shard is unfinished; `lifecycle_behind`: the new shard's lifecycle scans are ahead of the old shard's (the old shard's next tick catches up); all three clear by themselves, and a later pass moves the customer. `already_on_new_shard`: the new shard holds the customer without a move (see docs/scaling.md). `verify_failed`: the copy differed and was undone.",
  },
});

export const shardsPlanDoc: RouteDoc = {
  summary: "Show the shards and the growth in progress",
  tag: "Admin",
  description:
    "The shard count (`SHARDS`), the count before the growth in progress (`SHARDS_FROM`, or `?from` after it was removed), the customers on each shard, the slots that move and the customers still on a shard their slot has left. Counting those reads every customer id of the old shards; past 400 statements `to_move` is null. See docs/scaling.md.",
  query: {
    from: {
      description: "The old count, when `SHARDS_FROM` is no longer set (to look for customers left behind).",
      schema: { type: "integer", minimum: 1, maximum: 63 },
    },
  },
  response: {
    status: 200,
    description: "The plan.",
    schema: objectOf({
      count: INTEGER,
      from: INTEGER_OR_NULL,
      shards: { type: "array", items: SHARD_COUNT },
      slots_moving: { ...INTEGER, description: "Of 4,096 slots, those the growth places on another shard." },
      to_move: {
        ...INTEGER_OR_NULL,
        description: "Customers still to move; null when the scan ran out of budget.",
      },
      queries: { ...INTEGER, description: "D1 statements the answer cost." },
    }),
    example: {
      count: 5,
      from: 4,
      shards: [
        { index: 0, binding: "DB", customers: 2410 },
        { index: 1, binding: "DB_1", customers: 2388 },
        { index: 2, binding: "DB_2", customers: 2502 },
        { index: 3, binding: "DB_3", customers: 2440 },
        { index: 4, binding: "DB_4", customers: 260 },
      ],
      slots_moving: 819,
      to_move: 1740,
      queries: 9,
    },
  },
  errors: [{ status: 400, code: "validation_failed", when: "`from` is not a whole number below `SHARDS`." }],
};

export const shardsMoveDoc: RouteDoc = {
  summary: "Move customers to the shards a growth places them on",
  tag: "Admin",
  description:
    "Moves up to `limit` customers (default 10, at most 15) whose slot the growth in progress places on a new shard: fence, copy, verify, switch, clean up, each step idempotent and resumable (docs/scaling.md). While a customer is moved its writes answer 503 `customer_moving` with `Retry-After`. Call again with `next_cursor` until it is null (one pass); then, while `remaining` is above 0 (customers skipped for a send in flight or a running campaign), start another pass without a cursor. `npm run shards:move` does exactly that. Each call stays well under D1's 1,000 statements per invocation.",
  requestBody: {
    schema: {
      type: "object",
      additionalProperties: false,
      properties: {
        limit: { type: "integer", minimum: 1, maximum: 15 },
        cursor: { type: ["string", "null"], description: "The `next_cursor` of the previous call." },
        from: {
          type: "integer",
          minimum: 1,
          maximum: 63,
          description: "The old count, only when `SHARDS_FROM` is no longer set.",
        },
        shard: {
          type: "integer",
          minimum: 0,
          maximum: 62,
          description:
            "Walk only this old shard: passes over different old shards can run side by side (`npm run shards:move -- --parallel`).",
        },
      },
    },
    example: { limit: 10 },
  },
  response: {
    status: 200,
    description: "What the call moved and skipped, and where the next call goes on.",
    schema: objectOf({
      from: INTEGER,
      count: INTEGER,
      moved: { type: "array", items: MOVED },
      skipped: { type: "array", items: SKIPPED },
      scanned: { ...INTEGER, description: "Customer ids read looking for customers to move." },
      erasures_copied: {
        ...INTEGER,
        description: "Erasure rows copied to the new shards (first call of a pass).",
      },
      next_cursor: STRING_OR_NULL,
      remaining: {
        ...INTEGER_OR_NULL,
        description:
          "At the end of a pass (`next_cursor` null): customers still to move. Null mid-pass, or when counting them would take more than 400 statements.",
      },
      queries: { ...INTEGER, description: "D1 statements the call issued." },
    }),
    example: {
      from: 4,
      count: 5,
      moved: [{ customer_id: "cus_0193", from: 2, to: 4, rows: 57 }],
      skipped: [{ customer_id: "cus_0418", from: 1, to: 4, reason: "send_in_flight" }],
      scanned: 23,
      erasures_copied: 0,
      next_cursor: "WzIsImN1c18wNDE4Il0",
      remaining: null,
      queries: 131,
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "`limit`, `cursor` or `shard` is invalid, or no growth is in progress and `from` is missing.",
    },
  ],
};

const FINISHED: JsonSchema = objectOf({
  index: INTEGER,
  binding: STRING,
  fence_triggers: {
    ...INTEGER,
    description: "Fence triggers dropped: 30 on a shard the growth involved, else 0.",
  },
  tombstones: { ...INTEGER, description: "`moved` fences deleted (customers moved off this shard)." },
  placements: {
    ...INTEGER,
    description: "`customer_placements` rows deleted: on the control database (shard 0) only.",
  },
});

export const shardsFinishDoc: RouteDoc = {
  summary: "Finish a growth: drop the fence triggers, tombstones and placements",
  tag: "Admin",
  description:
    "Run once the deploy that removes `SHARDS_FROM` has rolled out everywhere (`npm run shards:move -- --finish`). On every shard, in one batch per shard: drops the fence triggers the move tool installed (each written row of a per-customer table probes `customer_fences` while they exist), deletes the `moved` tombstones, and on the control database deletes the `customer_placements` rows (read only during a growth). Idempotent. A call stops before 850 statements (33 per shard): call again with `next_shard` until it is null. A later move call puts the triggers back: finish again after it. See docs/scaling.md.",
  requestBody: {
    schema: {
      type: "object",
      additionalProperties: false,
      properties: {
        shard: {
          type: "integer",
          minimum: 0,
          maximum: 63,
          description: "The `next_shard` of the previous call (default 0).",
        },
      },
    },
    example: {},
  },
  response: {
    status: 200,
    description: "What was removed from each shard the call finished.",
    schema: objectOf({
      shards: { type: "array", items: FINISHED },
      next_shard: {
        ...INTEGER_OR_NULL,
        description: "Where the next call starts; null when every shard is done.",
      },
      queries: { ...INTEGER, description: "D1 statements the call issued." },
    }),
    example: {
      shards: [
        { index: 0, binding: "DB", fence_triggers: 30, tombstones: 412, placements: 1740 },
        { index: 1, binding: "DB_1", fence_triggers: 30, tombstones: 398, placements: 0 },
        { index: 2, binding: "DB_2", fence_triggers: 30, tombstones: 470, placements: 0 },
        { index: 3, binding: "DB_3", fence_triggers: 30, tombstones: 460, placements: 0 },
        { index: 4, binding: "DB_4", fence_triggers: 30, tombstones: 0, placements: 0 },
      ],
      next_shard: null,
      queries: 170,
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "The body has a field other than `shard`, or `shard` is invalid.",
    },
    {
      status: 409,
      code: "growth_in_progress",
      when: "`SHARDS_FROM` is still set, or a shard holds a `leaving` or `arriving` fence (a move under way or interrupted: run the move tool again first).",
    },
  ],
};
