/**
 * `customer_fences` (every shard): customers being moved between shards (worker/shards/,
 * docs/scaling.md). While a customer has a row here, triggers on every per-customer table abort any
 * write of its rows with `customer_moving`; they exist only during a growth
 * (worker/shards/fence-triggers.ts).
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const customerFences = sqliteTable("customer_fences", {
  customerId: text("customer_id").primaryKey(),
  /** `leaving` (being copied off this shard), `arriving` (being copied onto it) or `moved` (a tombstone). */
  state: text("state").notNull(),
  /** The other shard of the move: the destination on the old shard, the origin on the new one. */
  peer: integer("peer").notNull(),
  /** 1 only inside the move tool's own batches, which may write the customer's rows. */
  writable: integer("writable").notNull().default(0),
  fencedAt: integer("fenced_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
