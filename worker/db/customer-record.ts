/**
 * Reads one customer's profile in the shape docs/data-model.md names: snake_case columns, epoch-ms
 * timestamps, integer money, `attributes` parsed. The rule language's EvalContext.customer and the
 * profile API both start from this record.
 */
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type CustomerRow, customers } from "./schema";

/** A `customers` row with data-model column names. */
export interface CustomerRecord {
  id: string;
  email: string | null;
  first_name: string | null;
  country: string | null;
  timezone: string | null;
  plan: string | null;
  mrr: number | null;
  currency: string | null;
  status: CustomerRow["status"];
  signed_up_at: number | null;
  canceled_at: number | null;
  churn_reason: string | null;
  churn_comment: string | null;
  reactivated_at: number | null;
  last_active_at: number | null;
  ltv: number;
  order_count: number;
  order_total: number;
  aov: number | null;
  referrals: number;
  nps: number | null;
  open_tickets: number;
  last_ticket_satisfied: number | null;
  payment_failed_at: number | null;
  failed_invoice_id: string | null;
  failed_amount: number | null;
  decline_code: string | null;
  card_last4: string | null;
  update_url: string | null;
  card_expires_at: number | null;
  attributes: Record<string, string | number | boolean>;
  first_seen_at: number;
  last_event_at: number;
}

/** Loads a customer's record, or null when no event for that customer was ever ingested. */
export async function loadCustomerRecord(db: D1Database, customerId: string): Promise<CustomerRecord | null> {
  const row = await drizzle(db).select().from(customers).where(eq(customers.id, customerId)).get();
  return row ? toCustomerRecord(row) : null;
}

/** Maps a drizzle row onto data-model names. */
export function toCustomerRecord(row: CustomerRow): CustomerRecord {
  return {
    id: row.id,
    email: row.email,
    first_name: row.firstName,
    country: row.country,
    timezone: row.timezone,
    plan: row.plan,
    mrr: row.mrr,
    currency: row.currency,
    status: row.status,
    signed_up_at: row.signedUpAt,
    canceled_at: row.canceledAt,
    churn_reason: row.churnReason,
    churn_comment: row.churnComment,
    reactivated_at: row.reactivatedAt,
    last_active_at: row.lastActiveAt,
    ltv: row.ltv,
    order_count: row.orderCount,
    order_total: row.orderTotal,
    aov: row.aov,
    referrals: row.referrals,
    nps: row.nps,
    open_tickets: row.openTickets,
    last_ticket_satisfied: row.lastTicketSatisfied,
    payment_failed_at: row.paymentFailedAt,
    failed_invoice_id: row.failedInvoiceId,
    failed_amount: row.failedAmount,
    decline_code: row.declineCode,
    card_last4: row.cardLast4,
    update_url: row.updateUrl,
    card_expires_at: row.cardExpiresAt,
    attributes: JSON.parse(row.attributes) as CustomerRecord["attributes"],
    first_seen_at: row.firstSeenAt,
    last_event_at: row.lastEventAt,
  };
}
