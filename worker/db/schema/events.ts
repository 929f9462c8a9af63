/**
 * `events`: the raw stream, keyed by the sender's event id so a resent event is a no-op. Raw events
 * stay for the rules' `settings.event_retention`, then the tick archives them to R2.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    customerId: text("customer_id").notNull(),
    type: text("type").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    /** The event's properties as canonical JSON (keys sorted, timestamps normalised to UTC ISO 8601). */
    properties: text("properties").notNull(),
  },
  (table) => [
    // Serves the rule language's windowed aggregates such as count(activity, 30d), the archiver's
    // read of a day's events per customer and type (worker/archive/), and the decision read.
    index("events_customer_type_time").on(table.customerId, table.type, table.occurredAt),
  ],
);

export type EventRow = typeof events.$inferSelect;
