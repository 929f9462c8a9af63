/**
 * `tick_state`: small named watermarks of the scheduler. `tick` is the scheduled time of the last
 * tick that finished without error (catch-up starts there); `lifecycle` is where the windowed
 * lifecycle scans (win-back, inactivity, card expiry) last reached.
 */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const tickState = sqliteTable("tick_state", {
  key: text("key").primaryKey(),
  /** Epoch ms. Only ever moves forward (`max(value, new)`), so a late or out-of-order tick cannot rewind it. */
  value: integer("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
