/**
 * `redemptions`: one row per accepted offer (worker/decisions/respond.ts), with what granting it
 * cost. The anti-abuse guard reads a customer's redemptions to refuse offers to those who took one
 * and churned again within the rules' window.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { decisions } from "./decisions";

export const redemptions = sqliteTable(
  "redemptions",
  {
    /** The accepted decision: unique, so accepting twice records one redemption. */
    decisionId: text("decision_id")
      .primaryKey()
      .references(() => decisions.id),
    customerId: text("customer_id").notNull(),
    offerKey: text("offer_key").notNull(),
    /** Minor units; NULL when the reward's cost cannot be known (points, feature unlocks). */
    cost: integer("cost"),
    currency: text("currency"),
    redeemedAt: integer("redeemed_at").notNull(),
  },
  (table) => [
    // Anti-abuse: the decision read takes the customer's redemptions, newest first.
    index("redemptions_customer_time").on(table.customerId, table.redeemedAt),
  ],
);

export type RedemptionRow = typeof redemptions.$inferSelect;
