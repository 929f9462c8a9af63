/**
 * Chargebee events → Rebound events (docs/providers.md has the table). Reads the Event resource
 * (`id`, `event_type`, `occurred_at` in epoch seconds, `content` with `subscription`, `customer`,
 * `invoice`, `transaction`, `card`) of Product Catalog 2.0 (`subscription_items`) and 1.0 (`plan_id`).
 *
 * Stage: mapping, after verify.ts; ingest-provider-event.ts writes the result.
 */
import { validationFailed } from "../errors";
import {
  arr,
  cardExpiresAt,
  currencyOf,
  customerOverride,
  defined,
  emailOf,
  eventsOf,
  firstNameOf,
  isInterval,
  isoOfSeconds,
  type Json,
  type Mapped,
  type MappingRules,
  monthlyShare,
  num,
  obj,
  type PricedLine,
  planAndMrr,
  reasonOf,
  str,
} from "./mapping";

/** Maps one verified Chargebee event. Throws 400 `validation_failed` when it is not one. */
export function mapChargebeeEvent(payload: unknown, rules: MappingRules, reasons: readonly string[]): Mapped {
  const event = obj(payload);
  const id = str(event?.id);
  const type = str(event?.event_type);
  const occurred = num(event?.occurred_at);
  const content = obj(event?.content);
  if (!event || !id || !type || occurred === null || !content) {
    throw validationFailed([
      {
        path: "",
        message: "is not a Chargebee event (id, event_type, occurred_at and content are required)",
      },
    ]);
  }
  const occurredAt = isoOfSeconds(occurred);
  const base = { providerEventId: id, providerType: type };
  const ignored: Mapped = { ...base, events: [], outcome: "ignored" };
  const subscription = obj(content.subscription);
  const customer = obj(content.customer);
  const customerId =
    customerOverride(
      metaData(subscription?.meta_data),
      metaData(customer?.meta_data),
      metaData(obj(content.invoice)?.meta_data),
    ) ??
    str(customer?.id) ??
    str(subscription?.customer_id) ??
    str(obj(content.invoice)?.customer_id) ??
    str(obj(content.card)?.customer_id);
  const emit = (items: { type: string; properties: Record<string, unknown> }[]): Mapped =>
    customerId === null || items.length === 0
      ? ignored
      : { ...base, events: eventsOf("chargebee", id, occurredAt, customerId, items) };

  switch (type) {
    case "subscription_created":
    case "subscription_changed":
    case "subscription_reactivated": {
      if (!subscription) return ignored;
      const now = planAndMrr(subscriptionLines(subscription), rules);
      if (now.plan === null) {
        const unmapped = subscriptionLines(subscription).map((line) => line.ids[0] ?? "(no plan)");
        return { ...base, events: [], outcome: "unmapped_plan", unmapped, customerId };
      }
      if (type === "subscription_created") {
        const currency = currencyOf(subscription.currency_code);
        if (currency === null) return ignored;
        return emit([
          { type: "subscription.started", properties: { plan: now.plan, mrr: now.mrr, currency } },
        ]);
      }
      return emit([
        {
          type: type === "subscription_changed" ? "subscription.changed" : "subscription.reactivated",
          properties: { plan: now.plan, mrr: now.mrr },
        },
      ]);
    }
    case "subscription_cancellation_scheduled":
    case "subscription_scheduled_cancellation_removed": {
      const scheduled = type === "subscription_cancellation_scheduled";
      const cancelAt = num(subscription?.cancelled_at);
      return emit([
        {
          type: scheduled ? "x.billing.cancel_scheduled" : "x.billing.cancel_unscheduled",
          properties: defined({
            provider: "chargebee",
            subscription_id: str(subscription?.id),
            cancel_at: scheduled && cancelAt !== null ? isoOfSeconds(cancelAt) : null,
            reason: scheduled
              ? reasonOf("chargebee", str(subscription?.cancel_reason_code), reasons, rules.billing)
              : null,
          }),
        },
      ]);
    }
    case "subscription_cancelled": {
      const code = str(subscription?.cancel_reason_code);
      const reason = reasonOf("chargebee", code, reasons, rules.billing);
      if (reason === null)
        return { ...base, events: [], outcome: "unmapped_reason", unmapped: [code ?? "(none)"], customerId };
      // `cancel_reason` (not_paid, no_card, ...) is Chargebee's own cause: kept as the comment.
      return emit([
        {
          type: "subscription.canceled",
          properties: defined({ reason, comment: str(subscription?.cancel_reason)?.slice(0, 2000) }),
        },
      ]);
    }
    case "payment_failed": {
      const invoice = obj(content.invoice);
      const transaction = obj(content.transaction);
      const invoiceId = str(invoice?.id);
      const amount = num(invoice?.amount_due) ?? num(transaction?.amount);
      const currency = currencyOf(invoice?.currency_code ?? transaction?.currency_code);
      if (invoiceId === null || amount === null || currency === null) return ignored;
      const masked = str(transaction?.masked_card_number);
      const last4 = str(obj(content.card)?.last4) ?? (masked ? masked.slice(-4) : null);
      return emit([
        {
          type: "payment.failed",
          properties: defined({
            invoice_id: invoiceId,
            amount,
            currency,
            decline_code: (str(transaction?.error_code) ?? str(transaction?.error_text))?.slice(0, 64),
            card_last4: last4 !== null && /^\d{4}$/.test(last4) ? last4 : null,
            attempt_count: arr(invoice?.dunning_attempts).length || null,
          }),
        },
      ]);
    }
    case "payment_succeeded": {
      const invoice = obj(content.invoice);
      const transaction = obj(content.transaction);
      const invoiceId = str(invoice?.id);
      const amount = num(invoice?.amount_paid) ?? num(transaction?.amount);
      const currency = currencyOf(invoice?.currency_code ?? transaction?.currency_code);
      if (invoiceId === null || amount === null || currency === null) return ignored;
      return emit([{ type: "payment.succeeded", properties: { invoice_id: invoiceId, amount, currency } }]);
    }
    case "card_expiring": {
      const card = obj(content.card);
      const expiresAt = cardExpiresAt(num(card?.expiry_month) ?? 0, num(card?.expiry_year) ?? 0);
      if (expiresAt === null) return ignored;
      return emit([{ type: "card.expiring", properties: { expires_at: expiresAt } }]);
    }
    case "customer_created":
    case "customer_changed": {
      const properties = defined({
        email: emailOf(customer?.email),
        first_name: firstNameOf(customer?.first_name),
      });
      if (Object.keys(properties).length === 0) return ignored;
      return emit([{ type: "customer.updated", properties }]);
    }
    default:
      return ignored;
  }
}

/** Chargebee's `meta_data` is a JSON object (sometimes sent as its JSON text). */
function metaData(value: unknown): Json | null {
  if (typeof value === "string") {
    try {
      return obj(JSON.parse(value));
    } catch {
      return null;
    }
  }
  return obj(value);
}

/**
 * The recurring lines of a subscription: `subscription_items` (plans and add-ons; one-off charges
 * skipped), or the Product Catalog 1.0 `plan_id` with `plan_unit_price` × `plan_quantity`.
 */
function subscriptionLines(subscription: Json): PricedLine[] {
  const interval = subscription.billing_period_unit;
  const count = num(subscription.billing_period) ?? 1;
  const monthlyOf = (amount: number) => (isInterval(interval) ? monthlyShare(amount, interval, count) : 0);
  const items = arr(subscription.subscription_items)
    .map(obj)
    .filter((item): item is Json => item !== null);
  if (items.length > 0) {
    return items
      .filter((item) => item.item_type !== "charge")
      .map((item) => {
        const amount = num(item.amount) ?? (num(item.unit_price) ?? 0) * (num(item.quantity) ?? 1);
        const ids = [str(item.item_price_id), str(item.item_id)].filter((id): id is string => id !== null);
        return { ids, monthly: monthlyOf(amount) };
      });
  }
  const planId = str(subscription.plan_id);
  if (planId === null) return [];
  const amount =
    num(subscription.plan_amount) ??
    (num(subscription.plan_unit_price) ?? 0) * (num(subscription.plan_quantity) ?? 1);
  return [{ ids: [planId], monthly: monthlyOf(amount) }];
}
