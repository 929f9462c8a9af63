/**
 * `events`: the raw stream, keyed by the sender's event id so a resent event is a no-op.
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
    // Serves the profile recomputation in worker/ingest/profile-sql.ts (every aggregate is a seek on
    // customer_id + type, `max(occurred_at)` reads one entry) and the rule language's windowed
    // aggregates such as count(activity, 30d).
    index("events_customer_type_time").on(table.customerId, table.type, table.occurredAt),
  ],
);

export type EventRow = typeof events.$inferSelect;
