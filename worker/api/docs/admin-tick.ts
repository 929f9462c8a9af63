/**
 * OpenAPI documentation of worker/api/routes/admin-tick.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { JsonSchema, RouteDoc } from "../app-env";
import {
  BOOLEAN,
  DATE,
  INTEGER,
  objectOf,
  RUN_STATS,
  STRING,
  STRING_OR_NULL,
  TIME,
  TIME_OR_NULL,
} from "./shared";

/** One campaign stage run of the tick (`CampaignRunReport`, worker/tick/report.ts). */
const CAMPAIGN_RUN_REPORT: JsonSchema = objectOf({
  campaign: STRING,
  occurrence: TIME,
  step: STRING,
  due_at: TIME,
  status: { enum: ["done", "paused", "lost", "expired"] },
  resumed: BOOLEAN,
  rows_read_per_selected: { type: ["number", "null"], description: "D1 rows read per audience member read." },
  ...RUN_STATS,
});

/** Stages due that the tick did not run (`CatchUpReport`, worker/tick/report.ts). */
const CATCH_UP_REPORT: JsonSchema = objectOf({
  campaign: STRING,
  step: STRING,
  skipped: {
    type: "array",
    items: TIME,
    description: "Occurrences over the per-tick limit, recorded as skipped runs.",
  },
  beyond_window: { ...INTEGER, description: "Occurrences due before the catch-up window: stale, not run." },
});

/** One shard's part of a sharded tick (`ShardTickFigures`, worker/tick/report.ts). */
const SHARD_FIGURES: JsonSchema = {
  type: "array",
  description:
    "Sharded deployments only: each shard's part of the tick (the figures above add them up; errors carry their `shard`).",
  items: objectOf({
    shard: INTEGER,
    clean: BOOLEAN,
    runs: INTEGER,
    sent: INTEGER,
    queries: INTEGER,
    rows_read: INTEGER,
    errors: INTEGER,
  }),
};

/** The tick report: every field required, and `shards` present only on a sharded deployment. */
function withShards(properties: Readonly<Record<string, JsonSchema>>): JsonSchema {
  const report = objectOf(properties) as { properties: Record<string, JsonSchema> };
  return { ...report, properties: { ...report.properties, shards: SHARD_FIGURES } };
}

export const tickDoc: RouteDoc = {
  summary: "Run the scheduled tick",
  tag: "Admin",
  description:
    'Runs the tick the Cron Trigger runs, as of `at` (default now), and answers with its report. Ticking the same moment twice claims and sends nothing new. With `"dry_run": true` it answers what the tick would do (`effects`, lists capped with `truncated` counts) and writes nothing. A real tick after the wall clock (beyond 5 minutes) is refused unless the deployment sets `REBOUND_ALLOW_FUTURE_TICKS=true`. The body may be left out.',
  requestBody: {
    schema: {
      type: "object",
      additionalProperties: false,
      properties: {
        at: { type: "string", description: "ISO 8601 time with a zone." },
        dry_run: BOOLEAN,
      },
    },
    example: { at: "2026-03-03T15:00:00Z", dry_run: true },
  },
  response: {
    status: 200,
    description: "The tick's report (and, for a dry run, its effects).",
    schema: {
      type: "object",
      required: ["tick"],
      properties: {
        tick: withShards({
          at: TIME,
          catch_up_from: TIME,
          campaigns: { type: "array", items: CAMPAIGN_RUN_REPORT },
          catch_up: { type: "array", items: CATCH_UP_REPORT },
          already_claimed: INTEGER,
          dunning: objectOf({
            opened: INTEGER,
            recovered: INTEGER,
            canceled: INTEGER,
            final_actions: INTEGER,
            sent: INTEGER,
            steps: { type: "object", additionalProperties: INTEGER },
            rows_read: INTEGER,
          }),
          lifecycle: objectOf({
            sent: INTEGER,
            steps: { type: "object", additionalProperties: INTEGER },
            deferred: INTEGER,
            no_offer: INTEGER,
            rows_read: INTEGER,
            window: objectOf({ from: TIME, to: TIME }),
            truncated: BOOLEAN,
          }),
          republished: INTEGER,
          archive: {
            type: ["object", "null"],
            required: [
              "skipped",
              "sealed_before",
              "days_finished",
              "day_in_progress",
              "events",
              "objects",
              "erasure_objects_rewritten",
            ],
            properties: {
              skipped: STRING_OR_NULL,
              sealed_before: TIME_OR_NULL,
              days_finished: { type: "array", items: DATE },
              day_in_progress: STRING_OR_NULL,
              events: INTEGER,
              objects: INTEGER,
              erasure_objects_rewritten: INTEGER,
            },
          },
          legacy_profiles_upgraded: INTEGER,
          queries: INTEGER,
          rows_read: INTEGER,
          errors: { type: "array", items: {} },
          clean: BOOLEAN,
        }),
        dry_run: { const: true },
        effects: objectOf({
          sends: {
            type: "array",
            items: objectOf({
              programme_kind: STRING,
              programme_key: STRING,
              occurrence: STRING,
              step: STRING,
              customer_id: STRING,
              channel: STRING,
              message_key: STRING,
              send_at: TIME,
              offer_key: STRING_OR_NULL,
              subject: STRING,
              body: STRING,
            }),
          },
          decisions: { type: "array", items: {} },
          dunning: objectOf({
            opened: { type: "array", items: {} },
            closed: { type: "array", items: {} },
            cancellations: { type: "array", items: {} },
          }),
          exclusions: { type: "array", items: {} },
          republish: INTEGER,
          archive: objectOf({
            skipped: STRING_OR_NULL,
            day: { type: ["string", "null"], format: "date" },
            erasures_to_continue: INTEGER,
            note: STRING,
          }),
        }),
        truncated: objectOf({
          sends: INTEGER,
          decisions: INTEGER,
          exclusions: INTEGER,
          dunning_opened: INTEGER,
          dunning_closed: INTEGER,
          dunning_cancellations: INTEGER,
        }),
      },
    },
    example: {
      tick: {
        at: "2026-12-04T17:47:51.007Z",
        catch_up_from: "2026-12-03T15:00:00.000Z",
        campaigns: [],
        catch_up: [],
        already_claimed: 0,
        dunning: {
          opened: 0,
          recovered: 0,
          canceled: 0,
          final_actions: 0,
          sent: 2,
          steps: { "standard/day-21": 1, "standard/day-7": 1 },
          rows_read: 59,
        },
        lifecycle: {
          sent: 2,
          steps: { "winback/price/day-7": 1, "winback/product/day-7": 1 },
          deferred: 0,
          no_offer: 0,
          rows_read: 250,
          window: { from: "2026-12-02T15:00:00.000Z", to: "2026-12-04T17:47:51.007Z" },
          truncated: false,
        },
        republished: 0,
        archive: null,
        legacy_profiles_upgraded: 0,
        queries: 21,
        rows_read: 439,
        errors: [],
        clean: true,
      },
      dry_run: true,
      effects: {
        sends: [
          {
            programme_kind: "dunning",
            programme_key: "standard",
            occurrence: "in_demo-0073_3",
            step: "day-21",
            customer_id: "demo-0073",
            channel: "outbox",
            message_key: "dunning_day_21",
            send_at: "2026-12-04T17:47:51.007Z",
            offer_key: null,
            subject: "One week left",
            body: "Your account will be closed in a week unless the payment goes through: https://billing.example.com/update/demo-0073\n",
          },
          {
            programme_kind: "dunning",
            programme_key: "standard",
            occurrence: "in_demo-0120_2",
            step: "day-7",
            customer_id: "demo-0120",
            channel: "outbox",
            message_key: "dunning_day_7",
            send_at: "2026-12-04T17:47:51.007Z",
            offer_key: null,
            subject: "Your account needs attention",
            body: "We still could not charge the card ending in 7941. It takes a minute: https://billing.example.com/update/demo-0120\n",
          },
        ],
        decisions: [],
        dunning: { opened: [], closed: [], cancellations: [] },
        exclusions: [],
        republish: 0,
        archive: {
          skipped: null,
          day: "2026-09-04",
          erasures_to_continue: 0,
          note: "a dry run archives nothing and rewrites no archive object: this is where the tick would start",
        },
      },
      truncated: {
        sends: 0,
        decisions: 0,
        exclusions: 0,
        dunning_opened: 0,
        dunning_closed: 0,
        dunning_cancellations: 0,
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "`at` is not a real time, is in the future on a deployment that refuses that, or the body has another field.",
    },
  ],
};
