/**
 * OpenAPI documentation of worker/api/routes/sends.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { JsonSchema, RouteDoc } from "../app-env";

const TIME = { type: "string", format: "date-time" };
const TIME_OR_NULL = { type: ["string", "null"], format: "date-time" };

/** A send as `sendView` (worker/api/routes/sends.ts) answers it; null until the step it records. */
const SEND_SCHEMA: JsonSchema = {
  type: "object",
  required: [
    "id",
    "status",
    "programme",
    "customer_id",
    "channel",
    "message_key",
    "recipient",
    "variables",
    "attempts",
    "max_attempts",
    "last_error",
    "provider_message_id",
    "not_before",
    "created_at",
    "enqueued_at",
    "next_attempt_at",
    "sent_at",
    "updated_at",
  ],
  properties: {
    id: { type: "string" },
    status: { enum: ["queued", "sending", "sent", "failed", "dead"] },
    programme: {
      type: "object",
      required: ["kind", "key", "occurrence", "step"],
      properties: {
        kind: { type: "string", description: "campaign, dunning, card_expiry, inactivity or winback" },
        key: { type: "string" },
        occurrence: { type: "string", description: "The programme's occurrence: a time, an invoice id, …" },
        step: { type: "string" },
      },
    },
    customer_id: { type: "string" },
    channel: { type: "string" },
    message_key: { type: "string" },
    recipient: { type: ["string", "null"], description: "Null when the customer has no address." },
    variables: { type: "object", additionalProperties: { type: ["string", "null"] } },
    attempts: { type: "integer", minimum: 0 },
    max_attempts: { type: "integer", minimum: 1 },
    last_error: { type: ["string", "null"] },
    provider_message_id: { type: ["string", "null"], description: "The channel's id, once sent." },
    not_before: TIME,
    created_at: TIME,
    enqueued_at: TIME_OR_NULL,
    next_attempt_at: TIME_OR_NULL,
    sent_at: TIME_OR_NULL,
    updated_at: TIME,
  },
};

export const listSendsDoc: RouteDoc = {
  summary: "List sends",
  tag: "Sends",
  description:
    "Every message the programmes decided to send, newest first, with status, attempts and last error.",
  query: {
    status: {
      description: "Comma-separated statuses: `queued`, `sending`, `sent`, `failed`, `dead`.",
      schema: {
        type: "string",
        pattern: "^(queued|sending|sent|failed|dead)(,(queued|sending|sent|failed|dead))*$",
      },
      example: "failed,dead",
    },
    customer_id: {
      description: "Only this customer's.",
      schema: {
        $ref: "https://rebound.dev/schemas/id.json",
      },
      example: "cus_42",
    },
    limit: {
      description: "Items per page, 1 to 200 (default 50).",
      schema: {
        type: "integer",
        minimum: 1,
        maximum: 200,
      },
      example: 50,
    },
    cursor: {
      description: "The `next_cursor` of the previous page.",
      schema: {
        type: "string",
      },
    },
  },
  response: {
    status: 200,
    description: "A page of sends.",
    schema: {
      type: "object",
      required: ["sends", "next_cursor"],
      properties: {
        sends: {
          type: "array",
          items: SEND_SCHEMA,
        },
        next_cursor: {
          type: ["string", "null"],
          description: "The cursor of the next page, or null on the last page.",
        },
      },
    },
    example: {
      sends: [
        {
          id: "snd_01a23c6b61800000f61b64ba7a5e",
          status: "sent",
          programme: {
            kind: "inactivity",
            key: "team_quiet_two_weeks",
            occurrence: "2026-11-19T07:48:14.383Z",
            step: "0",
          },
          customer_id: "demo-0054",
          channel: "outbox",
          message_key: "nudge_team",
          recipient: "wen.0054@example.com",
          variables: {
            first_name: "Wen",
            email: "wen.0054@example.com",
            plan: "pro",
            company_name: "Acme Analytics",
            card_last4: null,
            update_url: null,
            failed_amount: null,
            card_expires_at: null,
            offer_amount: null,
            offer_description: null,
            offer_expires_at: null,
            decision_id: null,
          },
          attempts: 1,
          max_attempts: 6,
          last_error: null,
          provider_message_id: "snd_01a23c6b61800000f61b64ba7a5e",
          not_before: "2026-12-03T15:00:00.000Z",
          created_at: "2026-12-03T15:00:00.000Z",
          enqueued_at: "2026-12-03T15:00:00.000Z",
          next_attempt_at: null,
          sent_at: "2026-12-04T17:47:50.902Z",
          updated_at: "2026-12-04T17:47:50.902Z",
        },
        {
          id: "snd_01a23c6b61800000d01ac4981b6a",
          status: "sent",
          programme: {
            kind: "dunning",
            key: "standard",
            occurrence: "in_demo-0095_3",
            step: "day-0",
          },
          customer_id: "demo-0095",
          channel: "outbox",
          message_key: "dunning_day_0",
          recipient: "tara.0095@example.com",
          variables: {
            first_name: "Tara",
            email: "tara.0095@example.com",
            plan: "business",
            company_name: "Acme Analytics",
            card_last4: "4936",
            update_url: "https://billing.example.com/update/demo-0095",
            failed_amount: "€141.55",
            card_expires_at: null,
            offer_amount: null,
            offer_description: null,
            offer_expires_at: null,
            decision_id: null,
            invoice_id: "in_demo-0095_3",
          },
          attempts: 1,
          max_attempts: 6,
          last_error: null,
          provider_message_id: "snd_01a23c6b61800000d01ac4981b6a",
          not_before: "2026-12-03T15:00:00.000Z",
          created_at: "2026-12-03T15:00:00.000Z",
          enqueued_at: "2026-12-03T15:00:00.000Z",
          next_attempt_at: null,
          sent_at: "2026-12-04T17:47:50.902Z",
          updated_at: "2026-12-04T17:47:50.902Z",
        },
      ],
      next_cursor: "snd_01a23c6b61800000726b6a97ceab",
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "A status, the customer id, `limit` or `cursor` is invalid.",
    },
  ],
};

export const getSendDoc: RouteDoc = {
  summary: "Read a send",
  tag: "Sends",
  description: "One send with its status, attempts and last error.",
  pathParams: {
    id: {
      description: "The send's id (`snd_…`).",
      schema: {
        type: "string",
      },
      example: "snd_01a23c6b61800000f61b64ba7a5e",
    },
  },
  response: {
    status: 200,
    description: "The send.",
    schema: {
      type: "object",
      required: ["send"],
      properties: {
        send: SEND_SCHEMA,
      },
    },
    example: {
      send: {
        id: "snd_01a23c6b61800000f61b64ba7a5e",
        status: "sent",
        programme: {
          kind: "inactivity",
          key: "team_quiet_two_weeks",
          occurrence: "2026-11-19T07:48:14.383Z",
          step: "0",
        },
        customer_id: "demo-0054",
        channel: "outbox",
        message_key: "nudge_team",
        recipient: "wen.0054@example.com",
        variables: {
          first_name: "Wen",
          email: "wen.0054@example.com",
          plan: "pro",
          company_name: "Acme Analytics",
          card_last4: null,
          update_url: null,
          failed_amount: null,
          card_expires_at: null,
          offer_amount: null,
          offer_description: null,
          offer_expires_at: null,
          decision_id: null,
        },
        attempts: 1,
        max_attempts: 6,
        last_error: null,
        provider_message_id: "snd_01a23c6b61800000f61b64ba7a5e",
        not_before: "2026-12-03T15:00:00.000Z",
        created_at: "2026-12-03T15:00:00.000Z",
        enqueued_at: "2026-12-03T15:00:00.000Z",
        next_attempt_at: null,
        sent_at: "2026-12-04T17:47:50.902Z",
        updated_at: "2026-12-04T17:47:50.902Z",
      },
    },
  },
  errors: [
    {
      status: 404,
      code: "send_not_found",
      when: "No send has this id.",
    },
  ],
};

export const retrySendDoc: RouteDoc = {
  summary: "Retry a dead send",
  tag: "Sends",
  description: "Gives a dead send a fresh set of attempts and puts it back on the queue.",
  pathParams: {
    id: {
      description: "The send's id (`snd_…`).",
      schema: {
        type: "string",
      },
      example: "snd_01a23c6b61800000f61b64ba7a5e",
    },
  },
  response: {
    status: 200,
    description: "The requeued send.",
    schema: {
      type: "object",
      required: ["send"],
      properties: {
        send: SEND_SCHEMA,
      },
    },
    example: {
      send: {
        id: "snd_01a23c6b61800000f61b64ba7a5e",
        status: "sent",
        programme: {
          kind: "inactivity",
          key: "team_quiet_two_weeks",
          occurrence: "2026-11-19T07:48:14.383Z",
          step: "0",
        },
        customer_id: "demo-0054",
        channel: "outbox",
        message_key: "nudge_team",
        recipient: "wen.0054@example.com",
        variables: {
          first_name: "Wen",
          email: "wen.0054@example.com",
          plan: "pro",
          company_name: "Acme Analytics",
          card_last4: null,
          update_url: null,
          failed_amount: null,
          card_expires_at: null,
          offer_amount: null,
          offer_description: null,
          offer_expires_at: null,
          decision_id: null,
        },
        attempts: 1,
        max_attempts: 6,
        last_error: null,
        provider_message_id: "snd_01a23c6b61800000f61b64ba7a5e",
        not_before: "2026-12-03T15:00:00.000Z",
        created_at: "2026-12-03T15:00:00.000Z",
        enqueued_at: "2026-12-03T15:00:00.000Z",
        next_attempt_at: null,
        sent_at: "2026-12-04T17:47:50.902Z",
        updated_at: "2026-12-04T17:47:50.902Z",
      },
    },
  },
  errors: [
    {
      status: 404,
      code: "send_not_found",
      when: "No send has this id.",
    },
    {
      status: 409,
      code: "send_not_dead",
      when: "The send is not dead; only a dead send can be retried.",
    },
  ],
};
