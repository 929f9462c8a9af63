/**
 * `erasures`: the customers erased on request (worker/privacy/erase.ts), by a SHA-256 pseudonym of
 * the customer id, never the id itself. It is what stops an erased customer from coming back: ingest
 * refuses (and reports) events for an erased id, so no profile, audience or send can be rebuilt from
 * a resent old event. `archive_days` lists the archived days whose R2 objects still hold the
 * customer's events; the erasure rewrites them (bounded per call and per tick) until none is left.
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const erasures = sqliteTable("erasures", {
  /** Lower-case hex SHA-256 of the customer id. */
  customerKey: text("customer_key").primaryKey(),
  erasedAt: integer("erased_at").notNull(),
  /** JSON array of day numbers still to rewrite in the archive; `[]` when the erasure is complete. */
  archiveDays: text("archive_days").notNull(),
  completedAt: integer("completed_at"),
});

export type ErasureRow = typeof erasures.$inferSelect;
