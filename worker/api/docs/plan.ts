/**
 * OpenAPI documentation of worker/api/routes/plan.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { JsonSchema, RouteDoc } from "../app-env";
import {
  INTEGER,
  INTEGER_OR_NULL,
  NEXT_CURSOR,
  objectOf,
  STRING,
  STRING_OR_NULL,
  TIME,
  withShardMeta,
} from "./shared";

const IDS: JsonSchema = { type: "array", items: STRING, description: "The first customer ids, as examples." };

/** Minor units per currency (`{ "USD": 6000 }`): the reward cost if every customer asking took the offer. */
const COST_PER_CURRENCY: JsonSchema = {
  type: "object",
  propertyNames: { pattern: "^[A-Z]{3}$" },
  additionalProperties: INTEGER,
};

/** `PlanCampaignStats` (dsl/plan-report.ts): what one campaign stage occurrence would do; null when the stage is not in that ruleset. */
const CAMPAIGN_STATS: JsonSchema = {
  ...objectOf({
    audience: INTEGER,
    sent: INTEGER,
    holdout: INTEGER,
    frequency_capped: INTEGER,
    deferred: INTEGER,
    no_offer: INTEGER,
  }),
  type: ["object", "null"],
};

/** `PlanProgrammeCounts` (dsl/plan-report.ts): the sends and final actions of one programme; null when it is not in that ruleset. */
const PROGRAMME_COUNTS: JsonSchema = {
  ...objectOf({
    sends: INTEGER,
    final_actions: INTEGER,
    cancels: INTEGER,
    by_day: {
      type: "object",
      description: "Per UTC day (`YYYY-MM-DD`) of the send or final action.",
      additionalProperties: objectOf({ sends: INTEGER, final_actions: INTEGER }),
    },
    steps: { type: "object", description: "Customers per step.", additionalProperties: INTEGER },
    customers: INTEGER,
    examples: IDS,
  }),
  type: ["object", "null"],
};

/** A dunning cadence that would send one reminder and cancel one subscription. */
const DUNNING_COUNTS_EXAMPLE = {
  sends: 2,
  final_actions: 1,
  cancels: 1,
  by_day: {
    "2026-12-05": { sends: 1, final_actions: 0 },
    "2026-12-07": { sends: 1, final_actions: 1 },
  },
  steps: { "day-28": 1, final: 1 },
  customers: 1,
  examples: ["demo-0026"],
};

/** A win-back sequence that would send six messages to five customers. */
const WINBACK_COUNTS_EXAMPLE = {
  sends: 6,
  final_actions: 0,
  cancels: 0,
  by_day: {
    "2026-12-13": { sends: 2, final_actions: 0 },
    "2026-12-30": { sends: 1, final_actions: 0 },
    "2026-12-08": { sends: 1, final_actions: 0 },
    "2026-12-31": { sends: 1, final_actions: 0 },
    "2026-12-19": { sends: 1, final_actions: 0 },
  },
  steps: { "day-60": 2, "day-30": 3, "day-7": 1 },
  customers: 5,
  examples: ["demo-0007", "demo-0017"],
};

/** A sharded deployment says how many shards the page was read on. */
const PLAN_META: JsonSchema = {
  type: "object",
  description:
    "Only on a sharded deployment: how many shards the page was read on (its cost is summed over them).",
  required: ["shards"],
  properties: { shards: { type: "integer" } },
};

export const planDoc: RouteDoc = {
  summary: "Plan a rules change",
  tag: "Admin",
  description:
    "What a proposed ruleset (the IR `rebound build` writes) would do to real customers, read-only, one page at a time (`next_cursor`). `rebound plan` pages through it. Nothing is written.",
  requestBody: {
    schema: {
      type: "object",
      required: ["ruleset"],
      additionalProperties: false,
      properties: {
        ruleset: {
          type: "object",
          description: "The proposed ruleset, as `rebound build` writes it.",
        },
        base: {
          type: "object",
          description: "The ruleset to compare with (default: the deployed one).",
        },
        days: { type: "integer", minimum: 1, maximum: 90, default: 30 },
        at: STRING,
        cursor: STRING,
        page_size: { type: "integer", minimum: 1, maximum: 2000, default: 500 },
      },
    },
    example: { ruleset: { version: "sha256:…" }, days: 30, page_size: 500 },
  },
  response: {
    status: 200,
    description: "One page of the plan.",
    schema: withShardMeta(
      objectOf({
        plan: objectOf({
          at: TIME,
          until: TIME,
          days: INTEGER,
          base: objectOf({ version: STRING, source: { enum: ["deployed", "request"] } }),
          proposed: objectOf({ version: STRING }),
          customers: INTEGER,
          customers_with_offer_moves: INTEGER,
          open_cases_without_cadence: objectOf({ before: INTEGER, after: INTEGER }),
          segments: {
            type: "array",
            items: objectOf({
              segment: STRING,
              before: INTEGER_OR_NULL,
              after: INTEGER_OR_NULL,
              entering: INTEGER,
              leaving: INTEGER,
              entering_examples: IDS,
              leaving_examples: IDS,
            }),
          },
          offers: {
            type: "array",
            items: objectOf({
              context: STRING,
              reason: STRING_OR_NULL,
              moves: {
                type: "array",
                items: objectOf({
                  from: STRING_OR_NULL,
                  to: STRING_OR_NULL,
                  customers: INTEGER,
                  examples: IDS,
                }),
              },
              unchanged: INTEGER,
              cost_before: COST_PER_CURRENCY,
              cost_after: COST_PER_CURRENCY,
              unpriced_before: INTEGER,
              unpriced_after: INTEGER,
              holding_offer: INTEGER,
            }),
          },
          campaigns: {
            type: "array",
            items: objectOf({
              campaign: STRING,
              occurrence: TIME,
              step: STRING,
              due_at: TIME,
              before: CAMPAIGN_STATS,
              after: CAMPAIGN_STATS,
            }),
          },
          programmes: {
            type: "array",
            items: objectOf({
              programme: { enum: ["dunning", "winback", "inactivity", "card_expiry"] },
              key: STRING,
              before: PROGRAMME_COUNTS,
              after: PROGRAMME_COUNTS,
            }),
          },
          cost: objectOf({ rows_read: INTEGER, queries: INTEGER, pages: INTEGER }),
          next_cursor: NEXT_CURSOR,
        }),
      }),
      PLAN_META,
    ),
    example: {
      plan: {
        at: "2026-12-04T17:47:51.400Z",
        until: "2027-01-03T17:47:51.400Z",
        days: 30,
        base: {
          version: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
          source: "deployed",
        },
        proposed: {
          version: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
        },
        customers: 50,
        customers_with_offer_moves: 0,
        open_cases_without_cadence: { before: 0, after: 0 },
        segments: [
          {
            segment: "high_value",
            before: 14,
            after: 14,
            entering: 0,
            leaving: 0,
            entering_examples: [],
            leaving_examples: [],
          },
          {
            segment: "low_value",
            before: 11,
            after: 11,
            entering: 0,
            leaving: 0,
            entering_examples: [],
            leaving_examples: [],
          },
        ],
        offers: [
          {
            context: "cancel_flow",
            reason: null,
            moves: [],
            unchanged: 50,
            cost_before: { USD: 6000 },
            cost_after: { USD: 6000 },
            unpriced_before: 5,
            unpriced_after: 5,
            holding_offer: 2,
          },
          {
            context: "cancel_flow",
            reason: "hard_to_use",
            moves: [],
            unchanged: 50,
            cost_before: { USD: 300000 },
            cost_after: { USD: 300000 },
            unpriced_before: 0,
            unpriced_after: 0,
            holding_offer: 2,
          },
        ],
        campaigns: [
          {
            campaign: "spring_winback",
            occurrence: "2026-12-01T15:00:00.000Z",
            step: "1",
            due_at: "2026-12-06T15:00:00.000Z",
            before: {
              audience: 6,
              sent: 6,
              holdout: 0,
              frequency_capped: 0,
              deferred: 2,
              no_offer: 0,
            },
            after: {
              audience: 6,
              sent: 6,
              holdout: 0,
              frequency_capped: 0,
              deferred: 2,
              no_offer: 0,
            },
          },
          {
            campaign: "spring_winback",
            occurrence: "2026-12-08T15:00:00.000Z",
            step: "0",
            due_at: "2026-12-08T15:00:00.000Z",
            before: {
              audience: 22,
              sent: 11,
              holdout: 5,
              frequency_capped: 6,
              deferred: 2,
              no_offer: 0,
            },
            after: {
              audience: 22,
              sent: 11,
              holdout: 5,
              frequency_capped: 6,
              deferred: 2,
              no_offer: 0,
            },
          },
        ],
        programmes: [
          {
            programme: "dunning",
            key: "standard",
            before: DUNNING_COUNTS_EXAMPLE,
            after: DUNNING_COUNTS_EXAMPLE,
          },
          {
            programme: "winback",
            key: "price",
            before: WINBACK_COUNTS_EXAMPLE,
            after: WINBACK_COUNTS_EXAMPLE,
          },
        ],
        cost: { rows_read: 1359, queries: 7, pages: 1 },
        next_cursor: "demo-0049",
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A field is missing, of the wrong kind, or the ruleset cannot be loaded by this Worker.",
    },
  ],
};
