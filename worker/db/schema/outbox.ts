/**
 * `outbox`: messages "delivered" by the outbox channel, the local default, so `npm start` shows
 * what would have been sent (GET /v1/outbox) without a provider account. Keyed by send id, so a
 * repeated delivery attempt stores nothing new.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const outbox = sqliteTable(
  "outbox",
  {
    /** The send id (sends.id). */
    id: text("id").primaryKey(),
    customerId: text("customer_id").notNull(),
    recipient: text("recipient"),
    messageKey: text("message_key").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html"),
    programmeKind: text("programme_kind").notNull(),
    programmeKey: text("programme_key").notNull(),
    occurrence: text("occurrence").notNull(),
    step: text("step").notNull(),
    deliveredAt: integer("delivered_at").notNull(),
  },
  (table) => [
    // GET /v1/outbox?customer_id=...: one customer's messages, newest first, keyset on id.
    index("outbox_customer_id").on(table.customerId, table.id),
  ],
);

export type OutboxRecord = typeof outbox.$inferSelect;
