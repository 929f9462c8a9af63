/**
 * `dunning_cases`: one row per failed invoice the tick has seen open on a customer's profile
 * (customers.failed_invoice_id). The tick opens a case, sends the cadence's steps on their days,
 * closes it as `recovered` when a `payment.succeeded` for the invoice arrives (recording the MRR
 * saved and the step that preceded recovery), as `canceled` when the customer cancels, and as
 * `final` once the final action (cancel and/or webhook) has run. See worker/tick/dunning.ts.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const DUNNING_CASE_STATUSES = ["open", "recovered", "canceled", "final"] as const;
export type DunningCaseStatus = (typeof DUNNING_CASE_STATUSES)[number];

export const dunningCases = sqliteTable(
  "dunning_cases",
  {
    customerId: text("customer_id").notNull(),
    invoiceId: text("invoice_id").notNull(),
    /** Key of the dunning cadence (rules) chosen when the case opened. */
    cadence: text("cadence").notNull(),
    status: text("status", { enum: DUNNING_CASE_STATUSES }).notNull(),
    /** When the payment failed (day 0 of the cadence). */
    failedAt: integer("failed_at").notNull(),
    amount: integer("amount"),
    currency: text("currency"),
    openedAt: integer("opened_at").notNull(),
    /** The last step sent (`day-3`) and when: what "preceded recovery" refers to. */
    lastStep: text("last_step"),
    lastStepAt: integer("last_step_at"),
    closedAt: integer("closed_at"),
    /** recovered: when the invoice was paid, the customer's MRR it kept, and the step before it. */
    recoveredAt: integer("recovered_at"),
    mrrSaved: integer("mrr_saved"),
    recoveredAfterStep: text("recovered_after_step"),
    /** final: the actions that ran (JSON array, e.g. ["cancel","webhook"]). */
    finalActions: text("final_actions"),
    /** The failure's decline code and the customer's MRR when the case opened (what is at risk). */
    declineCode: text("decline_code"),
    mrrAtRisk: integer("mrr_at_risk"),
    /**
     * Reporting days (worker/metrics/days.ts) for the metrics triggers (migrations/0008): of
     * `opened_at`, and of the close (`recovered_at` for a recovery, `closed_at` otherwise).
     */
    openedDay: integer("opened_day"),
    closedDay: integer("closed_day"),
  },
  (table) => [
    primaryKey({ columns: [table.customerId, table.invoiceId] }),
    index("dunning_cases_open").on(table.failedAt).where(sql`${table.status} = 'open'`),
    // GET /v1/metrics/dunning/cases: cases by the time that puts them in a period's figure.
    index("dunning_cases_opened").on(table.openedAt, table.customerId, table.invoiceId),
    index("dunning_cases_closed")
      .on(table.closedAt, table.customerId, table.invoiceId)
      .where(sql`${table.closedAt} IS NOT NULL`),
    index("dunning_cases_recovered")
      .on(table.recoveredAt, table.customerId, table.invoiceId)
      .where(sql`${table.recoveredAt} IS NOT NULL`),
  ],
);

export type DunningCaseRecord = typeof dunningCases.$inferSelect;
