/**
 * Stripe events → Rebound events (docs/providers.md has the table). Reads the Event object
 * (`id`, `type`, `created`, `data.object`, `data.previous_attributes`) of any API version from
 * 2020 on: subscription prices under `items.data[].price` (or the legacy `plan`), invoice
 * subscription metadata under `parent.subscription_details` (or the older `subscription_details`).
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

/** Maps one verified Stripe event. Throws 400 `validation_failed` when it is not an Event object. */
export function mapStripeEvent(payload: unknown, rules: MappingRules, reasons: readonly string[]): Mapped {
  const event = obj(payload);
  const id = str(event?.id);
  const type = str(event?.type);
  const created = num(event?.created);
  const object = obj(obj(event?.data)?.object);
  if (!event || !id || !type || created === null || !object) {
    throw validationFailed([
      { path: "", message: "is not a Stripe Event object (id, type, created and data.object are required)" },
    ]);
  }
  const previous = obj(obj(event.data)?.previous_attributes);
  const occurredAt = isoOfSeconds(created);
  const base = { providerEventId: id, providerType: type };
  const ignored: Mapped = { ...base, events: [], outcome: "ignored" };
  const emit = (
    customerId: string | null,
    items: { type: string; properties: Record<string, unknown> }[],
  ): Mapped =>
    customerId === null || items.length === 0
      ? ignored
      : { ...base, events: eventsOf("stripe", id, occurredAt, customerId, items) };

  switch (type) {
    case "customer.subscription.created":
    case "customer.subscription.updated": {
      const customerId = subscriptionCustomer(object);
      const items: { type: string; properties: Record<string, unknown> }[] = [];
      const now = planAndMrr(subscriptionLines(object), rules);
      const currency = currencyOf(object.currency);
      const status = str(object.status);
      const wasIncomplete = previous !== null && previous.status === "incomplete";
      const started =
        (type === "customer.subscription.created" &&
          status !== "incomplete" &&
          status !== "incomplete_expired") ||
        (wasIncomplete && (status === "active" || status === "trialing"));
      const changed =
        !started &&
        type === "customer.subscription.updated" &&
        previous !== null &&
        ("items" in previous || "plan" in previous || "quantity" in previous);
      if (started || changed) {
        if (now.plan === null) return unmappedPlan(base, object);
        if (started) {
          if (currency === null) return ignored;
          items.push({
            type: "subscription.started",
            properties: { plan: now.plan, mrr: now.mrr, currency },
          });
        } else {
          // previous_attributes holds the changed fields' old values (the whole old `items` list).
          const before = planAndMrr(subscriptionLines({ ...object, ...previous }), rules);
          items.push({
            type: "subscription.changed",
            properties: defined({
              plan: now.plan,
              mrr: now.mrr,
              previous_plan: before.plan,
              previous_mrr: before.mrr,
            }),
          });
        }
      }
      // Cancel at period end: the customer has asked to leave but still has the product until the
      // period ends, when Stripe sends customer.subscription.deleted (our subscription.canceled).
      // Until then it is a custom event the rules can read (docs/providers.md).
      if (previous !== null && "cancel_at_period_end" in previous) {
        const scheduled = object.cancel_at_period_end === true;
        const details = obj(object.cancellation_details);
        const reason = scheduled ? reasonOf("stripe", str(details?.feedback), reasons, rules.billing) : null;
        items.push({
          type: scheduled ? "x.billing.cancel_scheduled" : "x.billing.cancel_unscheduled",
          properties: defined({
            provider: "stripe",
            subscription_id: str(object.id),
            cancel_at: num(object.cancel_at) !== null ? isoOfSeconds(num(object.cancel_at)!) : null,
            reason,
            comment: scheduled ? str(details?.comment) : null,
          }),
        });
      }
      return emit(customerId, items);
    }
    case "customer.subscription.deleted": {
      const details = obj(object.cancellation_details);
      const feedback = str(details?.feedback);
      const reason = reasonOf("stripe", feedback, reasons, rules.billing);
      if (reason === null)
        return {
          ...base,
          events: [],
          outcome: "unmapped_reason",
          unmapped: [feedback ?? "(none)"],
          customerId: subscriptionCustomer(object),
        };
      return emit(subscriptionCustomer(object), [
        {
          type: "subscription.canceled",
          properties: defined({ reason, comment: str(details?.comment)?.slice(0, 2000) }),
        },
      ]);
    }
    case "invoice.payment_failed": {
      const currency = currencyOf(object.currency);
      const invoiceId = str(object.id);
      const amount = num(object.amount_due);
      if (currency === null || invoiceId === null || amount === null) return ignored;
      const card = failedCard(object);
      return emit(invoiceCustomer(object), [
        {
          type: "payment.failed",
          properties: defined({
            invoice_id: invoiceId,
            amount,
            currency,
            decline_code: card.declineCode,
            card_last4: card.last4,
            attempt_count: num(object.attempt_count),
            update_url: str(object.hosted_invoice_url),
          }),
        },
      ]);
    }
    case "invoice.paid":
    case "invoice.payment_succeeded": {
      const currency = currencyOf(object.currency);
      const invoiceId = str(object.id);
      const amount = num(object.amount_paid);
      if (currency === null || invoiceId === null || amount === null) return ignored;
      return emit(invoiceCustomer(object), [
        { type: "payment.succeeded", properties: { invoice_id: invoiceId, amount, currency } },
      ]);
    }
    case "customer.source.expiring": {
      // data.object is the card (or source) about to expire.
      const card = obj(object.card) ?? object;
      const expiresAt = cardExpiresAt(num(card.exp_month) ?? 0, num(card.exp_year) ?? 0);
      if (expiresAt === null) return ignored;
      return emit(str(object.customer) ?? str(card.customer), [
        { type: "card.expiring", properties: { expires_at: expiresAt } },
      ]);
    }
    case "customer.created":
    case "customer.updated": {
      const customerId = customerOverride(object.metadata) ?? str(object.id);
      const country = str(obj(object.address)?.country);
      const properties = defined({
        email: emailOf(object.email),
        first_name: firstNameOf(object.name),
        country: country && /^[A-Za-z]{2}$/.test(country) ? country.toUpperCase() : null,
      });
      if (Object.keys(properties).length === 0) return ignored;
      return emit(customerId, [{ type: "customer.updated", properties }]);
    }
    default:
      return ignored;
  }
}

function unmappedPlan(base: { providerEventId: string; providerType: string }, subscription: Json): Mapped {
  const ids = subscriptionLines(subscription).map((line) => line.ids[0] ?? "(no price)");
  return {
    ...base,
    events: [],
    outcome: "unmapped_plan",
    unmapped: ids,
    customerId: subscriptionCustomer(subscription),
  };
}

function subscriptionCustomer(subscription: Json): string | null {
  return (
    customerOverride(subscription.metadata, obj(subscription.customer)?.metadata) ??
    customerId(subscription.customer)
  );
}

function invoiceCustomer(invoice: Json): string | null {
  const subscriptionDetails =
    obj(obj(invoice.parent)?.subscription_details) ?? obj(invoice.subscription_details);
  return (
    customerOverride(subscriptionDetails?.metadata, invoice.metadata, obj(invoice.customer)?.metadata) ??
    customerId(invoice.customer)
  );
}

/** `customer` is an id, or the Customer object when the payload was expanded. */
function customerId(value: unknown): string | null {
  return str(value) ?? str(obj(value)?.id);
}

/** The priced lines of a subscription: `items.data[]` (price or legacy plan), else the top-level `plan`. */
function subscriptionLines(subscription: Json): PricedLine[] {
  const items = arr(obj(subscription.items)?.data)
    .map(obj)
    .filter((item): item is Json => item !== null);
  const lines =
    items.length > 0
      ? items
      : subscription.plan
        ? [{ plan: subscription.plan, quantity: subscription.quantity }]
        : [];
  const out: PricedLine[] = [];
  for (const item of lines) {
    const price = obj(item.price) ?? obj(item.plan);
    if (!price) continue;
    const recurring = obj(price.recurring);
    const interval = recurring?.interval ?? price.interval;
    const count = num(recurring?.interval_count ?? price.interval_count) ?? 1;
    // Metered prices have no fixed monthly amount; tiered prices no unit amount: they count 0.
    const metered = (recurring?.usage_type ?? price.usage_type) === "metered";
    const unitAmount = num(price.unit_amount) ?? num(price.amount) ?? 0;
    const quantity = num(item.quantity) ?? 1;
    const monthly =
      !metered && isInterval(interval) ? monthlyShare(unitAmount * quantity, interval, count) : 0;
    const ids = [str(price.id), str(price.lookup_key), str(price.product)].filter(
      (id): id is string => id !== null,
    );
    out.push({ ids, monthly });
  }
  return out;
}

/** Decline code and card of a failed invoice, when the payload carries them (expanded objects). */
function failedCard(invoice: Json): { declineCode: string | null; last4: string | null } {
  const charge = obj(invoice.charge);
  const intent = obj(invoice.payment_intent);
  const error = obj(intent?.last_payment_error);
  const declineCode =
    str(error?.decline_code) ??
    str(error?.code) ??
    str(charge?.failure_code) ??
    str(obj(charge?.outcome)?.reason);
  const last4 =
    str(obj(obj(charge?.payment_method_details)?.card)?.last4) ??
    str(obj(obj(error?.payment_method)?.card)?.last4);
  return {
    declineCode: declineCode?.slice(0, 64) ?? null,
    last4: last4 !== null && /^\d{4}$/.test(last4) ? last4 : null,
  };
}
