/**
 * The outbox channel: "delivers" by storing the rendered message in D1's `outbox` table, readable at
 * GET /v1/outbox. The local default, so `npm start` sends without any provider account. The send id
 * is the primary key, so a repeated attempt stores nothing new. The consumer stores a queue batch's
 * messages in the D1 batch that marks them sent (`deliveryStatement`).
 */
import type { Channel, DeliveryContext, DeliveryOutcome, OutgoingMessage } from "./types";

/** Builds the outbox channel over Rebound's D1 database. */
export function outboxChannel(db: D1Database): Channel {
  const deliveryStatement = (message: OutgoingMessage, context: DeliveryContext): D1PreparedStatement =>
    db
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
      );
  return {
    name: "outbox",
    idempotent: true,
    deliveryStatement,
    async deliver(message: OutgoingMessage, context: DeliveryContext): Promise<DeliveryOutcome> {
      await deliveryStatement(message, context).run();
      return { kind: "sent", providerMessageId: message.sendId };
    },
  };
}
