/**
 * OpenAPI documentation of worker/api/routes/plan.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

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
        days: {
          type: "integer",
          minimum: 1,
          maximum: 90,
          default: 30,
        },
        at: {
          type: "string",
        },
        cursor: {
          type: "string",
        },
        page_size: {
          type: "integer",
          minimum: 1,
          maximum: 2000,
          default: 500,
        },
      },
    },
    example: {
      ruleset: {
        version: "sha256:…",
      },
      days: 30,
      page_size: 500,
    },
  },
  response: {
    status: 200,
    description: "One page of the plan.",
    schema: {
      type: "object",
      required: ["plan"],
      properties: {
        plan: {
          type: "object",
          required: [
            "at",
            "until",
            "days",
            "base",
            "proposed",
            "customers",
            "customers_with_offer_moves",
            "open_cases_without_cadence",
            "segments",
            "offers",
            "campaigns",
            "programmes",
            "cost",
            "next_cursor",
          ],
          properties: {
            at: {
              type: "string",
              format: "date-time",
            },
            until: {
              type: "string",
              format: "date-time",
            },
            days: {
              type: "integer",
            },
            base: {
              type: "object",
              required: ["version", "source"],
              properties: {
                version: {
                  type: "string",
                },
                source: {
                  type: "string",
                },
              },
            },
            proposed: {
              type: "object",
              required: ["version"],
              properties: {
                version: {
                  type: "string",
                },
              },
            },
            customers: {
              type: "integer",
            },
            customers_with_offer_moves: {
              type: "integer",
            },
            open_cases_without_cadence: {
              type: "object",
              required: ["before", "after"],
              properties: {
                before: {
                  type: "integer",
                },
                after: {
                  type: "integer",
                },
              },
            },
            segments: {
              type: "array",
              items: {
                type: "object",
                required: [
                  "segment",
                  "before",
                  "after",
                  "entering",
                  "leaving",
                  "entering_examples",
                  "leaving_examples",
                ],
                properties: {
                  segment: {
                    type: "string",
                  },
                  before: {
                    type: "integer",
                  },
                  after: {
                    type: "integer",
                  },
                  entering: {
                    type: "integer",
                  },
                  leaving: {
                    type: "integer",
                  },
                  entering_examples: {
                    type: "array",
                    items: {},
                  },
                  leaving_examples: {
                    type: "array",
                    items: {},
                  },
                },
              },
            },
            offers: {
              type: "array",
              items: {
                type: "object",
                required: [
                  "context",
                  "reason",
                  "moves",
                  "unchanged",
                  "cost_before",
                  "cost_after",
                  "unpriced_before",
                  "unpriced_after",
                  "holding_offer",
                ],
                properties: {
                  context: {
                    type: "string",
                  },
                  reason: {
                    type: ["string", "null"],
                  },
                  moves: {
                    type: "array",
                    items: {},
                  },
                  unchanged: {
                    type: "integer",
                  },
                  cost_before: {
                    type: "object",
                    required: [],
                    properties: {
                      USD: {
                        type: "integer",
                      },
                      AUD: {
                        type: "integer",
                      },
                      GBP: {
                        type: "integer",
                      },
                      EUR: {
                        type: "integer",
                      },
                    },
                  },
                  cost_after: {
                    type: "object",
                    required: [],
                    properties: {
                      USD: {
                        type: "integer",
                      },
                      AUD: {
                        type: "integer",
                      },
                      GBP: {
                        type: "integer",
                      },
                      EUR: {
                        type: "integer",
                      },
                    },
                  },
                  unpriced_before: {
                    type: "integer",
                  },
                  unpriced_after: {
                    type: "integer",
                  },
                  holding_offer: {
                    type: "integer",
                  },
                },
              },
            },
            campaigns: {
              type: "array",
              items: {
                type: "object",
                required: ["campaign", "occurrence", "step", "due_at", "before", "after"],
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
                  due_at: {
                    type: "string",
                    format: "date-time",
                  },
                  before: {
                    type: "object",
                    required: ["audience", "sent", "holdout", "frequency_capped", "deferred", "no_offer"],
                    properties: {
                      audience: {
                        type: "integer",
                      },
                      sent: {
                        type: "integer",
                      },
                      holdout: {
                        type: "integer",
                      },
                      frequency_capped: {
                        type: "integer",
                      },
                      deferred: {
                        type: "integer",
                      },
                      no_offer: {
                        type: "integer",
                      },
                    },
                  },
                  after: {
                    type: "object",
                    required: ["audience", "sent", "holdout", "frequency_capped", "deferred", "no_offer"],
                    properties: {
                      audience: {
                        type: "integer",
                      },
                      sent: {
                        type: "integer",
                      },
                      holdout: {
                        type: "integer",
                      },
                      frequency_capped: {
                        type: "integer",
                      },
                      deferred: {
                        type: "integer",
                      },
                      no_offer: {
                        type: "integer",
                      },
                    },
                  },
                },
              },
            },
            programmes: {
              type: "array",
              items: {
                type: "object",
                required: ["programme", "key", "before", "after"],
                properties: {
                  programme: {
                    type: "string",
                  },
                  key: {
                    type: "string",
                  },
                  before: {
                    type: "object",
                    required: [
                      "sends",
                      "final_actions",
                      "cancels",
                      "by_day",
                      "steps",
                      "customers",
                      "examples",
                    ],
                    properties: {
                      sends: {
                        type: "integer",
                      },
                      final_actions: {
                        type: "integer",
                      },
                      cancels: {
                        type: "integer",
                      },
                      by_day: {
                        type: "object",
                        required: [],
                        properties: {
                          "2026-12-05": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-07": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-13": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-30": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-08": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-31": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-19": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-27": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-06": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-29": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-10": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-15": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-11": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-17": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-14": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2027-01-02": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                        },
                      },
                      steps: {
                        type: "object",
                        additionalProperties: {
                          type: "integer",
                        },
                      },
                      customers: {
                        type: "integer",
                      },
                      examples: {
                        type: "array",
                        items: {
                          type: "string",
                        },
                      },
                    },
                  },
                  after: {
                    type: "object",
                    required: [
                      "sends",
                      "final_actions",
                      "cancels",
                      "by_day",
                      "steps",
                      "customers",
                      "examples",
                    ],
                    properties: {
                      sends: {
                        type: "integer",
                      },
                      final_actions: {
                        type: "integer",
                      },
                      cancels: {
                        type: "integer",
                      },
                      by_day: {
                        type: "object",
                        required: [],
                        properties: {
                          "2026-12-05": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-07": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-13": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-30": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-08": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-31": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-19": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-27": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-06": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-29": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-10": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-15": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-11": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-17": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2026-12-14": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                          "2027-01-02": {
                            type: "object",
                            required: ["sends", "final_actions"],
                            properties: {
                              sends: {
                                type: "integer",
                              },
                              final_actions: {
                                type: "integer",
                              },
                            },
                          },
                        },
                      },
                      steps: {
                        type: "object",
                        additionalProperties: {
                          type: "integer",
                        },
                      },
                      customers: {
                        type: "integer",
                      },
                      examples: {
                        type: "array",
                        items: {
                          type: "string",
                        },
                      },
                    },
                  },
                },
              },
            },
            cost: {
              type: "object",
              required: ["rows_read", "queries", "pages"],
              properties: {
                rows_read: {
                  type: "integer",
                },
                queries: {
                  type: "integer",
                },
                pages: {
                  type: "integer",
                },
              },
            },
            next_cursor: {
              type: ["string", "null"],
              description: "The cursor of the next page, or null on the last page.",
            },
          },
        },
      },
    },
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
        open_cases_without_cadence: {
          before: 0,
          after: 0,
        },
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
            cost_before: {
              USD: 6000,
            },
            cost_after: {
              USD: 6000,
            },
            unpriced_before: 5,
            unpriced_after: 5,
            holding_offer: 2,
          },
          {
            context: "cancel_flow",
            reason: "hard_to_use",
            moves: [],
            unchanged: 50,
            cost_before: {
              USD: 300000,
            },
            cost_after: {
              USD: 300000,
            },
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
            before: {
              sends: 2,
              final_actions: 1,
              cancels: 1,
              by_day: {
                "2026-12-05": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-07": {
                  sends: 1,
                  final_actions: 1,
                },
              },
              steps: {
                "day-28": 1,
                final: 1,
              },
              customers: 1,
              examples: ["demo-0026"],
            },
            after: {
              sends: 2,
              final_actions: 1,
              cancels: 1,
              by_day: {
                "2026-12-05": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-07": {
                  sends: 1,
                  final_actions: 1,
                },
              },
              steps: {
                "day-28": 1,
                final: 1,
              },
              customers: 1,
              examples: ["demo-0026"],
            },
          },
          {
            programme: "winback",
            key: "price",
            before: {
              sends: 6,
              final_actions: 0,
              cancels: 0,
              by_day: {
                "2026-12-13": {
                  sends: 2,
                  final_actions: 0,
                },
                "2026-12-30": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-08": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-31": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-19": {
                  sends: 1,
                  final_actions: 0,
                },
              },
              steps: {
                "day-60": 2,
                "day-30": 3,
                "day-7": 1,
              },
              customers: 5,
              examples: ["demo-0007", "demo-0017"],
            },
            after: {
              sends: 6,
              final_actions: 0,
              cancels: 0,
              by_day: {
                "2026-12-13": {
                  sends: 2,
                  final_actions: 0,
                },
                "2026-12-30": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-08": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-31": {
                  sends: 1,
                  final_actions: 0,
                },
                "2026-12-19": {
                  sends: 1,
                  final_actions: 0,
                },
              },
              steps: {
                "day-60": 2,
                "day-30": 3,
                "day-7": 1,
              },
              customers: 5,
              examples: ["demo-0007", "demo-0017"],
            },
          },
        ],
        cost: {
          rows_read: 1359,
          queries: 7,
          pages: 1,
        },
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
