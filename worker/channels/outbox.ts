/**
 * The outbox channel: "delivers" by storing the rendered message in D1's `outbox` table, readable at
 * GET /v1/outbox. The local default, so `npm start` sends without any provider account. The send id
 * is the primary key, so a repeated attempt stores nothing new.
 */
import type { Channel, DeliveryContext, DeliveryOutcome, OutgoingMessage } from "./types";

/** Builds the outbox channel over Rebound's D1 database. */
export function outboxChannel(db: D1Database): Channel {
  return {
    name: "outbox",
    idempotent: true,
    async deliver(message: OutgoingMessage, context: DeliveryContext): Promise<DeliveryOutcome> {
      await db
        .prepare(
          `INSERT INTO outbox (id, customer_id, recipient, message_key, subject, text, html,
             programme_kind, programme_key, occurrence, step, delivered_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        )
        .bind(
          message.sendId,
          message.customerId,
          message.recipient,
          message.messageKey,
          message.subject,
          message.text,
          message.html,
          message.programme.kind,
          message.programme.key,
          message.programme.occurrence,
          message.programme.step,
          context.now,
        )
        .run();
      return { kind: "sent", providerMessageId: message.sendId };
    },
  };
}
