/**
 * The built-in event types expressions may aggregate (`count(activity, 30d)`,
 * `sum(order.completed.amount, 90d)`, `last(nps.submitted.score)`), with their typed properties.
 *
 * Stage: part of the scope (dsl/expr/fields.ts builds it); mirrors the ingest table of issue 2.
 * Money properties are integer minor units in the event's `currency` property, or in the
 * customer's currency when the event carries none.
 */

import type { EventPropertyDef, EventTypeDef, ExprType } from "./types";

const NUMBER: ExprType = { kind: "number" };
const STRING: ExprType = { kind: "string" };
const BOOLEAN: ExprType = { kind: "boolean" };
const MONEY: ExprType = { kind: "money" };

function eventType(name: string, description: string, properties: Record<string, ExprType>): EventTypeDef {
  const map = new Map<string, EventPropertyDef>();
  for (const [prop, type] of Object.entries(properties)) map.set(prop, { name: prop, type });
  return { name, description, properties: map };
}

/**
 * Built-in event types. `reasonType` types `subscription.canceled.reason`; `planType` the plans.
 */
export function builtinEventTypes(reasonType: ExprType, planType: ExprType): EventTypeDef[] {
  return [
    eventType("customer.updated", "profile fields changed", {
      email: STRING,
      first_name: STRING,
      plan: planType,
      mrr: MONEY,
      country: STRING,
      timezone: STRING,
    }),
    eventType("activity", "a login or use of the product", { feature: STRING }),
    eventType("order.completed", "a one-off purchase", { amount: MONEY }),
    eventType("subscription.started", "a subscription began", { plan: planType, mrr: MONEY }),
    eventType("subscription.changed", "an upgrade or downgrade", {
      plan: planType,
      mrr: MONEY,
      previous_plan: planType,
      previous_mrr: MONEY,
    }),
    eventType("subscription.canceled", "the customer canceled", { reason: reasonType, comment: STRING }),
    eventType("subscription.reactivated", "a canceled customer came back", { plan: planType, mrr: MONEY }),
    eventType("payment.failed", "a card payment failed", {
      invoice_id: STRING,
      amount: MONEY,
      decline_code: STRING,
      card_last4: STRING,
    }),
    eventType("payment.succeeded", "a payment went through", { invoice_id: STRING, amount: MONEY }),
    eventType("card.expiring", "the card on file is about to expire", {}),
    eventType("referral.made", "the customer referred someone", { referred_customer_id: STRING }),
    eventType("support.ticket", "a support ticket was opened or resolved", {
      status: { kind: "enum", name: "ticket_status", values: ["opened", "resolved"] },
      satisfied: BOOLEAN,
    }),
    eventType("nps.submitted", "an NPS survey answer", { score: NUMBER }),
  ];
}

/**
 * A custom event type's name as ingest accepts it (worker/api/schemas/event.schema.json): `x.`, then
 * up to 64 letters, digits, `_`, `.`, `:` or `-`, starting with a letter or digit.
 */
export const CUSTOM_EVENT_TYPE = /^x\.[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** Declares a custom event type (`x.<name>`) with typed properties, e.g. from a rule file. */
export function customEventType(
  name: string,
  properties: Record<string, ExprType>,
  description = "",
): EventTypeDef {
  return eventType(name, description || `custom event ${name}`, properties);
}
