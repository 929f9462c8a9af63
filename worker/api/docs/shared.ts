/**
 * Building blocks the route docs of worker/api/docs/ share: times, the metrics period and page
 * parameters, the cost of a report, money per currency. Each shape is written once here and used
 * by every route that answers or takes it (the document builder inlines them).
 */
import type { JsonSchema, RouteDoc, RouteDocError, RouteDocParameter } from "../app-env";

/** An instant, ISO 8601 in UTC (`2026-11-30T09:00:00.000Z`). */
export const TIME: JsonSchema = { type: "string", format: "date-time" };
/** An instant, or null until the thing it records happens. */
export const TIME_OR_NULL: JsonSchema = { type: ["string", "null"], format: "date-time" };
/** A calendar day, `YYYY-MM-DD`, in the reporting zone. */
export const DATE: JsonSchema = { type: "string", format: "date" };

/** An amount in one currency, in minor units (cents). */
export const MONEY: JsonSchema = {
  type: "object",
  required: ["currency", "amount"],
  properties: { currency: { type: "string" }, amount: { type: "integer" } },
};
/** Money in every currency it was taken or granted in, one entry per currency. */
export const MONEY_LIST: JsonSchema = { type: "array", items: MONEY };

/** What the report cost to compute in D1. */
export const COST: JsonSchema = {
  type: "object",
  description:
    "What computing the answer cost: D1 queries issued and rows they read, summed over every shard read; `shards` (sharded deployments only) says how many.",
  required: ["queries", "rows_read"],
  properties: { queries: { type: "integer" }, rows_read: { type: "integer" }, shards: { type: "integer" } },
};

/** What a list read across shards cost: answered only by a sharded deployment (docs/api.md). */
export const SHARD_META: JsonSchema = {
  type: "object",
  description:
    "Only on a sharded deployment: the D1 statements and rows read on every shard, summed, and how many shards were read.",
  required: ["queries", "rows_read", "shards"],
  properties: { queries: { type: "integer" }, rows_read: { type: "integer" }, shards: { type: "integer" } },
};

/** An object schema with the optional `meta` a sharded deployment adds (SHARD_META). */
export function withShardMeta(schema: JsonSchema, meta: JsonSchema = SHARD_META): JsonSchema {
  return { ...schema, properties: { ...(schema.properties as object), meta } };
}

/** The id of a customer in the path. */
export const CUSTOMER_ID_PARAM: RouteDocParameter = {
  description: "The customer's id, as your events name it.",
  schema: { $ref: "https://rebound.dev/schemas/id.json" },
  example: "cus_42",
};

// The period every metrics report covers.
export const FROM_PARAM: RouteDocParameter = {
  description: "First day (inclusive), `YYYY-MM-DD` in the reporting zone. Default: 180 days before `to`.",
  schema: DATE,
  example: "2026-06-01",
};
export const TO_PARAM: RouteDocParameter = {
  description: "Last day (inclusive). Default: today in the reporting zone.",
  schema: DATE,
  example: "2026-11-30",
};
export const INTERVAL_PARAM: RouteDocParameter = {
  description: "How the period is split.",
  schema: { enum: ["day", "week", "month"], default: "month" },
  example: "month",
};
export const CURRENCY_PARAM: RouteDocParameter = {
  description: "The currency of money figures (ISO 4217). Default: the rules' `settings.currency`.",
  schema: { type: "string", pattern: "^[A-Z]{3}$" },
  example: "USD",
};
/** `from`, `to`, `interval`, `currency`: the query of a metrics report split into periods. */
export const PERIOD_QUERY = {
  from: FROM_PARAM,
  to: TO_PARAM,
  interval: INTERVAL_PARAM,
  currency: CURRENCY_PARAM,
} as const;

// Keyset pages: `?cursor=` is the previous page's `next_cursor`.
export const CURSOR_PARAM: RouteDocParameter = {
  description: "The `next_cursor` of the previous page.",
  schema: { type: "string" },
};
/** The page size of the admin lists (sends, outbox, runs, cases). */
export const LIMIT_200_PARAM: RouteDocParameter = {
  description: "Items per page, 1 to 200 (default 50).",
  schema: { type: "integer", minimum: 1, maximum: 200 },
  example: 50,
};
/** The page size of the metrics lists. */
export const LIMIT_500_PARAM: RouteDocParameter = {
  description: "Items per page, 1 to 500 (default 100).",
  schema: { type: "integer", minimum: 1, maximum: 500 },
  example: 100,
};
export const FORMAT_PARAM: RouteDocParameter = {
  description:
    '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
  schema: { enum: ["json", "csv"] },
  example: "json",
};
export const NEXT_CURSOR: JsonSchema = {
  type: ["string", "null"],
  description: "The cursor of the next page, or null on the last page.",
};
/** The CSV form of a metrics list page. */
export const CSV_ALTERNATIVES = [
  {
    contentType: "text/csv",
    description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
  },
] as const;

/** The only error of a read-only report: a bad query parameter. */
export const PARAMETER_ERRORS: readonly RouteDocError[] = [
  { status: 400, code: "validation_failed", when: "A parameter is unknown, repeated or invalid." },
];

/** `?customer_id=`: narrows an admin list to one customer. */
export const CUSTOMER_FILTER_PARAM: RouteDocParameter = {
  description: "Only this customer's.",
  schema: { $ref: "https://rebound.dev/schemas/id.json" },
  example: "cus_42",
};

/** The programme a send or outbox message belongs to, as the examples show it. */
export const PROGRAMME_EXAMPLE = {
  kind: "inactivity",
  key: "team_quiet_two_weeks",
  occurrence: "2026-11-19T07:48:14.383Z",
  step: "0",
};

/**
 * An object schema whose every property is always present (null where its schema allows it), as
 * the handlers build their answers. `objectOf({ id: { type: "string" } })` is
 * `{ type: "object", required: ["id"], properties: { id: … } }`.
 */
export function objectOf(properties: Readonly<Record<string, JsonSchema>>, description?: string): JsonSchema {
  return {
    type: "object",
    ...(description === undefined ? {} : { description }),
    required: Object.keys(properties),
    properties,
  };
}

/** `limit`, `cursor`, `format`: the query of a metrics list (JSON pages or CSV). */
export const PAGE_QUERY = { limit: LIMIT_500_PARAM, cursor: CURSOR_PARAM, format: FORMAT_PARAM } as const;

// Scalars, named so that a row of fields reads as a row.
export const STRING: JsonSchema = { type: "string" };
export const STRING_OR_NULL: JsonSchema = { type: ["string", "null"] };
export const INTEGER: JsonSchema = { type: "integer" };
export const INTEGER_OR_NULL: JsonSchema = { type: ["integer", "null"] };
export const BOOLEAN: JsonSchema = { type: "boolean" };
export const NUMBER: JsonSchema = { type: "number" };
/** A ratio of two counts or amounts; null, not NaN, when there is nothing to divide by. */
export const RATE: JsonSchema = {
  type: ["number", "null"],
  description: "A ratio; null when there is nothing to divide by.",
};
/** A rate whose numerator counts a part of its denominator: a fraction from 0 to 1, or null. */
export const FRACTION: JsonSchema = {
  type: ["number", "null"],
  minimum: 0,
  maximum: 1,
  description: "A fraction from 0 to 1; null when there is nothing to divide by.",
};
/** An id as worker/api/schemas/id.json defines it. */
export const ID: JsonSchema = { $ref: "https://rebound.dev/schemas/id.json" };

/** The fields every metrics answer starts with (`periodHeader`, worker/metrics/period.ts). */
export const PERIOD_FIELDS = { timezone: STRING, from: DATE, to: DATE } as const;
/** The header of a report split into periods: the period, its split and the money currency. */
export const REPORT_FIELDS = { ...PERIOD_FIELDS, interval: STRING, currency: STRING } as const;
/** The bounds of one period row (`start`, `end`: days in the reporting zone, inclusive). */
export const PERIOD_BOUNDS = { start: DATE, end: DATE } as const;
/** `from`, `to`: the query of a metrics list over a period. */
export const RANGE_QUERY = { from: FROM_PARAM, to: TO_PARAM } as const;

/** The header of the metrics examples: one demo data set, reported from New York. */
export const PERIOD_EXAMPLE = { timezone: "America/New_York", from: "2026-06-08", to: "2026-12-04" } as const;
export const REPORT_EXAMPLE = { ...PERIOD_EXAMPLE, interval: "month", currency: "USD" } as const;

/**
 * The doc of a metrics list (worker/metrics/lists.ts): JSON pages of `items` after the answer's
 * `header` fields, with the cursor of the next page and the cost; or the same page as CSV with
 * `?format=csv`.
 */
export function metricsListDoc(list: {
  summary: string;
  description: string;
  query: Readonly<Record<string, RouteDocParameter>>;
  /** The fields before `items`; default the period (`timezone`, `from`, `to`); `{}` for lists over all time. */
  header?: Readonly<Record<string, JsonSchema>>;
  item: JsonSchema;
  example: unknown;
}): RouteDoc {
  return {
    summary: list.summary,
    tag: "Metrics",
    description: list.description,
    query: list.query,
    response: {
      status: 200,
      description: "A page of the list (or CSV with `?format=csv`).",
      schema: objectOf({
        ...(list.header ?? PERIOD_FIELDS),
        items: { type: "array", items: list.item },
        next_cursor: NEXT_CURSOR,
        cost: COST,
      }),
      example: list.example,
      alternatives: CSV_ALTERNATIVES,
    },
    errors: PARAMETER_ERRORS,
  };
}

/** `:id`, the customer of a customer's route. */
export const CUSTOMER_PATH = { id: CUSTOMER_ID_PARAM } as const;

/** The programme a send or an outbox message belongs to: which step of what, for which occurrence. */
export const PROGRAMME: JsonSchema = objectOf({
  kind: { type: "string", description: "campaign, dunning, card_expiry, inactivity or winback" },
  key: STRING,
  occurrence: { type: "string", description: "The programme's occurrence: a time, an invoice id, …" },
  step: STRING,
});

/** The fields of a dunning case both case lists answer (admin and metrics). */
export const DUNNING_CASE_FIELDS = {
  customer_id: STRING,
  invoice_id: STRING,
  cadence: STRING,
  status: STRING,
  failed_at: TIME,
  amount: { ...INTEGER_OR_NULL, description: "The failed invoice's amount in minor units of `currency`." },
  currency: STRING_OR_NULL,
  opened_at: TIME,
  last_step: STRING_OR_NULL,
  closed_at: TIME_OR_NULL,
  recovered_at: TIME_OR_NULL,
  mrr_saved: INTEGER_OR_NULL,
  recovered_after_step: STRING_OR_NULL,
  final_actions: { type: ["array", "null"], items: STRING },
} as const;

/** What one campaign stage run did (`RunStats`, worker/tick/claims.ts): the tick's report and `stats` of a stored run. */
export const RUN_STATS = {
  audience: { ...INTEGER, description: "Audience members read (not already sent this step)." },
  sent: INTEGER,
  deferred: { ...INTEGER, description: "Of the sends, the ones deferred past quiet hours." },
  holdout: INTEGER,
  frequency_capped: INTEGER,
  already_sent: { ...INTEGER, description: "Sends another holder of the run created first." },
  no_offer: INTEGER,
  rows_read: INTEGER,
  pages: INTEGER,
} as const;
