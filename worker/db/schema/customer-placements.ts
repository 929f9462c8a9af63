/**
 * `customer_placements` (control database only): during a growth of the shard count, the customers the
 * move tool has switched to their new shard (worker/db/shards.ts, docs/scaling.md).
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const customerPlacements = sqliteTable("customer_placements", {
  customerId: text("customer_id").primaryKey(),
  /** The shard index the customer now lives on. */
  shard: integer("shard").notNull(),
  movedAt: integer("moved_at").notNull(),
});
