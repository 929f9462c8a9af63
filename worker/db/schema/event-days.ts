/**
 * `event_days`: the compact history, one row per customer, UTC day, event type and currency with the
 * day's count, the sum of its integral `amount`s, and the day's latest event of that kind. Ingest
 * adds to it in the batch that inserts the events (worker/ingest/write-events.ts), so it is exact for
 * every event ever accepted, including those whose raw rows were archived (worker/archive/).
 *
 * It is what outlives the raw events: metrics read daily MRR movements, cancellations by reason and
 * reactivations from it, a customer's export includes it, and the archiver finds a day's events
 * through it. `latest` holds the latest event's properties for subscription and payment events only
 * (the figures metrics need), without free text (`comment`) or card details, and `plan`, `mrr` and
 * `currency` of customer.updated.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const eventDays = sqliteTable(
  "event_days",
  {
    customerId: text("customer_id").notNull(),
    /** Days since 1970-01-01 UTC: floor(occurred_at / 86,400,000). */
    day: integer("day").notNull(),
    type: text("type").notNull(),
    /** The events' own `currency` property, "" when they carry none. */
    currency: text("currency").notNull(),
    count: integer("count").notNull(),
    /** Sum of the events' integer `amount` property (minor units of `currency`); 0 when none has one. */
    amount: integer("amount").notNull(),
    latestAt: integer("latest_at").notNull(),
    latestId: text("latest_id").notNull(),
    /** Canonical JSON properties of the latest event, for billing events only (see above). */
    latest: text("latest"),
  },
  (table) => [
    primaryKey({ columns: [table.customerId, table.day, table.type, table.currency] }),
    // The archiver takes a day's customers through it; metrics read a day range by type.
    index("event_days_day_type").on(table.day, table.type, table.customerId),
  ],
);

export type EventDayRow = typeof eventDays.$inferSelect;
