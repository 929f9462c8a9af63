/**
 * OpenAPI documentation of worker/api/routes/outbox.ts (served at GET /openapi.json).
 * Schemas and examples follow the handler's answer field by field: test/architecture/openapi.test.ts
 * checks each example against its schema, test/smoke/client-wrangler-dev.test.ts real answers.
 */
import type { RouteDoc } from "../app-env";
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
  withShardMeta,
} from "./shared";

export const listOutboxDoc: RouteDoc = {
  summary: "List outbox messages",
  tag: "Sends",
  description:
    'The messages the outbox channel (the local default) has "delivered", newest first: what customers would have received.',
  query: { customer_id: CUSTOMER_FILTER_PARAM, limit: LIMIT_200_PARAM, cursor: CURSOR_PARAM },
  response: {
    status: 200,
    description: "A page of messages.",
    schema: withShardMeta(
      objectOf({
        messages: {
          type: "array",
          items: objectOf({
            send_id: STRING,
            customer_id: STRING,
            recipient: STRING,
            message_key: STRING,
            subject: STRING,
            text: STRING,
            html: STRING_OR_NULL,
            programme: PROGRAMME,
            delivered_at: TIME,
          }),
        },
        next_cursor: NEXT_CURSOR,
      }),
    ),
    example: {
      messages: [
        {
          send_id: "snd_01a23c6b61800000f61b64ba7a5e",
          customer_id: "demo-0054",
          recipient: "wen.0054@example.com",
          message_key: "nudge_team",
          subject: "Your team misses you",
          text: "Your pro workspace at Acme Analytics has been quiet. Here is what is new.\n",
          html: null,
          programme: PROGRAMME_EXAMPLE,
          delivered_at: "2026-12-04T17:47:50.902Z",
        },
        {
          send_id: "snd_01a23c6b61800000d01ac4981b6a",
          customer_id: "demo-0095",
          recipient: "tara.0095@example.com",
          message_key: "dunning_day_0",
          subject: "Your payment did not go through",
          text: "Hi Tara, we could not charge your card ending in 4936\nfor €141.55. Update it here: https://billing.example.com/update/demo-0095\n",
          html: null,
          programme: {
            kind: "dunning",
            key: "standard",
            occurrence: "in_demo-0095_3",
            step: "day-0",
          },
          delivered_at: "2026-12-04T17:47:50.902Z",
        },
      ],
      next_cursor: "snd_01a23c6b61800000d01ac4981b6a",
    },
  },
  errors: [
    {
      status: 400,
      code: "validation_failed",
      when: "The customer id, `limit` or `cursor` is invalid.",
    },
  ],
};
