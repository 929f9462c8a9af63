/**
 * Paddle Billing notifications → Rebound events (docs/providers.md has the table). Reads the
 * notification envelope (`event_id`, `event_type`, `occurred_at`, `data`); amounts are decimal strings
 * of minor units, prices carry `billing_cycle: { interval, frequency }`.
 *
 * Stage: mapping, after verify.ts; ingest-provider-event.ts writes the result.
 */
import { validationFailed } from "../errors";
import { parseInstant } from "../timestamps";
import {
  arr,
  currencyOf,
  customerOverride,
  defined,
  emailOf,
  eventsOf,
  firstNameOf,
  isInterval,
  isoToMillis,
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

/** Maps one verified Paddle notification. Throws 400 `validation_failed` when it is not one. */
export function mapPaddleEvent(payload: unknown, rules: MappingRules, reasons: readonly string[]): Mapped {
  const event = obj(payload);
  const id = str(event?.event_id);
  const type = str(event?.event_type);
  const occurredText = str(event?.occurred_at);
  const occurredAt = occurredText === null ? null : isoToMillis(occurredText);
  const data = obj(event?.data);
  if (!event || !id || !type || occurredAt === null || parseInstant(occurredAt) === null || !data) {
    throw validationFailed([
      {
        path: "",
        message: "is not a Paddle notification (event_id, event_type, occurred_at and data are required)",
      },
    ]);
  }
  const base = { providerEventId: id, providerType: type };
  const ignored: Mapped = { ...base, events: [], outcome: "ignored" };
  const emit = (
    customerId: string | null,
    items: { type: string; properties: Record<string, unknown> }[],
  ): Mapped =>
    customerId === null || items.length === 0
      ? ignored
      : { ...base, events: eventsOf("paddle", id, occurredAt, customerId, items) };
  const customerId = customerOverride(data.custom_data) ?? str(data.customer_id);

  switch (type) {
    case "subscription.created":
    // A trial's end (trialing → active) carries the subscription as it now is: a start, like a
    // subscription created active. After a trialing creation's start it leaves the customer paying
    // on the same plan and MRR (test/worker/provider-webhooks-mapping.test.ts).
    case "subscription.activated":
    case "subscription.updated": {
      const now = planAndMrr(subscriptionLines(data), rules);
      const currency = currencyOf(data.currency_code);
      const status = str(data.status);
      // A canceled subscription's update repeats what subscription.canceled says.
      if (status === "canceled") return ignored;
      if (now.plan === null) {
        const unmapped = subscriptionLines(data).map((line) => line.ids[0] ?? "(no price)");
        return { ...base, events: [], outcome: "unmapped_plan", unmapped, customerId };
      }
      const items: { type: string; properties: Record<string, unknown> }[] = [];
      if (type !== "subscription.updated") {
        if (currency === null) return ignored;
        items.push({ type: "subscription.started", properties: { plan: now.plan, mrr: now.mrr, currency } });
      } else {
        // Paddle sends no previous values: the change carries the current plan and MRR only, and an
        // update that changed neither changes no profile field.
        items.push({ type: "subscription.changed", properties: { plan: now.plan, mrr: now.mrr } });
        const change = obj(data.scheduled_change);
        if (change?.action === "cancel") {
          items.push({
            type: "x.billing.cancel_scheduled",
            properties: defined({
              provider: "paddle",
              subscription_id: str(data.id),
              cancel_at: str(change.effective_at) ? isoToMillis(str(change.effective_at)!) : null,
              reason: reasonOf("paddle", null, reasons, rules.billing),
            }),
          });
        }
      }
      return emit(customerId, items);
    }
    case "subscription.canceled": {
      // Paddle's notification carries no cancellation feedback: `billing.default_reason`.
      const reason = reasonOf("paddle", null, reasons, rules.billing);
      if (reason === null)
        return { ...base, events: [], outcome: "unmapped_reason", unmapped: ["(none)"], customerId };
      return emit(customerId, [{ type: "subscription.canceled", properties: { reason } }]);
    }
    case "transaction.payment_failed": {
      const totals = transactionTotals(data);
      if (totals === null) return ignored;
      const payment =
        arr(data.payments)
          .map(obj)
          .find((entry) => entry?.status === "error") ?? null;
      const last4 = str(obj(obj(payment?.method_details)?.card)?.last4);
      const url = str(obj(data.checkout)?.url);
      return emit(customerId, [
        {
          type: "payment.failed",
          properties: defined({
            invoice_id: str(data.id),
            amount: totals.amount,
            currency: totals.currency,
            decline_code: str(payment?.error_code)?.slice(0, 64),
            card_last4: last4 !== null && /^\d{4}$/.test(last4) ? last4 : null,
            attempt_count:
              arr(data.payments).filter((entry) => obj(entry)?.status === "error").length || null,
            update_url: url !== null && /^https?:\/\/\S+$/.test(url) ? url : null,
          }),
        },
      ]);
    }
    case "transaction.completed":
    case "transaction.paid": {
      const totals = transactionTotals(data);
      if (totals === null || str(data.id) === null) return ignored;
      return emit(customerId, [
        {
          type: "payment.succeeded",
          properties: { invoice_id: str(data.id), amount: totals.amount, currency: totals.currency },
        },
      ]);
    }
    case "customer.created":
    case "customer.updated": {
      const properties = defined({ email: emailOf(data.email), first_name: firstNameOf(data.name) });
      if (Object.keys(properties).length === 0) return ignored;
      return emit(customerOverride(data.custom_data) ?? str(data.id), [
        { type: "customer.updated", properties },
      ]);
    }
    default:
      return ignored;
  }
}

/** The amount a transaction asks for (grand total, minor units) and its currency. */
function transactionTotals(data: Json): { amount: number; currency: string } | null {
  const totals = obj(obj(data.details)?.totals);
  const amount = num(totals?.grand_total) ?? num(totals?.total);
  const currency = currencyOf(totals?.currency_code ?? data.currency_code);
  return amount === null || currency === null ? null : { amount, currency };
}

/** The recurring items of a subscription, each with its own billing cycle. */
function subscriptionLines(subscription: Json): PricedLine[] {
  const out: PricedLine[] = [];
  for (const entry of arr(subscription.items)) {
    const item = obj(entry);
    const price = obj(item?.price);
    if (!item || !price || item.recurring === false) continue;
    const cycle = obj(price.billing_cycle) ?? obj(subscription.billing_cycle);
    const amount = num(obj(price.unit_price)?.amount) ?? 0;
    const quantity = num(item.quantity) ?? 1;
    const monthly = isInterval(cycle?.interval)
      ? monthlyShare(amount * quantity, cycle.interval, num(cycle.frequency) ?? 1)
      : 0;
    const ids = [str(price.id), str(price.product_id)].filter((id): id is string => id !== null);
    out.push({ ids, monthly });
  }
  return out;
}
