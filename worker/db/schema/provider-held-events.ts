/**
 * `provider_held_events`: billing-provider deliveries Rebound could not store yet (worker/providers/
 * held.ts): an unmapped plan or reason, or mapped events ingest refused. The verified raw body is
 * kept so `POST /v1/admin/provider-events/replay` can map it again under the current rules instead of
 * someone finding the event and resending it from the provider's dashboard. One row per provider
 * event (a redelivery updates it), at most one request body (1 MiB) each. It holds personal data (the
 * payload carries emails and names): the customer's export includes the rows and erasure deletes
 * them (worker/privacy/customer-data.ts).
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const providerHeldEvents = sqliteTable(
  "provider_held_events",
  {
    /** `stripe`, `paddle` or `chargebee`. */
    provider: text("provider").notNull(),
    /** The provider's event id (`evt_…`, `evt_01h…`, `ev_…`). */
    providerEventId: text("provider_event_id").notNull(),
    /** The provider's event type, e.g. `customer.subscription.created`. */
    eventType: text("event_type").notNull(),
    /** The Rebound customer the delivery is about (only deliveries with one are held). */
    customerId: text("customer_id").notNull(),
    /** `unmapped_plan`, `unmapped_reason` or `rejected`: why it is held, as of the latest attempt. */
    outcome: text("outcome").notNull(),
    /** JSON array of `{path, message}`: what was not mapped or refused, as of the latest attempt. */
    details: text("details").notNull(),
    /** The verified request body, as the provider sent it (UTF-8 JSON). */
    payload: text("payload").notNull(),
    /** Epoch ms of the first delivery. */
    receivedAt: integer("received_at").notNull(),
    /** Epoch ms of the latest delivery or replay. */
    lastAttemptAt: integer("last_attempt_at").notNull(),
    /** Deliveries and replays that left it held. */
    attempts: integer("attempts").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.provider, table.providerEventId] }),
    index("provider_held_events_received").on(table.receivedAt, table.provider, table.providerEventId),
    index("provider_held_events_customer").on(table.customerId),
  ],
);
