/**
 * `sends`: one row per message a programme decided to send to one customer, written before it is
 * delivered. The unique key (programme kind, key, occurrence, step, customer) is what makes a
 * repeated or concurrent tick create nothing new; `status` follows the lifecycle in
 * worker/sends/types.ts (queued → sending → sent | failed → dead).
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const sends = sqliteTable(
  "sends",
  {
    /** "snd_" + creation time (12 hex digits of epoch ms) + 16 random hex digits: sorts by creation. */
    id: text("id").primaryKey(),
    programmeKind: text("programme_kind").notNull(),
    programmeKey: text("programme_key").notNull(),
    occurrence: text("occurrence").notNull(),
    step: text("step").notNull(),
    customerId: text("customer_id").notNull(),
    /** The channel chosen at enqueue time; a send never changes channel between attempts. */
    channel: text("channel").notNull(),
    messageKey: text("message_key").notNull(),
    recipient: text("recipient"),
    /** JSON object: the template variables as they were when the send was enqueued. */
    variables: text("variables").notNull(),
    status: text("status").notNull(),
    /** Delivery attempts started (claims); also the fencing token of the current claim. */
    attempts: integer("attempts").notNull().default(0),
    /**
     * The attempt number after which the send gives up: SEND_LIMITS.maxAttempts at first, raised by
     * an operator's retry of a dead send (attempts never go down: they fence stale claims).
     */
    maxAttempts: integer("max_attempts").notNull().default(6),
    lastError: text("last_error"),
    providerMessageId: text("provider_message_id"),
    /** Earliest delivery time (quiet hours defer a send; they never drop it). */
    notBefore: integer("not_before").notNull(),
    createdAt: integer("created_at").notNull(),
    /** When a queue message for this row was last published; NULL until one is. */
    enqueuedAt: integer("enqueued_at"),
    /** While `sending`: when the claim lapses and a redelivered message may take the row over. */
    leaseExpiresAt: integer("lease_expires_at"),
    /** While `failed`: when the retry is due. */
    nextAttemptAt: integer("next_attempt_at"),
    sentAt: integer("sent_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (table) => [
    // The send's identity: enqueueSends inserts ON CONFLICT DO NOTHING against it, and audiences
    // anti-join on it to leave out customers already sent a step.
    uniqueIndex("sends_programme_occurrence_step_customer").on(
      table.programmeKind,
      table.programmeKey,
      table.occurrence,
      table.step,
      table.customerId,
    ),
    // GET /v1/sends?status=failed|dead: a seek on status, then keyset pagination on id.
    index("sends_status_id").on(table.status, table.id),
    // GET /v1/sends?customer_id=…, and per-customer frequency caps: ids sort by creation time, so an
    // id range is a time window.
    index("sends_customer_id").on(table.customerId, table.id),
    // publishDueSends: rows written but not yet on the queue (deferred past the queue's 12-hour
    // delay limit, or whose enqueuing invocation died before sendBatch), in due order.
    // Win-back metrics: the period's win-back messages (a partial index: other sends write no row).
    index("sends_winback_created")
      .on(table.createdAt)
      .where(sql`${table.programmeKind} = 'winback'`),
    index("sends_unpublished")
      .on(table.notBefore)
      .where(sql`${table.status} = 'queued' AND ${table.enqueuedAt} IS NULL`),
  ],
);

export type SendRecord = typeof sends.$inferSelect;
