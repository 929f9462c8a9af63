/**
 * OpenAPI documentation of worker/api/routes/metrics-flows.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const retentionDoc: RouteDoc = {
  summary: "Retention",
  tag: "Metrics",
  description:
    "Customers and MRR at the start and end of each interval, their movements, churn and revenue retention rates (docs/metrics.md).",
  query: {
    from: {
      description:
        "First day (inclusive), `YYYY-MM-DD` in the reporting zone. Default: 180 days before `to`.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-06-01",
    },
    to: {
      description: "Last day (inclusive). Default: today in the reporting zone.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-11-30",
    },
    interval: {
      description: "How the period is split.",
      schema: {
        enum: ["day", "week", "month"],
        default: "month",
      },
      example: "month",
    },
    currency: {
      description: "The currency of money figures (ISO 4217). Default: the rules' `settings.currency`.",
      schema: {
        type: "string",
        pattern: "^[A-Z]{3}$",
      },
      example: "USD",
    },
  },
  response: {
    status: 200,
    description: "The report.",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "interval", "currency", "currencies", "periods", "total", "cost"],
      properties: {
        timezone: {
          type: "string",
        },
        from: {
          type: "string",
          format: "date",
        },
        to: {
          type: "string",
          format: "date",
        },
        interval: {
          type: "string",
        },
        currency: {
          type: "string",
        },
        currencies: {
          type: "array",
          items: {
            type: "string",
          },
        },
        periods: {
          type: "array",
          items: {
            type: "object",
            required: [
              "start",
              "end",
              "customers",
              "customer_churn_rate",
              "retention_rate",
              "mrr",
              "gross_mrr_churn",
              "net_mrr_churn",
              "gross_revenue_retention",
              "net_revenue_retention",
            ],
            properties: {
              start: {
                type: "string",
                format: "date",
              },
              end: {
                type: "string",
                format: "date",
              },
              customers: {
                type: "object",
                required: [
                  "start",
                  "end",
                  "gained",
                  "lost",
                  "lost_from_start",
                  "new",
                  "reactivated",
                  "lost_voluntary",
                  "lost_involuntary",
                ],
                properties: {
                  start: {
                    type: "integer",
                  },
                  end: {
                    type: "integer",
                  },
                  gained: {
                    type: "integer",
                  },
                  lost: {
                    type: "integer",
                  },
                  lost_from_start: {
                    type: "integer",
                  },
                  new: {
                    type: "integer",
                  },
                  reactivated: {
                    type: "integer",
                  },
                  lost_voluntary: {
                    type: "integer",
                  },
                  lost_involuntary: {
                    type: "integer",
                  },
                },
              },
              customer_churn_rate: {
                type: ["number", "null"],
              },
              retention_rate: {
                type: ["number", "null"],
              },
              mrr: {
                type: "object",
                additionalProperties: {
                  type: "integer",
                },
              },
              gross_mrr_churn: {
                type: ["number", "null"],
              },
              net_mrr_churn: {
                type: ["number", "null"],
              },
              gross_revenue_retention: {
                type: ["number", "null"],
              },
              net_revenue_retention: {
                type: ["number", "null"],
              },
            },
          },
        },
        total: {
          type: "object",
          required: [
            "start",
            "end",
            "customers",
            "customer_churn_rate",
            "retention_rate",
            "mrr",
            "gross_mrr_churn",
            "net_mrr_churn",
            "gross_revenue_retention",
            "net_revenue_retention",
          ],
          properties: {
            start: {
              type: "string",
              format: "date",
            },
            end: {
              type: "string",
              format: "date",
            },
            customers: {
              type: "object",
              required: [
                "start",
                "end",
                "gained",
                "lost",
                "lost_from_start",
                "new",
                "reactivated",
                "lost_voluntary",
                "lost_involuntary",
              ],
              properties: {
                start: {
                  type: "integer",
                },
                end: {
                  type: "integer",
                },
                gained: {
                  type: "integer",
                },
                lost: {
                  type: "integer",
                },
                lost_from_start: {
                  type: "integer",
                },
                new: {
                  type: "integer",
                },
                reactivated: {
                  type: "integer",
                },
                lost_voluntary: {
                  type: "integer",
                },
                lost_involuntary: {
                  type: "integer",
                },
              },
            },
            customer_churn_rate: {
              type: ["number", "null"],
            },
            retention_rate: {
              type: ["number", "null"],
            },
            mrr: {
              type: "object",
              additionalProperties: {
                type: "integer",
              },
            },
            gross_mrr_churn: {
              type: ["number", "null"],
            },
            net_mrr_churn: {
              type: ["number", "null"],
            },
            gross_revenue_retention: {
              type: ["number", "null"],
            },
            net_revenue_retention: {
              type: ["number", "null"],
            },
          },
        },
        cost: {
          type: "object",
          required: ["queries", "rows_read"],
          properties: {
            queries: {
              type: "integer",
            },
            rows_read: {
              type: "integer",
            },
          },
        },
      },
    },
    example: {
      timezone: "America/New_York",
      from: "2026-06-08",
      to: "2026-12-04",
      interval: "month",
      currency: "USD",
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
      cost: {
        queries: 2,
        rows_read: 464,
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const cancellationsDoc: RouteDoc = {
  summary: "Cancellations",
  tag: "Metrics",
  description: "Cancellations by reason, plan and tenure, with the MRR lost.",
  query: {
    from: {
      description:
        "First day (inclusive), `YYYY-MM-DD` in the reporting zone. Default: 180 days before `to`.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-06-01",
    },
    to: {
      description: "Last day (inclusive). Default: today in the reporting zone.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-11-30",
    },
    interval: {
      description: "How the period is split.",
      schema: {
        enum: ["day", "week", "month"],
        default: "month",
      },
      example: "month",
    },
    currency: {
      description: "The currency of money figures (ISO 4217). Default: the rules' `settings.currency`.",
      schema: {
        type: "string",
        pattern: "^[A-Z]{3}$",
      },
      example: "USD",
    },
  },
  response: {
    status: 200,
    description: "The report.",
    schema: {
      type: "object",
      required: [
        "timezone",
        "from",
        "to",
        "interval",
        "currency",
        "by_reason",
        "by_plan",
        "tenure",
        "total",
        "periods",
        "cost",
      ],
      properties: {
        timezone: {
          type: "string",
        },
        from: {
          type: "string",
          format: "date",
        },
        to: {
          type: "string",
          format: "date",
        },
        interval: {
          type: "string",
        },
        currency: {
          type: "string",
        },
        by_reason: {
          type: "array",
          items: {
            type: "object",
            required: ["reason", "involuntary", "count", "mrr_lost"],
            properties: {
              reason: {
                type: "string",
              },
              involuntary: {
                type: "boolean",
              },
              count: {
                type: "integer",
              },
              mrr_lost: {
                type: "integer",
              },
            },
          },
        },
        by_plan: {
          type: "array",
          items: {
            type: "object",
            required: ["plan", "reason", "count", "mrr_lost"],
            properties: {
              plan: {
                type: ["string", "null"],
              },
              reason: {
                type: "string",
              },
              count: {
                type: "integer",
              },
              mrr_lost: {
                type: "integer",
              },
            },
          },
        },
        tenure: {
          type: "array",
          items: {
            type: "object",
            required: ["bucket", "count", "mrr_lost"],
            properties: {
              bucket: {
                type: "string",
              },
              count: {
                type: "integer",
              },
              mrr_lost: {
                type: "integer",
              },
            },
          },
        },
        total: {
          type: "object",
          required: ["count", "mrr_lost"],
          properties: {
            count: {
              type: "integer",
            },
            mrr_lost: {
              type: "integer",
            },
          },
        },
        periods: {
          type: "array",
          items: {
            type: "object",
            required: ["start", "end", "count", "mrr_lost"],
            properties: {
              start: {
                type: "string",
                format: "date",
              },
              end: {
                type: "string",
                format: "date",
              },
              count: {
                type: "integer",
              },
              mrr_lost: {
                type: "integer",
              },
            },
          },
        },
        cost: {
          type: "object",
          required: ["queries", "rows_read"],
          properties: {
            queries: {
              type: "integer",
            },
            rows_read: {
              type: "integer",
            },
          },
        },
      },
    },
    example: {
      timezone: "America/New_York",
      from: "2026-06-08",
      to: "2026-12-04",
      interval: "month",
      currency: "USD",
      by_reason: [
        {
          reason: "too_expensive",
          involuntary: false,
          count: 10,
          mrr_lost: 48000,
        },
        {
          reason: "missing_features",
          involuntary: false,
          count: 7,
          mrr_lost: 41300,
        },
      ],
      by_plan: [
        {
          plan: "business",
          reason: "too_expensive",
          count: 2,
          mrr_lost: 29800,
        },
        {
          plan: "business",
          reason: "missing_features",
          count: 1,
          mrr_lost: 14900,
        },
      ],
      tenure: [
        {
          bucket: "0-30d",
          count: 14,
          mrr_lost: 54600,
        },
        {
          bucket: "31-90d",
          count: 12,
          mrr_lost: 79800,
        },
      ],
      total: {
        count: 35,
        mrr_lost: 163500,
      },
      periods: [
        {
          start: "2026-06-08",
          end: "2026-06-30",
          count: 0,
          mrr_lost: 0,
        },
        {
          start: "2026-07-01",
          end: "2026-07-31",
          count: 1,
          mrr_lost: 1900,
        },
      ],
      cost: {
        queries: 1,
        rows_read: 68,
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const offersDoc: RouteDoc = {
  summary: "Offers",
  tag: "Metrics",
  description:
    "Offers shown and what became of them, grouped by `by`. Counted across currencies; costs listed per currency.",
  query: {
    from: {
      description:
        "First day (inclusive), `YYYY-MM-DD` in the reporting zone. Default: 180 days before `to`.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-06-01",
    },
    to: {
      description: "Last day (inclusive). Default: today in the reporting zone.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-11-30",
    },
    interval: {
      description: "How the period is split.",
      schema: {
        enum: ["day", "week", "month"],
        default: "month",
      },
      example: "month",
    },
    by: {
      description: "How rows are grouped.",
      schema: {
        enum: ["offer", "reason", "variant", "context"],
        default: "offer",
      },
      example: "offer",
    },
  },
  response: {
    status: 200,
    description: "The report.",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "interval", "by", "rows", "total", "holdouts", "periods", "cost"],
      properties: {
        timezone: {
          type: "string",
        },
        from: {
          type: "string",
          format: "date",
        },
        to: {
          type: "string",
          format: "date",
        },
        interval: {
          type: "string",
        },
        by: {
          type: "string",
        },
        rows: {
          type: "array",
          items: {
            type: "object",
            required: [
              "key",
              "shown",
              "accepted",
              "declined",
              "expired",
              "withdrawn",
              "superseded",
              "acceptance_rate",
              "cost_granted",
            ],
            properties: {
              key: {
                type: ["string", "null"],
              },
              shown: {
                type: "integer",
              },
              accepted: {
                type: "integer",
              },
              declined: {
                type: "integer",
              },
              expired: {
                type: "integer",
              },
              withdrawn: {
                type: "integer",
              },
              superseded: {
                type: "integer",
              },
              acceptance_rate: {
                type: ["number", "null"],
              },
              cost_granted: {
                type: "array",
                items: {
                  type: "object",
                  required: ["currency", "amount"],
                  properties: {
                    currency: {
                      type: "string",
                    },
                    amount: {
                      type: "integer",
                    },
                  },
                },
              },
            },
          },
        },
        total: {
          type: "object",
          required: [
            "shown",
            "accepted",
            "declined",
            "expired",
            "withdrawn",
            "superseded",
            "acceptance_rate",
            "cost_granted",
          ],
          properties: {
            shown: {
              type: "integer",
            },
            accepted: {
              type: "integer",
            },
            declined: {
              type: "integer",
            },
            expired: {
              type: "integer",
            },
            withdrawn: {
              type: "integer",
            },
            superseded: {
              type: "integer",
            },
            acceptance_rate: {
              type: ["number", "null"],
            },
            cost_granted: {
              type: "array",
              items: {
                type: "object",
                required: ["currency", "amount"],
                properties: {
                  currency: {
                    type: "string",
                  },
                  amount: {
                    type: "integer",
                  },
                },
              },
            },
          },
        },
        holdouts: {
          type: "array",
          items: {},
        },
        periods: {
          type: "array",
          items: {
            type: "object",
            required: [
              "start",
              "end",
              "shown",
              "accepted",
              "declined",
              "expired",
              "withdrawn",
              "superseded",
              "acceptance_rate",
            ],
            properties: {
              start: {
                type: "string",
                format: "date",
              },
              end: {
                type: "string",
                format: "date",
              },
              shown: {
                type: "integer",
              },
              accepted: {
                type: "integer",
              },
              declined: {
                type: "integer",
              },
              expired: {
                type: "integer",
              },
              withdrawn: {
                type: "integer",
              },
              superseded: {
                type: "integer",
              },
              acceptance_rate: {
                type: ["number", "null"],
              },
            },
          },
        },
        cost: {
          type: "object",
          required: ["queries", "rows_read"],
          properties: {
            queries: {
              type: "integer",
            },
            rows_read: {
              type: "integer",
            },
          },
        },
      },
    },
    example: {
      timezone: "America/New_York",
      from: "2026-06-08",
      to: "2026-12-04",
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
          {
            currency: "EUR",
            amount: 14155,
          },
          {
            currency: "USD",
            amount: 9500,
          },
        ],
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
      cost: {
        queries: 1,
        rows_read: 81,
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const dunningDoc: RouteDoc = {
  summary: "Dunning",
  tag: "Metrics",
  description: "Failed-payment cases opened, recovered, closed, by step and decline code.",
  query: {
    from: {
      description:
        "First day (inclusive), `YYYY-MM-DD` in the reporting zone. Default: 180 days before `to`.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-06-01",
    },
    to: {
      description: "Last day (inclusive). Default: today in the reporting zone.",
      schema: {
        type: "string",
        format: "date",
      },
      example: "2026-11-30",
    },
    interval: {
      description: "How the period is split.",
      schema: {
        enum: ["day", "week", "month"],
        default: "month",
      },
      example: "month",
    },
    currency: {
      description: "The currency of money figures (ISO 4217). Default: the rules' `settings.currency`.",
      schema: {
        type: "string",
        pattern: "^[A-Z]{3}$",
      },
      example: "USD",
    },
  },
  response: {
    status: 200,
    description: "The report.",
    schema: {
      type: "object",
      required: [
        "timezone",
        "from",
        "to",
        "interval",
        "currency",
        "at_risk",
        "failed_mrr",
        "opened",
        "opened_mrr",
        "recovered",
        "recovery_rate",
        "recovered_mrr",
        "final",
        "canceled",
        "by_step",
        "by_decline_code",
        "periods",
        "cost",
      ],
      properties: {
        timezone: {
          type: "string",
        },
        from: {
          type: "string",
          format: "date",
        },
        to: {
          type: "string",
          format: "date",
        },
        interval: {
          type: "string",
        },
        currency: {
          type: "string",
        },
        at_risk: {
          type: "integer",
        },
        failed_mrr: {
          type: "integer",
        },
        opened: {
          type: "integer",
        },
        opened_mrr: {
          type: "integer",
        },
        recovered: {
          type: "integer",
        },
        recovery_rate: {
          type: ["number", "null"],
        },
        recovered_mrr: {
          type: "integer",
        },
        final: {
          type: "integer",
        },
        canceled: {
          type: "integer",
        },
        by_step: {
          type: "array",
          items: {
            type: "object",
            required: ["step", "recovered", "recovered_mrr"],
            properties: {
              step: {
                type: ["string", "null"],
              },
              recovered: {
                type: "integer",
              },
              recovered_mrr: {
                type: "integer",
              },
            },
          },
        },
        by_decline_code: {
          type: "array",
          items: {
            type: "object",
            required: ["decline_code", "at_risk", "opened", "recovered", "recovery_rate"],
            properties: {
              decline_code: {
                type: ["string", "null"],
              },
              at_risk: {
                type: "integer",
              },
              opened: {
                type: "integer",
              },
              recovered: {
                type: "integer",
              },
              recovery_rate: {
                type: ["number", "null"],
              },
            },
          },
        },
        periods: {
          type: "array",
          items: {
            type: "object",
            required: [
              "start",
              "end",
              "at_risk",
              "failed_mrr",
              "opened",
              "opened_mrr",
              "recovered",
              "recovery_rate",
              "recovered_mrr",
              "final",
              "canceled",
            ],
            properties: {
              start: {
                type: "string",
                format: "date",
              },
              end: {
                type: "string",
                format: "date",
              },
              at_risk: {
                type: "integer",
              },
              failed_mrr: {
                type: "integer",
              },
              opened: {
                type: "integer",
              },
              opened_mrr: {
                type: "integer",
              },
              recovered: {
                type: "integer",
              },
              recovery_rate: {
                type: ["number", "null"],
              },
              recovered_mrr: {
                type: "integer",
              },
              final: {
                type: "integer",
              },
              canceled: {
                type: "integer",
              },
            },
          },
        },
        cost: {
          type: "object",
          required: ["queries", "rows_read"],
          properties: {
            queries: {
              type: "integer",
            },
            rows_read: {
              type: "integer",
            },
          },
        },
      },
    },
    example: {
      timezone: "America/New_York",
      from: "2026-06-08",
      to: "2026-12-04",
      interval: "month",
      currency: "USD",
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
        {
          step: "day-0",
          recovered: 1,
          recovered_mrr: 1900,
        },
        {
          step: "day-3",
          recovered: 3,
          recovered_mrr: 8700,
        },
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
      cost: {
        queries: 2,
        rows_read: 125,
      },
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};
