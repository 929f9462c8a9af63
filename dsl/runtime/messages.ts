/**
 * Rendering messages: the template variables of one customer (and offer), a reward described in
 * words (`offer_amount`), what a reward costs, and a rendered subject and body. The one renderer:
 * the decision path (the message of an offer) and the queue consumer (a send, from the variables
 * snapshotted when it was enqueued) both render here, from the templates the runtime ruleset parsed
 * when it was loaded (dsl/runtime/ruleset.ts), never re-parsing one.
 *
 * Stage: runtime, at decision time and at send time.
 * Dates are shown in the customer's time zone (else the ruleset's default), in US English.
 *
 * A message without a `subject:` has no subject of its own: `renderMessage` gives `subject: null`
 * (what the decision API shows, e.g. for an in-app offer), and a send, which always carries a
 * subject line, has the company name as its subject (`renderSend`, as if the subject were
 * `{{ company_name }}`). A rendered subject is one line: whitespace around it is dropped.
 */

import type { Money } from "../expr/types";
import type { RewardIR } from "../rules/ruleset";
import { emptyVariables, renderTemplate } from "../rules/template";
import { isValidTimeZone } from "../time/zones";
import type { ChosenOffer } from "./decide";
import { formatMoney } from "./format";
import type { Ruleset } from "./ruleset";

/** What a message needs besides the ruleset. */
export interface MessageInput {
  /** The customer row (docs/data-model.md columns). */
  readonly customer: Readonly<Record<string, unknown>>;
  /** COMPANY_NAME from the Worker's environment. */
  readonly companyName: string;
  /** The offer the message carries, if any. */
  readonly offer?: ChosenOffer | null;
  /** The stored decision that made the offer (`{{ decision_id }}`, for the accept link). */
  readonly decisionId?: string | null;
}

export interface RenderedMessage {
  readonly key: string;
  readonly channel: "email" | "in_app" | "webhook" | null;
  /** Null when the message has no `subject:` (a send uses the company name: `renderSend`). */
  readonly subject: string | null;
  readonly body: string;
}

/** A message rendered for delivery: a send always has a subject line. */
export interface RenderedSend extends RenderedMessage {
  readonly subject: string;
}

/** Template variables by name: a value, or null or absent when unknown (the slot's default renders). */
export type TemplateValues = Readonly<Record<string, string | null | undefined>>;

/** Every template variable's value for one customer (null when unknown). */
export function messageVariables(ruleset: Ruleset, input: MessageInput): Record<string, string | null> {
  const customer = input.customer;
  // A profile's zone comes from the app and may be junk: fall back instead of failing the send.
  const timeZone =
    typeof customer.timezone === "string" && isValidTimeZone(customer.timezone)
      ? customer.timezone
      : ruleset.defaultTimezone;
  const text = (name: string): string | null =>
    typeof customer[name] === "string" ? (customer[name] as string) : null;
  const currency = text("currency") ?? ruleset.currency;
  const failedAmount =
    typeof customer.failed_amount === "number" ? { amount: customer.failed_amount, currency } : null;
  const cardExpiresAt = typeof customer.card_expires_at === "number" ? customer.card_expires_at : null;
  const offer = input.offer ?? null;
  return {
    first_name: text("first_name"),
    email: text("email"),
    plan: text("plan"),
    company_name: input.companyName,
    card_last4: text("card_last4"),
    update_url: text("update_url"),
    failed_amount: failedAmount ? formatMoney(failedAmount) : null,
    card_expires_at: cardExpiresAt === null ? null : formatDate(cardExpiresAt, timeZone),
    offer_amount: offer ? describeReward(offer.reward) : null,
    offer_description: offer ? (offer.reward.description ?? describeReward(offer.reward)) : null,
    offer_expires_at: offer ? formatDate(offer.expiresAt, timeZone) : null,
    decision_id: offer ? (input.decisionId ?? null) : null,
  };
}

/**
 * Renders a message for one customer (the decision path: the message of an offer). Throws for an
 * unknown message key (the checker guarantees every key the rules name exists).
 *
 * @example renderMessage(ruleset, "offer_price", { customer, companyName: "Acme", offer }).subject
 * // → "Ada, here is $20 off to stay"
 */
export function renderMessage(ruleset: Ruleset, key: string, input: MessageInput): RenderedMessage {
  const rendered = renderWith(ruleset, key, messageVariables(ruleset, input));
  if (!rendered) throw new Error(`unknown message ${key}`);
  return rendered;
}

/**
 * Renders a send's message from the variables snapshotted when it was enqueued (the queue
 * consumer). A message without a subject has the company name as its subject: `companyName` (the
 * deployment's, which the consumer passes) else the snapshot's `company_name`. Null when `key` is
 * not in the ruleset (a send enqueued under rules that have since changed).
 *
 * @example renderSend(ruleset, "dunning_day_0", { first_name: "Ada", company_name: "Acme" })
 * // → { key: "dunning_day_0", subject: "Your payment did not go through", body: "Hi Ada, …", … }
 */
export function renderSend(
  ruleset: Ruleset,
  key: string,
  variables: TemplateValues,
  companyName?: string,
): RenderedSend | null {
  const rendered = renderWith(ruleset, key, variables);
  if (!rendered) return null;
  return { ...rendered, subject: rendered.subject ?? (companyName ?? variables.company_name ?? "").trim() };
}

/**
 * The variables of a message (subject, then body) that render as nothing for this input: a preview
 * names them, since "card ending in  for ." is easy to miss. Empty for an unknown message key.
 */
export function emptyMessageVariables(ruleset: Ruleset, key: string, input: MessageInput): string[] {
  const message = ruleset.messages.get(key);
  if (!message) return [];
  const variables = messageVariables(ruleset, input);
  const names = [
    ...(message.subject ? emptyVariables(message.subject, variables) : []),
    ...emptyVariables(message.body, variables),
  ];
  return [...new Set(names)];
}

function renderWith(ruleset: Ruleset, key: string, variables: TemplateValues): RenderedMessage | null {
  const message = ruleset.messages.get(key);
  if (!message) return null;
  return {
    key,
    channel: message.ir.channel,
    subject: message.subject ? renderTemplate(message.subject, variables).trim() : null,
    body: renderTemplate(message.body, variables),
  };
}

/** A reward in words, as `{{ offer_amount }}` shows it: "$20 off", "50% off for 3 months". */
export function describeReward(reward: RewardIR): string {
  const forMonths = reward.forMonths ? ` for ${plural(reward.forMonths, "month")}` : "";
  switch (reward.kind) {
    case "amount_off":
      return `${formatMoney(reward.amount!)} off${forMonths}`;
    case "percent_off":
      return `${reward.percent}% off${forMonths}`;
    case "months_off":
      return `${plural(reward.months!, "month")} free`;
    case "credit":
      return `${formatMoney(reward.amount!)} in account credit`;
    case "consultation":
      return `a free ${Math.round(reward.durationMs! / 60_000)}-minute session with an expert`;
    case "bonus_points":
      return `${reward.points!.toLocaleString("en-US")} bonus points`;
    case "trial_extension":
      return `${plural(Math.round(reward.durationMs! / 86_400_000), "more trial day")}`;
    case "feature_unlock":
      return reward.feature!.replace(/_/g, " ");
  }
}

/**
 * What granting a reward costs, for redemption accounting: the declared `cost`, else the discount
 * it gives against the customer's MRR; null when it cannot be known (points, unlocks).
 */
export function rewardCost(reward: RewardIR, customer: Readonly<Record<string, unknown>>): Money | null {
  if (reward.cost) return reward.cost;
  const mrr = typeof customer.mrr === "number" ? customer.mrr : null;
  const currency = typeof customer.currency === "string" ? customer.currency : null;
  const months = reward.forMonths ?? 1;
  switch (reward.kind) {
    case "amount_off":
      return { amount: reward.amount!.amount * months, currency: reward.amount!.currency };
    case "credit":
      return reward.amount;
    case "percent_off":
      return mrr === null || currency === null
        ? null
        : { amount: Math.round((mrr * reward.percent! * months) / 100), currency };
    case "months_off":
      return mrr === null || currency === null ? null : { amount: mrr * reward.months!, currency };
    default:
      return null;
  }
}

/** The reward as the decision API returns it (snake_case, only the fields that apply). */
export function rewardJson(reward: RewardIR): Record<string, string | number> {
  const json: Record<string, string | number> = { type: reward.kind, key: reward.key };
  if (reward.amount) {
    json.amount = reward.amount.amount;
    json.currency = reward.amount.currency;
  }
  if (reward.percent !== null) json.percent = reward.percent;
  if (reward.forMonths !== null) json.for_months = reward.forMonths;
  if (reward.months !== null) json.months = reward.months;
  if (reward.durationMs !== null) json.duration_ms = reward.durationMs;
  if (reward.points !== null) json.points = reward.points;
  if (reward.feature !== null) json.feature = reward.feature;
  json.expires_after_ms = reward.expiresAfterMs;
  json.description = reward.description ?? describeReward(reward);
  return json;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

// Building an Intl.DateTimeFormat costs far more than formatting with one (it dominated a decision's
// CPU), so keep one per zone for the life of the isolate.
const longDateFormats = new Map<string, Intl.DateTimeFormat>();

function formatDate(ms: number, timeZone: string): string {
  let format = longDateFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", { dateStyle: "long", timeZone });
    longDateFormats.set(timeZone, format);
  }
  return format.format(new Date(ms));
}
