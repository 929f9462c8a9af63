/**
 * `tick_units` (every shard, used only when customers are sharded): the claim of one programme unit
 * of one tick on this shard (worker/tick/unit-claims.ts). The key (unit, at) is the claim: a
 * redelivered or duplicated rebound-ticks message finds it and runs nothing twice; a unit left
 * `running` by a consumer that died is taken over by its message's redelivery.
 */
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** `running` (a consumer holds it, or died holding it), `done`. */
export const TICK_UNIT_STATUSES = ["running", "done"] as const;

export const tickUnits = sqliteTable(
  "tick_units",
  {
    /** The unit's key (worker/tick/units.ts `unitKey`), e.g. "dunning". */
    unit: text("unit").notNull(),
    /** The tick's scheduled time (epoch ms). */
    at: integer("at").notNull(),
    status: text("status", { enum: TICK_UNIT_STATUSES }).notNull(),
    /** Random token of the consumer holding the unit; finishing requires it. */
    leaseToken: text("lease_token"),
    /** Consumers that claimed or took over the unit. */
    attempts: integer("attempts").notNull(),
    claimedAt: integer("claimed_at").notNull(),
    finishedAt: integer("finished_at"),
  },
  (table) => [primaryKey({ columns: [table.unit, table.at] })],
);
