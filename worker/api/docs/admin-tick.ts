/**
 * OpenAPI documentation of worker/api/routes/admin-tick.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";

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
        at: {
          type: "string",
          description: "ISO 8601 time with a zone.",
        },
        dry_run: {
          type: "boolean",
        },
      },
    },
    example: {
      at: "2026-03-03T15:00:00Z",
      dry_run: true,
    },
  },
  response: {
    status: 200,
    description: "The tick's report (and, for a dry run, its effects).",
    schema: {
      type: "object",
      required: ["tick"],
      properties: {
        tick: {
          type: "object",
          required: [
            "at",
            "catch_up_from",
            "campaigns",
            "catch_up",
            "already_claimed",
            "dunning",
            "lifecycle",
            "republished",
            "archive",
            "legacy_profiles_upgraded",
            "queries",
            "rows_read",
            "errors",
            "clean",
          ],
          properties: {
            at: {
              type: "string",
              format: "date-time",
            },
            catch_up_from: {
              type: "string",
              format: "date-time",
            },
            campaigns: {
              type: "array",
              items: {},
            },
            catch_up: {
              type: "array",
              items: {},
            },
            already_claimed: {
              type: "integer",
            },
            dunning: {
              type: "object",
              required: ["opened", "recovered", "canceled", "final_actions", "sent", "steps", "rows_read"],
              properties: {
                opened: {
                  type: "integer",
                },
                recovered: {
                  type: "integer",
                },
                canceled: {
                  type: "integer",
                },
                final_actions: {
                  type: "integer",
                },
                sent: {
                  type: "integer",
                },
                steps: {
                  type: "object",
                  additionalProperties: {
                    type: "integer",
                  },
                },
                rows_read: {
                  type: "integer",
                },
              },
            },
            lifecycle: {
              type: "object",
              required: ["sent", "steps", "deferred", "no_offer", "rows_read", "window", "truncated"],
              properties: {
                sent: {
                  type: "integer",
                },
                steps: {
                  type: "object",
                  additionalProperties: {
                    type: "integer",
                  },
                },
                deferred: {
                  type: "integer",
                },
                no_offer: {
                  type: "integer",
                },
                rows_read: {
                  type: "integer",
                },
                window: {
                  type: "object",
                  required: ["from", "to"],
                  properties: {
                    from: {
                      type: "string",
                      format: "date-time",
                    },
                    to: {
                      type: "string",
                      format: "date-time",
                    },
                  },
                },
                truncated: {
                  type: "boolean",
                },
              },
            },
            republished: {
              type: "integer",
            },
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
                skipped: {
                  type: ["string", "null"],
                },
                sealed_before: {
                  type: ["string", "null"],
                  format: "date-time",
                },
                days_finished: {
                  type: "array",
                  items: {
                    type: "string",
                    format: "date",
                  },
                },
                day_in_progress: {
                  type: ["string", "null"],
                },
                events: {
                  type: "integer",
                },
                objects: {
                  type: "integer",
                },
                erasure_objects_rewritten: {
                  type: "integer",
                },
              },
            },
            legacy_profiles_upgraded: {
              type: "integer",
            },
            queries: {
              type: "integer",
            },
            rows_read: {
              type: "integer",
            },
            errors: {
              type: "array",
              items: {},
            },
            clean: {
              type: "boolean",
            },
          },
        },
        dry_run: {
          const: true,
        },
        effects: {
          type: "object",
          required: ["sends", "decisions", "dunning", "exclusions", "republish", "archive"],
          properties: {
            sends: {
              type: "array",
              items: {
                type: "object",
                required: [
                  "programme_kind",
                  "programme_key",
                  "occurrence",
                  "step",
                  "customer_id",
                  "channel",
                  "message_key",
                  "send_at",
                  "offer_key",
                  "subject",
                  "body",
                ],
                properties: {
                  programme_kind: {
                    type: "string",
                  },
                  programme_key: {
                    type: "string",
                  },
                  occurrence: {
                    type: "string",
                  },
                  step: {
                    type: "string",
                  },
                  customer_id: {
                    type: "string",
                  },
                  channel: {
                    type: "string",
                  },
                  message_key: {
                    type: "string",
                  },
                  send_at: {
                    type: "string",
                    format: "date-time",
                  },
                  offer_key: {
                    type: ["string", "null"],
                  },
                  subject: {
                    type: "string",
                  },
                  body: {
                    type: "string",
                  },
                },
              },
            },
            decisions: {
              type: "array",
              items: {},
            },
            dunning: {
              type: "object",
              required: ["opened", "closed", "cancellations"],
              properties: {
                opened: {
                  type: "array",
                  items: {},
                },
                closed: {
                  type: "array",
                  items: {},
                },
                cancellations: {
                  type: "array",
                  items: {},
                },
              },
            },
            exclusions: {
              type: "array",
              items: {},
            },
            republish: {
              type: "integer",
            },
            archive: {
              type: "object",
              required: ["skipped", "day", "erasures_to_continue", "note"],
              properties: {
                skipped: {
                  type: ["string", "null"],
                },
                day: {
                  type: ["string", "null"],
                  format: "date",
                },
                erasures_to_continue: {
                  type: "integer",
                },
                note: {
                  type: "string",
                },
              },
            },
          },
        },
        truncated: {
          type: "object",
          required: [
            "sends",
            "decisions",
            "exclusions",
            "dunning_opened",
            "dunning_closed",
            "dunning_cancellations",
          ],
          properties: {
            sends: {
              type: "integer",
            },
            decisions: {
              type: "integer",
            },
            exclusions: {
              type: "integer",
            },
            dunning_opened: {
              type: "integer",
            },
            dunning_closed: {
              type: "integer",
            },
            dunning_cancellations: {
              type: "integer",
            },
          },
        },
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
          steps: {
            "standard/day-21": 1,
            "standard/day-7": 1,
          },
          rows_read: 59,
        },
        lifecycle: {
          sent: 2,
          steps: {
            "winback/price/day-7": 1,
            "winback/product/day-7": 1,
          },
          deferred: 0,
          no_offer: 0,
          rows_read: 250,
          window: {
            from: "2026-12-02T15:00:00.000Z",
            to: "2026-12-04T17:47:51.007Z",
          },
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
        dunning: {
          opened: [],
          closed: [],
          cancellations: [],
        },
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
