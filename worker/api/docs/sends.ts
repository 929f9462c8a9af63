/**
 * OpenAPI documentation of worker/api/routes/sends.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { JsonSchema, RouteDoc, RouteDocParameter } from "../app-env";
import {
  CURSOR_PARAM,
  CUSTOMER_FILTER_PARAM,
  LIMIT_200_PARAM,
  NEXT_CURSOR,
  objectOf,
  PROGRAMME,
  PROGRAMME_EXAMPLE,
  STRING,
  STRING_OR_NULL,
  TIME,
  TIME_OR_NULL,
  withShardMeta,
} from "./shared";

const SEND_ID_PATH: Readonly<Record<string, RouteDocParameter>> = {
  id: {
    description: "The send's id (`snd_…`).",
    schema: STRING,
    example: "snd_01a23c6b61800000f61b64ba7a5e",
  },
};

const SEND_EXAMPLE = {
  id: "snd_01a23c6b61800000f61b64ba7a5e",
  status: "sent",
  programme: PROGRAMME_EXAMPLE,
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
};

const ONE_SEND_EXAMPLE = { send: SEND_EXAMPLE };

/** A send as `sendView` (worker/api/routes/sends.ts) answers it; null until the step it records. */
const SEND_SCHEMA: JsonSchema = objectOf({
  id: STRING,
  status: { enum: ["queued", "sending", "sent", "failed", "dead"] },
  programme: PROGRAMME,
  customer_id: STRING,
  channel: STRING,
  message_key: STRING,
  recipient: { type: ["string", "null"], description: "Null when the customer has no address." },
  variables: { type: "object", additionalProperties: STRING_OR_NULL },
  attempts: { type: "integer", minimum: 0 },
  max_attempts: { type: "integer", minimum: 1 },
  last_error: STRING_OR_NULL,
  provider_message_id: { type: ["string", "null"], description: "The channel's id, once sent." },
  not_before: TIME,
  created_at: TIME,
  enqueued_at: TIME_OR_NULL,
  next_attempt_at: TIME_OR_NULL,
  sent_at: TIME_OR_NULL,
  updated_at: TIME,
});

/** The answer of the routes about one send. */
const ONE_SEND: JsonSchema = objectOf({ send: SEND_SCHEMA });

export const getSendDoc: RouteDoc = {
  summary: "Read a send",
  tag: "Sends",
  description: "One send with its status, attempts and last error.",
  pathParams: SEND_ID_PATH,
  response: {
    status: 200,
    description: "The send.",
    schema: ONE_SEND,
    example: ONE_SEND_EXAMPLE,
  },
  errors: [{ status: 404, code: "send_not_found", when: "No send has this id." }],
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
    customer_id: CUSTOMER_FILTER_PARAM,
    limit: LIMIT_200_PARAM,
    cursor: CURSOR_PARAM,
  },
  response: {
    status: 200,
    description: "A page of sends.",
    schema: withShardMeta(
      objectOf({ sends: { type: "array", items: SEND_SCHEMA }, next_cursor: NEXT_CURSOR }),
    ),
    example: {
      sends: [
        SEND_EXAMPLE,
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

export const retrySendDoc: RouteDoc = {
  summary: "Retry a dead send",
  tag: "Sends",
  description: "Gives a dead send a fresh set of attempts and puts it back on the queue.",
  pathParams: SEND_ID_PATH,
  response: {
    status: 200,
    description: "The requeued send.",
    schema: ONE_SEND,
    example: ONE_SEND_EXAMPLE,
  },
  errors: [
    { status: 404, code: "send_not_found", when: "No send has this id." },
    {
      status: 409,
      code: "send_not_dead",
      when: "The send is not dead; only a dead send can be retried.",
    },
  ],
};
