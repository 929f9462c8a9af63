/**
 * `archive_days`: one row per UTC day whose raw events the archiver moves to R2
 * (worker/archive/archive-events.ts). The row is the archiver's resumable cursor: each page of events
 * is written to R2 as its own object first, then deleted from D1 in the batch that advances the
 * cursor, so an archiver that dies between the two rewrites the same object and loses nothing.
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const archiveDays = sqliteTable("archive_days", {
  /** Days since 1970-01-01 UTC. */
  day: integer("day").primaryKey(),
  /** `archiving` while pages remain, `archived` once the day holds no raw event in D1. */
  status: text("status", { enum: ["archiving", "archived"] }).notNull(),
  /** The last (customer_id, type) of event_days done, or NULL before the first page. */
  cursorCustomerId: text("cursor_customer_id"),
  cursorType: text("cursor_type"),
  /** R2 objects written for the day (part-00001.ndjson, ...). */
  parts: integer("parts").notNull().default(0),
  events: integer("events").notNull().default(0),
  startedAt: integer("started_at").notNull(),
  finishedAt: integer("finished_at"),
});

export type ArchiveDayRow = typeof archiveDays.$inferSelect;
