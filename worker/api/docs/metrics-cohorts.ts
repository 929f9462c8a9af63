/**
 * OpenAPI documentation of worker/api/routes/metrics-cohorts.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

export const winbackDoc: RouteDoc = {
  summary: "Win-back",
  tag: "Metrics",
  description: "Customers targeted, reactivated, revenue since, re-churn within 30 and 90 days.",
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
        "window",
        "targeted",
        "reactivated",
        "reactivation_rate",
        "revenue_since_reactivation",
        "reactivated_30d_ago",
        "rechurned_30d",
        "rechurn_rate_30d",
        "reactivated_90d_ago",
        "rechurned_90d",
        "rechurn_rate_90d",
        "by_sequence",
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
        window: {
          type: "string",
        },
        targeted: {
          type: "integer",
        },
        reactivated: {
          type: "integer",
        },
        reactivation_rate: {
          type: ["number", "null"],
        },
        revenue_since_reactivation: {
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
        reactivated_30d_ago: {
          type: "integer",
        },
        rechurned_30d: {
          type: "integer",
        },
        rechurn_rate_30d: {
          type: ["number", "null"],
        },
        reactivated_90d_ago: {
          type: "integer",
        },
        rechurned_90d: {
          type: "integer",
        },
        rechurn_rate_90d: {
          type: ["number", "null"],
        },
        by_sequence: {
          type: "array",
          items: {
            type: "object",
            required: ["sequence", "targeted", "reactivated", "reactivation_rate"],
            properties: {
              sequence: {
                type: "string",
              },
              targeted: {
                type: "integer",
              },
              reactivated: {
                type: "integer",
              },
              reactivation_rate: {
                type: ["number", "null"],
              },
            },
          },
        },
        periods: {
          type: "array",
          items: {
            type: "object",
            required: ["start", "end", "targeted", "reactivated", "reactivation_rate"],
            properties: {
              start: {
                type: "string",
                format: "date",
              },
              end: {
                type: "string",
                format: "date",
              },
              targeted: {
                type: "integer",
              },
              reactivated: {
                type: "integer",
              },
              reactivation_rate: {
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
      currency: "USD",
      window: "90d",
      targeted: 37,
      reactivated: 3,
      reactivation_rate: 0.08108108108108109,
      revenue_since_reactivation: [
        {
          currency: "EUR",
          amount: 3610,
        },
        {
          currency: "USD",
          amount: 4900,
        },
      ],
      reactivated_30d_ago: 1,
      rechurned_30d: 1,
      rechurn_rate_30d: 1,
      reactivated_90d_ago: 0,
      rechurned_90d: 0,
      rechurn_rate_90d: null,
      by_sequence: [
        {
          sequence: "price",
          targeted: 18,
          reactivated: 0,
          reactivation_rate: 0,
        },
        {
          sequence: "product",
          targeted: 19,
          reactivated: 3,
          reactivation_rate: 0.15789473684210525,
        },
      ],
      periods: [
        {
          start: "2026-06-08",
          end: "2026-06-30",
          targeted: 0,
          reactivated: 0,
          reactivation_rate: null,
        },
        {
          start: "2026-07-01",
          end: "2026-07-31",
          targeted: 0,
          reactivated: 0,
          reactivation_rate: null,
        },
      ],
      cost: {
        queries: 1,
        rows_read: 633,
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

export const campaignsDoc: RouteDoc = {
  summary: "Campaigns",
  tag: "Metrics",
  description: "Per campaign, step and variant, with lift against the holdout.",
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
    campaign: {
      description: "Only this campaign.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
      example: "spring_sale",
    },
  },
  response: {
    status: 200,
    description: "The report.",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "campaigns", "cost"],
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
        campaigns: {
          type: "array",
          items: {
            type: "object",
            required: ["campaign", "conversion", "occurrences", "steps"],
            properties: {
              campaign: {
                type: "string",
              },
              conversion: {
                type: ["object", "null"],
                required: ["event", "within"],
                properties: {
                  event: {
                    type: "string",
                  },
                  within: {
                    type: "string",
                  },
                },
              },
              occurrences: {
                type: "integer",
              },
              steps: {
                type: "array",
                items: {
                  type: "object",
                  required: ["step", "variants", "holdout", "lift"],
                  properties: {
                    step: {
                      type: "string",
                    },
                    variants: {
                      type: "array",
                      items: {
                        type: "object",
                        required: [
                          "variant",
                          "audience",
                          "assigned",
                          "sent",
                          "failed",
                          "held_out",
                          "frequency_capped",
                          "no_offer",
                          "conversions",
                          "conversion_rate",
                        ],
                        properties: {
                          variant: {
                            type: ["string", "null"],
                          },
                          audience: {
                            type: "integer",
                          },
                          assigned: {
                            type: "integer",
                          },
                          sent: {
                            type: "integer",
                          },
                          failed: {
                            type: "integer",
                          },
                          held_out: {
                            type: "integer",
                          },
                          frequency_capped: {
                            type: "integer",
                          },
                          no_offer: {
                            type: "integer",
                          },
                          conversions: {
                            type: ["integer", "null"],
                          },
                          conversion_rate: {
                            type: ["number", "null"],
                          },
                        },
                      },
                    },
                    holdout: {
                      type: "object",
                      required: ["n", "conversions", "conversion_rate"],
                      properties: {
                        n: {
                          type: "integer",
                        },
                        conversions: {
                          type: ["integer", "null"],
                        },
                        conversion_rate: {
                          type: ["number", "null"],
                        },
                      },
                    },
                    lift: {
                      type: "array",
                      items: {
                        type: "object",
                        required: [
                          "variant",
                          "treated",
                          "holdout",
                          "treated_rate",
                          "holdout_rate",
                          "confidence",
                          "absolute",
                          "relative",
                          "enough",
                        ],
                        properties: {
                          variant: {
                            type: ["string", "null"],
                          },
                          treated: {
                            type: "object",
                            required: ["conversions", "n"],
                            properties: {
                              conversions: {
                                type: "integer",
                              },
                              n: {
                                type: "integer",
                              },
                            },
                          },
                          holdout: {
                            type: "object",
                            required: ["conversions", "n"],
                            properties: {
                              conversions: {
                                type: "integer",
                              },
                              n: {
                                type: "integer",
                              },
                            },
                          },
                          treated_rate: {
                            type: ["number", "null"],
                          },
                          holdout_rate: {
                            type: ["number", "null"],
                          },
                          confidence: {
                            type: "number",
                          },
                          absolute: {
                            type: ["object", "null"],
                            required: ["lift", "low", "high", "method"],
                            properties: {
                              lift: {
                                type: "number",
                              },
                              low: {
                                type: "number",
                              },
                              high: {
                                type: "number",
                              },
                              method: {
                                type: "string",
                              },
                            },
                          },
                          relative: {
                            type: ["object", "null"],
                            required: ["lift", "low", "high", "method"],
                            properties: {
                              lift: {
                                type: "number",
                              },
                              low: {
                                type: "number",
                              },
                              high: {
                                type: "number",
                              },
                              method: {
                                type: "string",
                              },
                            },
                          },
                          enough: {
                            type: "boolean",
                          },
                          why: {
                            type: "string",
                          },
                        },
                      },
                    },
                  },
                },
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
      campaigns: [
        {
          campaign: "spring_winback",
          conversion: {
            event: "subscription.reactivated",
            within: "14d",
          },
          occurrences: 6,
          steps: [
            {
              step: "0",
              variants: [
                {
                  variant: "long_copy",
                  audience: 88,
                  assigned: 88,
                  sent: 49,
                  failed: 0,
                  held_out: 0,
                  frequency_capped: 39,
                  no_offer: 0,
                  conversions: 6,
                  conversion_rate: 0.06818181818181818,
                },
                {
                  variant: "short_copy",
                  audience: 76,
                  assigned: 76,
                  sent: 40,
                  failed: 0,
                  held_out: 0,
                  frequency_capped: 36,
                  no_offer: 0,
                  conversions: 4,
                  conversion_rate: 0.05263157894736842,
                },
              ],
              holdout: {
                n: 31,
                conversions: 2,
                conversion_rate: 0.06451612903225806,
              },
              lift: [
                {
                  variant: "long_copy",
                  treated: {
                    conversions: 6,
                    n: 88,
                  },
                  holdout: {
                    conversions: 2,
                    n: 31,
                  },
                  treated_rate: 0.06818181818181818,
                  holdout_rate: 0.06451612903225806,
                  confidence: 0.95,
                  absolute: {
                    lift: 0.003665689149560114,
                    low: -0.1436146407784188,
                    high: 0.09002781974518088,
                    method: "newcombe",
                  },
                  relative: {
                    lift: 0.05681818181818188,
                    low: -0.7750325520373723,
                    high: 3.964561226684781,
                    method: "log-risk-ratio",
                  },
                  enough: true,
                },
                {
                  variant: "short_copy",
                  treated: {
                    conversions: 4,
                    n: 76,
                  },
                  holdout: {
                    conversions: 2,
                    n: 31,
                  },
                  treated_rate: 0.05263157894736842,
                  holdout_rate: 0.06451612903225806,
                  confidence: 0.95,
                  absolute: {
                    lift: -0.011884550084889645,
                    low: -0.15809423188351615,
                    high: 0.07645676394827707,
                    method: "newcombe",
                  },
                  relative: {
                    lift: -0.1842105263157895,
                    low: -0.8425713613425778,
                    high: 3.2273913504528986,
                    method: "log-risk-ratio",
                  },
                  enough: true,
                },
              ],
            },
            {
              step: "1",
              variants: [
                {
                  variant: "long_copy",
                  audience: 40,
                  assigned: 40,
                  sent: 40,
                  failed: 0,
                  held_out: 0,
                  frequency_capped: 0,
                  no_offer: 0,
                  conversions: 3,
                  conversion_rate: 0.075,
                },
                {
                  variant: "short_copy",
                  audience: 36,
                  assigned: 36,
                  sent: 36,
                  failed: 0,
                  held_out: 0,
                  frequency_capped: 0,
                  no_offer: 0,
                  conversions: 2,
                  conversion_rate: 0.05555555555555555,
                },
              ],
              holdout: {
                n: 0,
                conversions: 0,
                conversion_rate: null,
              },
              lift: [
                {
                  variant: "long_copy",
                  treated: {
                    conversions: 3,
                    n: 40,
                  },
                  holdout: {
                    conversions: 0,
                    n: 0,
                  },
                  treated_rate: 0.075,
                  holdout_rate: null,
                  confidence: 0.95,
                  absolute: null,
                  relative: null,
                  enough: false,
                  why: "the holdout is drawn once, at the campaign's first step: that step's lift is the campaign's, later steps included",
                },
                {
                  variant: "short_copy",
                  treated: {
                    conversions: 2,
                    n: 36,
                  },
                  holdout: {
                    conversions: 0,
                    n: 0,
                  },
                  treated_rate: 0.05555555555555555,
                  holdout_rate: null,
                  confidence: 0.95,
                  absolute: null,
                  relative: null,
                  enough: false,
                  why: "the holdout is drawn once, at the campaign's first step: that step's lift is the campaign's, later steps included",
                },
              ],
            },
          ],
        },
      ],
      cost: {
        queries: 3,
        rows_read: 1169,
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

export const winbackCustomersDoc: RouteDoc = {
  summary: "Win-back customers",
  tag: "Metrics",
  description:
    "The customers behind the win-back figures. JSON pages (`items`, `next_cursor`) or CSV with `?format=csv`.",
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
    status: {
      description: "Which customers.",
      schema: {
        enum: ["targeted", "reactivated", "rechurned"],
        default: "targeted",
      },
    },
    limit: {
      description: "Items per page, 1 to 500 (default 100).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 500,
      },
      example: 100,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
    format: {
      description:
        '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
      schema: {
        enum: ["json", "csv"],
      },
      example: "json",
    },
  },
  response: {
    status: 200,
    description: "A page of the list (or CSV with `?format=csv`).",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "status", "items", "next_cursor", "cost"],
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
        status: {
          type: "string",
        },
        items: {
          type: "array",
          items: {
            type: "object",
            required: [
              "customer_id",
              "sequence",
              "canceled_at",
              "targeted_at",
              "first_send_id",
              "reactivated_at",
              "rechurned_at",
              "rechurned_within_30d",
              "rechurned_within_90d",
              "revenue_since_reactivation",
            ],
            properties: {
              customer_id: {
                type: "string",
              },
              sequence: {
                type: "string",
              },
              canceled_at: {
                type: "string",
                format: "date-time",
              },
              targeted_at: {
                type: "string",
                format: "date-time",
              },
              first_send_id: {
                type: "string",
              },
              reactivated_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              rechurned_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              rechurned_within_30d: {
                type: "boolean",
              },
              rechurned_within_90d: {
                type: "boolean",
              },
              revenue_since_reactivation: {
                type: "array",
                items: {},
              },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
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
      status: "targeted",
      items: [
        {
          customer_id: "demo-0038",
          sequence: "product",
          canceled_at: "2026-10-17T18:00:57.145Z",
          targeted_at: "2026-10-25T15:00:00.000Z",
          first_send_id: "snd_01a173935d8000004bb655299fb4",
          reactivated_at: null,
          rechurned_at: null,
          rechurned_within_30d: false,
          rechurned_within_90d: false,
          revenue_since_reactivation: [],
        },
        {
          customer_id: "demo-0100",
          sequence: "price",
          canceled_at: "2026-10-19T01:57:35.017Z",
          targeted_at: "2026-10-26T15:00:00.000Z",
          first_send_id: "snd_01a178b9b980000061ce5ffc5995",
          reactivated_at: null,
          rechurned_at: null,
          rechurned_within_30d: false,
          rechurned_within_90d: false,
          revenue_since_reactivation: [],
        },
      ],
      next_cursor: "WzE3OTMwMjY4MDAwMDAsInNuZF8wMWExNzhiOWI5ODAwMDAwNjFjZTVmZmM1OTk1Il0",
      cost: {
        queries: 1,
        rows_read: 108,
      },
    },
    alternatives: [
      {
        contentType: "text/csv",
        description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
      },
    ],
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const offerDecisionsDoc: RouteDoc = {
  summary: "Offer decisions",
  tag: "Metrics",
  description:
    "The decisions behind the offer figures. JSON pages (`items`, `next_cursor`) or CSV with `?format=csv`.",
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
    status: {
      description: "Which decisions.",
      schema: {
        enum: ["shown", "outstanding", "accepted", "declined", "expired", "withdrawn", "superseded"],
        default: "shown",
      },
    },
    offer: {
      description: "Only this offer.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
    },
    reason: {
      description: "Only this reason.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
    },
    limit: {
      description: "Items per page, 1 to 500 (default 100).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 500,
      },
      example: 100,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
    format: {
      description:
        '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
      schema: {
        enum: ["json", "csv"],
      },
      example: "json",
    },
  },
  response: {
    status: 200,
    description: "A page of the list (or CSV with `?format=csv`).",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "status", "items", "next_cursor", "cost"],
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
        status: {
          type: "string",
        },
        items: {
          type: "array",
          items: {
            type: "object",
            required: [
              "id",
              "customer_id",
              "context",
              "reason",
              "offer_key",
              "variant",
              "status",
              "cost",
              "cost_currency",
              "ruleset_version",
              "created_at",
              "expires_at",
              "responded_at",
            ],
            properties: {
              id: {
                type: "string",
              },
              customer_id: {
                type: "string",
              },
              context: {
                type: "string",
              },
              reason: {
                type: ["string", "null"],
              },
              offer_key: {
                type: "string",
              },
              variant: {
                type: ["string", "null"],
              },
              status: {
                type: "string",
              },
              cost: {
                type: ["integer", "null"],
              },
              cost_currency: {
                type: ["string", "null"],
              },
              ruleset_version: {
                type: "string",
              },
              created_at: {
                type: "string",
                format: "date-time",
              },
              expires_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              responded_at: {
                type: ["string", "null"],
                format: "date-time",
              },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
        },
        cost: {
          type: ["object", "null"],
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
      status: "shown",
      items: [
        {
          id: "dec_01a1731d658a8f60ca84d25ed71a",
          customer_id: "demo-0080",
          context: "cancel_flow",
          reason: "unused",
          offer_key: "unused_trial",
          variant: null,
          status: "accepted",
          cost: null,
          cost_currency: null,
          ruleset_version: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
          created_at: "2026-10-25T12:51:08.810Z",
          expires_at: "2026-11-01T12:51:08.810Z",
          responded_at: "2026-10-25T12:51:08.810Z",
        },
        {
          id: "dec_01a179779d6e71b5070f5dcf8995",
          customer_id: "demo-0064",
          context: "cancel_flow",
          reason: "missing_features",
          offer_key: "missing_features_unlock",
          variant: null,
          status: "declined",
          cost: null,
          cost_currency: null,
          ruleset_version: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
          created_at: "2026-10-26T18:27:24.654Z",
          expires_at: "2026-11-25T18:27:24.654Z",
          responded_at: "2026-10-26T18:27:24.654Z",
        },
      ],
      next_cursor: "WzE3OTMwMzkyNDQ2NTQsImRlY18wMWExNzk3NzlkNmU3MWI1MDcwZjVkY2Y4OTk1Il0",
      cost: {
        queries: 1,
        rows_read: 4,
      },
    },
    alternatives: [
      {
        contentType: "text/csv",
        description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
      },
    ],
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const campaignCustomersDoc: RouteDoc = {
  summary: "Campaign customers",
  tag: "Metrics",
  description:
    "The customers behind the campaign figures. JSON pages (`items`, `next_cursor`) or CSV with `?format=csv`.",
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
    campaign: {
      description: "Only this campaign.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
    },
    step: {
      description: "Only this step (0 for the first).",
      schema: {
        type: "string",
        pattern: "^\\d{1,4}$",
      },
    },
    group: {
      description: "Only this group.",
      schema: {
        enum: ["treated", "holdout", "frequency_capped", "no_offer"],
      },
    },
    converted: {
      description: "Only converted (true) or not (false).",
      schema: {
        enum: ["true", "false"],
      },
    },
    limit: {
      description: "Items per page, 1 to 500 (default 100).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 500,
      },
      example: 100,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
    format: {
      description:
        '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
      schema: {
        enum: ["json", "csv"],
      },
      example: "json",
    },
  },
  response: {
    status: 200,
    description: "A page of the list (or CSV with `?format=csv`).",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "items", "next_cursor", "cost"],
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
        items: {
          type: "array",
          items: {
            type: "object",
            required: [
              "campaign",
              "occurrence",
              "step",
              "customer_id",
              "group",
              "variant",
              "send_status",
              "at",
              "converted",
            ],
            properties: {
              campaign: {
                type: "string",
              },
              occurrence: {
                type: "string",
                format: "date-time",
              },
              step: {
                type: "string",
              },
              customer_id: {
                type: "string",
              },
              group: {
                type: "string",
              },
              variant: {
                type: ["string", "null"],
              },
              send_status: {
                type: ["string", "null"],
              },
              at: {
                type: "string",
                format: "date-time",
              },
              converted: {
                type: ["boolean", "null"],
              },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
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
      items: [
        {
          campaign: "spring_winback",
          occurrence: "2026-10-27T14:00:00.000Z",
          step: "0",
          customer_id: "demo-0004",
          group: "treated",
          variant: "short_copy",
          send_status: "sent",
          at: "2026-10-27T15:00:00.000Z",
          converted: false,
        },
        {
          campaign: "spring_winback",
          occurrence: "2026-10-27T14:00:00.000Z",
          step: "0",
          customer_id: "demo-0006",
          group: "treated",
          variant: "long_copy",
          send_status: "sent",
          at: "2026-10-27T15:00:00.000Z",
          converted: false,
        },
      ],
      next_cursor: "WyJzcHJpbmdfd2luYmFjayIsIjIwMjYtMTAtMjdUMTQ6MDA6MDAuMDAwWiIsIjAiLCJkZW1vLTAwMDYiXQ",
      cost: {
        queries: 2,
        rows_read: 30,
      },
    },
    alternatives: [
      {
        contentType: "text/csv",
        description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
      },
    ],
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const canceledCustomersDoc: RouteDoc = {
  summary: "Canceled customers",
  tag: "Metrics",
  description:
    "The customers behind the cancellation figures. JSON pages (`items`, `next_cursor`) or CSV with `?format=csv`.",
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
    reason: {
      description: "Only this reason.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
    },
    plan: {
      description: "Only this plan.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
    },
    limit: {
      description: "Items per page, 1 to 500 (default 100).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 500,
      },
      example: 100,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
    format: {
      description:
        '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
      schema: {
        enum: ["json", "csv"],
      },
      example: "json",
    },
  },
  response: {
    status: 200,
    description: "A page of the list (or CSV with `?format=csv`).",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "items", "next_cursor", "cost"],
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
        items: {
          type: "array",
          items: {
            type: "object",
            required: [
              "customer_id",
              "canceled_at",
              "reason",
              "involuntary",
              "plan",
              "mrr_lost",
              "currency",
              "signed_up_at",
            ],
            properties: {
              customer_id: {
                type: "string",
              },
              canceled_at: {
                type: "string",
                format: "date-time",
              },
              reason: {
                type: ["string", "null"],
              },
              involuntary: {
                type: "boolean",
              },
              plan: {
                type: ["string", "null"],
              },
              mrr_lost: {
                type: ["integer", "null"],
              },
              currency: {
                type: ["string", "null"],
              },
              signed_up_at: {
                type: ["string", "null"],
                format: "date-time",
              },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
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
      items: [
        {
          customer_id: "demo-0019",
          canceled_at: "2026-07-25T14:52:03.491Z",
          reason: "switched_to_competitor",
          involuntary: false,
          plan: "starter",
          mrr_lost: 1900,
          currency: "USD",
          signed_up_at: "2026-07-17T12:22:54.750Z",
        },
        {
          customer_id: "demo-0004",
          canceled_at: "2026-08-08T15:50:27.593Z",
          reason: "too_expensive",
          involuntary: false,
          plan: "starter",
          mrr_lost: 1805,
          currency: "GBP",
          signed_up_at: "2026-07-05T17:49:35.075Z",
        },
      ],
      next_cursor: "WzE3ODYyMDQyMjc1OTMsImRlbW8tMDAwNCJd",
      cost: {
        queries: 1,
        rows_read: 3,
      },
    },
    alternatives: [
      {
        contentType: "text/csv",
        description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
      },
    ],
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const dunningCaseListDoc: RouteDoc = {
  summary: "Dunning cases (metrics)",
  tag: "Metrics",
  description:
    "The cases behind the dunning figures. JSON pages (`items`, `next_cursor`) or CSV with `?format=csv`.",
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
    status: {
      description: "Only cases with this status.",
      schema: {
        enum: ["open", "recovered", "final", "canceled"],
      },
    },
    limit: {
      description: "Items per page, 1 to 500 (default 100).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 500,
      },
      example: 100,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
    format: {
      description:
        '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
      schema: {
        enum: ["json", "csv"],
      },
      example: "json",
    },
  },
  response: {
    status: 200,
    description: "A page of the list (or CSV with `?format=csv`).",
    schema: {
      type: "object",
      required: ["timezone", "from", "to", "status", "items", "next_cursor", "cost"],
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
        status: {
          type: ["string", "null"],
        },
        items: {
          type: "array",
          items: {
            type: "object",
            required: [
              "customer_id",
              "invoice_id",
              "cadence",
              "status",
              "failed_at",
              "amount",
              "currency",
              "opened_at",
              "last_step",
              "closed_at",
              "recovered_at",
              "mrr_saved",
              "recovered_after_step",
              "final_actions",
              "decline_code",
              "mrr_at_risk",
            ],
            properties: {
              customer_id: {
                type: "string",
              },
              invoice_id: {
                type: "string",
              },
              cadence: {
                type: "string",
              },
              status: {
                type: "string",
              },
              failed_at: {
                type: "string",
                format: "date-time",
              },
              amount: {
                type: ["integer", "null"],
              },
              currency: {
                type: ["string", "null"],
              },
              opened_at: {
                type: "string",
                format: "date-time",
              },
              last_step: {
                type: ["string", "null"],
              },
              closed_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              recovered_at: {
                type: ["string", "null"],
                format: "date-time",
              },
              mrr_saved: {
                type: ["integer", "null"],
              },
              recovered_after_step: {
                type: ["string", "null"],
              },
              final_actions: {
                type: ["array", "null"],
                items: {
                  type: "string",
                },
              },
              decline_code: {
                type: ["string", "null"],
              },
              mrr_at_risk: {
                type: ["integer", "null"],
              },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
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
      status: null,
      items: [
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
          closed_at: "2026-11-01T15:00:00.000Z",
          recovered_at: null,
          mrr_saved: null,
          recovered_after_step: null,
          final_actions: ["cancel"],
          decline_code: "expired_card",
          mrr_at_risk: 1805,
        },
        {
          customer_id: "demo-0014",
          invoice_id: "in_demo-0014_4",
          cadence: "standard",
          status: "recovered",
          failed_at: "2026-10-18T09:39:31.839Z",
          amount: 14155,
          currency: "AUD",
          opened_at: "2026-10-25T15:00:00.000Z",
          last_step: "day-21",
          closed_at: "2026-11-09T15:00:00.000Z",
          recovered_at: "2026-11-09T00:24:14.535Z",
          mrr_saved: 14155,
          recovered_after_step: "day-21",
          final_actions: null,
          decline_code: "do_not_honor",
          mrr_at_risk: 14155,
        },
      ],
      next_cursor: "WzE3OTI5NDA0MDAwMDAsImRlbW8tMDAxNCIsImluX2RlbW8tMDAxNF80Il0",
      cost: {
        queries: 1,
        rows_read: 3,
      },
    },
    alternatives: [
      {
        contentType: "text/csv",
        description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
      },
    ],
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const recentDecisionsDoc: RouteDoc = {
  summary: "Recent decisions",
  tag: "Metrics",
  description:
    "The latest decisions, newest first. JSON pages (`items`, `next_cursor`) or CSV with `?format=csv`.",
  query: {
    limit: {
      description: "Items per page, 1 to 500 (default 100).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 500,
      },
      example: 100,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
    format: {
      description:
        '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
      schema: {
        enum: ["json", "csv"],
      },
      example: "json",
    },
  },
  response: {
    status: 200,
    description: "A page of the list (or CSV with `?format=csv`).",
    schema: {
      type: "object",
      required: ["items", "next_cursor", "cost"],
      properties: {
        items: {
          type: "array",
          items: {
            type: "object",
            required: [
              "id",
              "customer_id",
              "context",
              "reason",
              "offer_key",
              "status",
              "reason_code",
              "why",
              "ruleset_version",
              "variant",
              "holdout",
              "created_at",
            ],
            properties: {
              id: {
                type: "string",
              },
              customer_id: {
                type: "string",
              },
              context: {
                type: "string",
              },
              reason: {
                type: ["string", "null"],
              },
              offer_key: {
                type: ["string", "null"],
              },
              status: {
                type: "string",
              },
              reason_code: {
                type: "string",
              },
              why: {
                type: "string",
              },
              ruleset_version: {
                type: "string",
              },
              variant: {
                type: ["string", "null"],
              },
              holdout: {
                type: "boolean",
              },
              created_at: {
                type: "string",
                format: "date-time",
              },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
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
      items: [
        {
          id: "dec_01a2422b6d023eaa1631078f1838",
          customer_id: "demo-0006",
          context: "cancel_flow",
          reason: "too_expensive",
          offer_key: "price_everyone_else",
          status: "declined",
          reason_code: "offered",
          why: "price_everyone_else: matched: reason is too_expensive; `not low_value` holds",
          ruleset_version: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
          variant: null,
          holdout: false,
          created_at: "2026-12-04T17:47:51.938Z",
        },
        {
          id: "dec_01a2422b6ca406763a237baf99be",
          customer_id: "demo-0005",
          context: "cancel_flow",
          reason: "payment_failed",
          offer_key: null,
          status: "no_offer",
          reason_code: "no_matching_rule",
          why: "no offer matches in context `cancel_flow` for reason `payment_failed`",
          ruleset_version: "sha256:b08b2175dfcf16a0f8e94bbfde5355183426b11f23db5b3845d382ff9dda19ed",
          variant: null,
          holdout: false,
          created_at: "2026-12-04T17:47:51.844Z",
        },
      ],
      next_cursor: "WyJkZWNfMDFhMjQyMmI2Y2E0MDY3NjNhMjM3YmFmOTliZSJd",
      cost: {
        queries: 1,
        rows_read: 3,
      },
    },
    alternatives: [
      {
        contentType: "text/csv",
        description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
      },
    ],
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};

export const problemSendsDoc: RouteDoc = {
  summary: "Problem sends",
  tag: "Metrics",
  description:
    "Sends that failed or died, newest first (no recipient addresses). JSON pages (`items`, `next_cursor`) or CSV with `?format=csv`.",
  query: {
    limit: {
      description: "Items per page, 1 to 500 (default 100).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 500,
      },
      example: 100,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
    format: {
      description:
        '`json` (default) or `csv` (an attachment; a `Link: <…>; rel="next"` header while there is more).',
      schema: {
        enum: ["json", "csv"],
      },
      example: "json",
    },
  },
  response: {
    status: 200,
    description: "A page of the list (or CSV with `?format=csv`).",
    schema: {
      type: "object",
      required: ["items", "next_cursor", "cost"],
      properties: {
        items: {
          type: "array",
          items: {
            type: "object",
            required: [
              "id",
              "customer_id",
              "programme_kind",
              "programme_key",
              "step",
              "channel",
              "status",
              "attempts",
              "last_error",
              "updated_at",
            ],
            properties: {
              id: { type: "string" },
              customer_id: { type: "string" },
              programme_kind: { type: "string" },
              programme_key: { type: "string" },
              step: { type: "string" },
              channel: { type: "string" },
              status: { enum: ["failed", "dead"] },
              attempts: { type: "integer" },
              last_error: { type: ["string", "null"] },
              updated_at: { type: "string", format: "date-time" },
            },
          },
        },
        next_cursor: {
          type: ["string", "null"],
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
      items: [
        {
          id: "snd_01a23c6b61800000726b6a97ceab",
          customer_id: "demo-0131",
          programme_kind: "winback",
          programme_key: "price",
          step: "day-7",
          channel: "cloudflare_email",
          status: "dead",
          attempts: 1,
          last_error: "cloudflare_email channel: the send has no recipient",
          updated_at: "2026-11-20T15:00:04.512Z",
        },
      ],
      next_cursor: null,
      cost: {
        queries: 1,
        rows_read: 2,
      },
    },
    alternatives: [
      {
        contentType: "text/csv",
        description: "With `?format=csv`: the page as CSV, a `Link` header to the next.",
      },
    ],
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A parameter is unknown, repeated or invalid.",
    },
  ],
};
