/**
 * `customers`: one row per customer, the profile and its aggregates (docs/data-model.md is the contract).
 *
 * Ingest folds the events it inserts into the stored profile state (worker/ingest/profile-fold.ts), so
 * every column is derived from the customer's events and none is written by hand.
 */
import { sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Lifecycle status of a customer. */
export const CUSTOMER_STATUSES = ["lead", "active", "past_due", "canceled"] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export const customers = sqliteTable("customers", {
  id: text("id").primaryKey(),
  email: text("email"),
  firstName: text("first_name"),
  country: text("country"),
  timezone: text("timezone"),
  plan: text("plan"),
  mrr: integer("mrr"),
  currency: text("currency"),
  status: text("status", { enum: CUSTOMER_STATUSES }).notNull(),
  signedUpAt: integer("signed_up_at"),
  canceledAt: integer("canceled_at"),
  churnReason: text("churn_reason"),
  churnComment: text("churn_comment"),
  reactivatedAt: integer("reactivated_at"),
  lastActiveAt: integer("last_active_at"),
  ltv: integer("ltv").notNull().default(0),
  orderCount: integer("order_count").notNull().default(0),
  orderTotal: integer("order_total").notNull().default(0),
  aov: integer("aov"),
  referrals: integer("referrals").notNull().default(0),
  nps: integer("nps"),
  openTickets: integer("open_tickets").notNull().default(0),
  lastTicketSatisfied: integer("last_ticket_satisfied"),
  paymentFailedAt: integer("payment_failed_at"),
  failedInvoiceId: text("failed_invoice_id"),
  failedAmount: integer("failed_amount"),
  declineCode: text("decline_code"),
  cardLast4: text("card_last4"),
  updateUrl: text("update_url"),
  cardExpiresAt: integer("card_expires_at"),
  attributes: text("attributes").notNull().default(sql`'{}'`),
  firstSeenAt: integer("first_seen_at").notNull(),
  lastEventAt: integer("last_event_at").notNull(),
  /**
   * What the columns above are derived from (worker/ingest/profile-fold.ts, JSON): the
   * `(occurred_at, id)` behind every latest-wins column, counts, open invoices, attribute versions.
   * NULL on a row written before it existed: ingest then rebuilds it from the stored events once.
   */
  profileState: text("profile_state"),
  /**
   * Bumped by one on every profile write; a trigger (migrations/0007) refuses any other change, so a
   * write computed from a stale read fails and ingest retries it from a fresh read.
   */
  profileVersion: integer("profile_version").notNull().default(0),
});

export type CustomerRow = typeof customers.$inferSelect;
