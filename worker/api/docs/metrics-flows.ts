/**
 * OpenAPI documentation of worker/api/routes/metrics-flows.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { JsonSchema, RouteDoc } from "../app-env";
import {
  BOOLEAN,
  COST,
  FRACTION,
  INTEGER,
  INTERVAL_PARAM,
  MONEY_LIST,
  objectOf,
  PARAMETER_ERRORS,
  PERIOD_BOUNDS,
  PERIOD_EXAMPLE,
  PERIOD_FIELDS,
  PERIOD_QUERY,
  RANGE_QUERY,
  RATE,
  REPORT_EXAMPLE,
  REPORT_FIELDS,
  STRING,
  STRING_OR_NULL,
} from "./shared";

/** A count and the MRR it stands for: one cancellation bucket, period or the whole range. */
const CANCELLATION_COUNTS = { count: INTEGER, mrr_lost: INTEGER } as const;

/** Dunning cases of the range (the answer's top level) or of one period, as `readDunning` counts them. */
const DUNNING_COUNTS = {
  at_risk: INTEGER,
  failed_mrr: INTEGER,
  opened: INTEGER,
  opened_mrr: INTEGER,
  recovered: INTEGER,
  recovery_rate: FRACTION,
  recovered_mrr: INTEGER,
  final: INTEGER,
  canceled: INTEGER,
} as const;

/** What became of the offers shown: `OfferCounts` of worker/metrics/read-offers.ts, costs aside. */
const OFFER_OUTCOMES = {
  shown: INTEGER,
  accepted: INTEGER,
  declined: INTEGER,
  expired: INTEGER,
  withdrawn: INTEGER,
  superseded: INTEGER,
  acceptance_rate: {
    ...FRACTION,
    description: "accepted / (accepted + declined + expired); null when none was answered or lapsed.",
  },
} as const;
/** A row or the total: the outcomes and the cost of the rewards granted, per currency. */
const OFFER_COUNTS = {
  ...OFFER_OUTCOMES,
  cost_granted: MONEY_LIST,
  cost_granted_reporting: objectOf(
    { currency: STRING, amount: INTEGER, unconverted_currencies: { type: "array", items: STRING } },
    "`cost_granted` added up in the rules' currency with `settings.exchange_rates`, in whole minor units; currencies without a rate are left out and named.",
  ),
} as const;

/** One interval or the whole period (`total`): the same figures (`RetentionFigures`, worker/metrics/read-retention.ts). */
const RETENTION_FIGURES: JsonSchema = objectOf({
  ...PERIOD_BOUNDS,
  customers: objectOf({
    start: INTEGER,
    end: INTEGER,
    gained: INTEGER,
    lost: INTEGER,
    lost_from_start: INTEGER,
    new: INTEGER,
    reactivated: INTEGER,
    lost_voluntary: INTEGER,
    lost_involuntary: INTEGER,
  }),
  customer_churn_rate: FRACTION,
  retention_rate: FRACTION,
  mrr: objectOf(
    {
      start: INTEGER,
      end: INTEGER,
      new: INTEGER,
      expansion: INTEGER,
      contraction: INTEGER,
      churn: INTEGER,
      churn_from_start: INTEGER,
      churn_voluntary: INTEGER,
      churn_involuntary: INTEGER,
      reactivation: INTEGER,
      net_change: INTEGER,
    },
    "MRR of `currency` in minor units: at the start and end, and its movements.",
  ),
  gross_mrr_churn: RATE,
  net_mrr_churn: RATE,
  gross_revenue_retention: RATE,
  net_revenue_retention: RATE,
});

export const cancellationsDoc: RouteDoc = {
  summary: "Cancellations",
  tag: "Metrics",
  description: "Cancellations by reason, plan and tenure, with the MRR lost.",
  query: PERIOD_QUERY,
  response: {
    status: 200,
    description: "The report.",
    schema: objectOf({
      ...REPORT_FIELDS,
      by_reason: {
        type: "array",
        items: objectOf({ reason: STRING, involuntary: BOOLEAN, ...CANCELLATION_COUNTS }),
      },
      by_plan: {
        type: "array",
        items: objectOf({ plan: STRING_OR_NULL, reason: STRING, ...CANCELLATION_COUNTS }),
      },
      tenure: {
        type: "array",
        items: objectOf({ bucket: STRING, ...CANCELLATION_COUNTS }),
      },
      total: objectOf(CANCELLATION_COUNTS),
      periods: {
        type: "array",
        items: objectOf({ ...PERIOD_BOUNDS, ...CANCELLATION_COUNTS }),
      },
      cost: COST,
    }),
    example: {
      ...REPORT_EXAMPLE,
      by_reason: [
        { reason: "too_expensive", involuntary: false, count: 10, mrr_lost: 48000 },
        { reason: "missing_features", involuntary: false, count: 7, mrr_lost: 41300 },
      ],
      by_plan: [
        { plan: "business", reason: "too_expensive", count: 2, mrr_lost: 29800 },
        { plan: "business", reason: "missing_features", count: 1, mrr_lost: 14900 },
      ],
      tenure: [
        { bucket: "0-30d", count: 14, mrr_lost: 54600 },
        { bucket: "31-90d", count: 12, mrr_lost: 79800 },
      ],
      total: { count: 35, mrr_lost: 163500 },
      periods: [
        { start: "2026-06-08", end: "2026-06-30", count: 0, mrr_lost: 0 },
        { start: "2026-07-01", end: "2026-07-31", count: 1, mrr_lost: 1900 },
      ],
      cost: { queries: 1, rows_read: 68 },
    },
  },
  errors: PARAMETER_ERRORS,
};

export const dunningDoc: RouteDoc = {
  summary: "Dunning",
  tag: "Metrics",
  description: "Failed-payment cases opened, recovered, closed, by step and decline code.",
  query: PERIOD_QUERY,
  response: {
    status: 200,
    description: "The report.",
    schema: objectOf({
      ...REPORT_FIELDS,
      ...DUNNING_COUNTS,
      by_step: {
        type: "array",
        items: objectOf({ step: STRING_OR_NULL, recovered: INTEGER, recovered_mrr: INTEGER }),
      },
      by_decline_code: {
        type: "array",
        items: objectOf({
          decline_code: STRING_OR_NULL,
          at_risk: INTEGER,
          opened: INTEGER,
          recovered: INTEGER,
          recovery_rate: FRACTION,
        }),
      },
      periods: {
        type: "array",
        items: objectOf({
          ...PERIOD_BOUNDS,
          ...DUNNING_COUNTS,
        }),
      },
      cost: COST,
    }),
    example: {
      ...REPORT_EXAMPLE,
      at_risk: 23,
      failed_mrr: 109700,
      opened: 23,
      opened_mrr: 109700,
      recovered: 13,
      recovery_rate: 0.5652173913043478,
      recovered_mrr: 39700,
      final: 4,
      canceled: 2,
      by_step: [
        { step: "day-0", recovered: 1, recovered_mrr: 1900 },
        { step: "day-3", recovered: 3, recovered_mrr: 8700 },
      ],
      by_decline_code: [
        {
          decline_code: "insufficient_funds",
          at_risk: 9,
          opened: 9,
          recovered: 7,
          recovery_rate: 0.7777777777777778,
        },
        {
          decline_code: "expired_card",
          at_risk: 6,
          opened: 6,
          recovered: 1,
          recovery_rate: 0.16666666666666666,
        },
      ],
      periods: [
        {
          start: "2026-06-08",
          end: "2026-06-30",
          at_risk: 0,
          failed_mrr: 0,
          opened: 0,
          opened_mrr: 0,
          recovered: 0,
          recovery_rate: null,
          recovered_mrr: 0,
          final: 0,
          canceled: 0,
        },
        {
          start: "2026-07-01",
          end: "2026-07-31",
          at_risk: 0,
          failed_mrr: 0,
          opened: 0,
          opened_mrr: 0,
          recovered: 0,
          recovery_rate: null,
          recovered_mrr: 0,
          final: 0,
          canceled: 0,
        },
      ],
      cost: { queries: 2, rows_read: 125 },
    },
  },
  errors: PARAMETER_ERRORS,
};

export const offersDoc: RouteDoc = {
  summary: "Offers",
  tag: "Metrics",
  description:
    "Offers shown and what became of them, grouped by `by`. Counted across currencies; costs listed per currency.",
  query: {
    ...RANGE_QUERY,
    interval: INTERVAL_PARAM,
    by: {
      description: "How rows are grouped.",
      schema: { enum: ["offer", "reason", "variant", "context"], default: "offer" },
      example: "offer",
    },
  },
  response: {
    status: 200,
    description: "The report.",
    schema: objectOf({
      ...PERIOD_FIELDS,
      interval: STRING,
      by: STRING,
      rows: {
        type: "array",
        items: objectOf({
          key: STRING_OR_NULL,
          ...OFFER_COUNTS,
        }),
      },
      total: objectOf(OFFER_COUNTS),
      holdouts: {
        type: "array",
        description: "Per experiment, the customers held out of its offers.",
        items: objectOf({ experiment: STRING, count: INTEGER }),
      },
      periods: {
        type: "array",
        items: objectOf({
          ...PERIOD_BOUNDS,
          ...OFFER_OUTCOMES,
        }),
      },
      cost: COST,
    }),
    example: {
      ...PERIOD_EXAMPLE,
      interval: "month",
      by: "offer",
      rows: [
        {
          key: "unused_trial",
          shown: 17,
          accepted: 2,
          declined: 2,
          expired: 10,
          withdrawn: 0,
          superseded: 0,
          acceptance_rate: 0.14285714285714285,
          cost_granted: [],
          cost_granted_reporting: { currency: "USD", amount: 0, unconverted_currencies: [] },
        },
        {
          key: "missing_features_unlock",
          shown: 10,
          accepted: 2,
          declined: 2,
          expired: 4,
          withdrawn: 0,
          superseded: 0,
          acceptance_rate: 0.25,
          cost_granted: [],
          cost_granted_reporting: { currency: "USD", amount: 0, unconverted_currencies: [] },
        },
      ],
      total: {
        shown: 42,
        accepted: 8,
        declined: 8,
        expired: 18,
        withdrawn: 0,
        superseded: 0,
        acceptance_rate: 0.23529411764705882,
        cost_granted: [
          { currency: "EUR", amount: 14155 },
          { currency: "USD", amount: 9500 },
        ],
        cost_granted_reporting: { currency: "USD", amount: 24787, unconverted_currencies: [] },
      },
      holdouts: [],
      periods: [
        {
          start: "2026-06-08",
          end: "2026-06-30",
          shown: 0,
          accepted: 0,
          declined: 0,
          expired: 0,
          withdrawn: 0,
          superseded: 0,
          acceptance_rate: null,
        },
        {
          start: "2026-07-01",
          end: "2026-07-31",
          shown: 0,
          accepted: 0,
          declined: 0,
          expired: 0,
          withdrawn: 0,
          superseded: 0,
          acceptance_rate: null,
        },
      ],
      cost: { queries: 1, rows_read: 81 },
    },
  },
  errors: PARAMETER_ERRORS,
};

export const retentionDoc: RouteDoc = {
  summary: "Retention",
  tag: "Metrics",
  description:
    "Customers and MRR at the start and end of each interval, their movements, churn and revenue retention rates (docs/metrics.md).",
  query: PERIOD_QUERY,
  response: {
    status: 200,
    description: "The report.",
    schema: objectOf({
      ...REPORT_FIELDS,
      currencies: { type: "array", items: STRING },
      periods: { type: "array", items: RETENTION_FIGURES },
      total: RETENTION_FIGURES,
      cost: COST,
    }),
    example: {
      ...REPORT_EXAMPLE,
      currencies: ["AUD", "EUR"],
      periods: [
        {
          start: "2026-06-08",
          end: "2026-06-30",
          customers: {
            start: 0,
            end: 0,
            gained: 0,
            lost: 0,
            lost_from_start: 0,
            new: 0,
            reactivated: 0,
            lost_voluntary: 0,
            lost_involuntary: 0,
          },
          customer_churn_rate: null,
          retention_rate: null,
          mrr: {
            start: 0,
            end: 0,
            new: 0,
            expansion: 0,
            contraction: 0,
            churn: 0,
            churn_from_start: 0,
            churn_voluntary: 0,
            churn_involuntary: 0,
            reactivation: 0,
            net_change: 0,
          },
          gross_mrr_churn: null,
          net_mrr_churn: null,
          gross_revenue_retention: null,
          net_revenue_retention: null,
        },
        {
          start: "2026-07-01",
          end: "2026-07-31",
          customers: {
            start: 0,
            end: 9,
            gained: 10,
            lost: 1,
            lost_from_start: 0,
            new: 10,
            reactivated: 0,
            lost_voluntary: 1,
            lost_involuntary: 0,
          },
          customer_churn_rate: null,
          retention_rate: null,
          mrr: {
            start: 0,
            end: 32100,
            new: 34000,
            expansion: 0,
            contraction: 0,
            churn: 1900,
            churn_from_start: 0,
            churn_voluntary: 1900,
            churn_involuntary: 0,
            reactivation: 0,
            net_change: 32100,
          },
          gross_mrr_churn: null,
          net_mrr_churn: null,
          gross_revenue_retention: null,
          net_revenue_retention: null,
        },
      ],
      total: {
        start: "2026-06-08",
        end: "2026-12-04",
        customers: {
          start: 0,
          end: 42,
          gained: 77,
          lost: 35,
          lost_from_start: 0,
          new: 72,
          reactivated: 5,
          lost_voluntary: 31,
          lost_involuntary: 4,
        },
        customer_churn_rate: null,
        retention_rate: null,
        mrr: {
          start: 0,
          end: 223800,
          new: 349800,
          expansion: 6000,
          contraction: 0,
          churn: 163500,
          churn_from_start: 0,
          churn_voluntary: 149900,
          churn_involuntary: 13600,
          reactivation: 31500,
          net_change: 223800,
        },
        gross_mrr_churn: null,
        net_mrr_churn: null,
        gross_revenue_retention: null,
        net_revenue_retention: null,
      },
      cost: { queries: 2, rows_read: 464 },
    },
  },
  errors: PARAMETER_ERRORS,
};
