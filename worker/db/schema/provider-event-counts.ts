/**
 * `provider_event_counts`: every event a billing provider's webhook delivered (worker/providers/),
 * counted by provider, provider event type, outcome and UTC day of receipt. One UPSERT per delivery,
 * one row per combination and day (a few dozen rows a day at most), read by
 * `GET /v1/admin/provider-events`. The events themselves go through ingest like any other.
 */
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const providerEventCounts = sqliteTable(
  "provider_event_counts",
  {
    /** `stripe`, `paddle` or `chargebee`. */
    provider: text("provider").notNull(),
    /** The provider's event type, e.g. `invoice.payment_failed`, `subscription_cancelled`. */
    eventType: text("event_type").notNull(),
    /** `ingested`, `duplicate`, `ignored`, `unmapped_plan`, ... (docs/providers.md). */
    outcome: text("outcome").notNull(),
    /** UTC date of receipt, `YYYY-MM-DD`. */
    day: text("day").notNull(),
    count: integer("count").notNull(),
    /** Epoch ms of the latest delivery counted in the row. */
    lastReceivedAt: integer("last_received_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.provider, table.eventType, table.outcome, table.day] })],
);
