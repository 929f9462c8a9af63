/**
 * What the three provider mappings (stripe.ts, paddle.ts, chargebee.ts) share: the result of mapping
 * one provider event, Rebound event ids derived from the provider's event id, MRR normalised to a
 * month, the rules' `billing:` section applied to plans and cancellation reasons, and small readers
 * for untyped JSON.
 *
 * Stage: after verification (verify.ts), before ingest (ingest-provider-event.ts).
 */
import type { RulesetIR } from "../../dsl";
import type { IncomingEvent } from "../ingest/normalize";

export type Provider = "stripe" | "paddle" | "chargebee";
export const PROVIDERS: readonly Provider[] = ["stripe", "paddle", "chargebee"];

/** What a delivery came to (counted per provider, type and day; docs/providers.md). */
export type Outcome =
  | "ingested"
  | "duplicate"
  | "ignored"
  | "unmapped_plan"
  | "unmapped_reason"
  | "rejected"
  | "erased"
  | "sealed";

/** One provider event as Rebound reads it. */
export interface Mapped {
  providerEventId: string;
  providerType: string;
  /** The Rebound events it yields, ids derived from `providerEventId`; empty: see `outcome`. */
  events: IncomingEvent[];
  /** Why nothing is written, when `events` is empty. */
  outcome?: "ignored" | "unmapped_plan" | "unmapped_reason";
  /** For an unmapped outcome: what was not mapped (provider price ids, feedback). */
  unmapped?: string[];
  /** For an unmapped outcome: the Rebound customer it is about (held under it, erased with it). */
  customerId?: string | null;
}

/** What a mapping reads from the rules. */
export interface MappingRules {
  billing: RulesetIR["billing"];
  /** Declared plans; null: the rules declare none and any plan name is accepted. */
  plans: readonly string[] | null;
}

/** Property of `metadata` naming the Rebound customer id when it differs from the provider's. */
export const CUSTOMER_OVERRIDE_KEY = "rebound_customer_id";

/** Builds the Rebound events of one provider event: ids `{provider}_{eventId}`, then `…#2`, `#3`. */
export function eventsOf(
  provider: Provider,
  providerEventId: string,
  occurredAt: string,
  customerId: string,
  items: readonly { type: string; properties: Record<string, unknown> }[],
): IncomingEvent[] {
  return items.map((item, index) => ({
    id: index === 0 ? `${provider}_${providerEventId}` : `${provider}_${providerEventId}#${index + 1}`,
    type: item.type,
    customer_id: customerId,
    occurred_at: occurredAt,
    properties: item.properties,
  }));
}

/** Billing periods Rebound converts to a month. */
export type Interval = "day" | "week" | "month" | "year";

/**
 * The monthly share of `amount` (minor units) billed every `count` `interval`s, unrounded: yearly
 * /12, quarterly (3 months) /3, weekly ×52/12, daily ×365/12.
 */
export function monthlyShare(amount: number, interval: Interval, count: number): number {
  const every = Math.max(1, count);
  switch (interval) {
    case "day":
      return (amount * 365) / 12 / every;
    case "week":
      return (amount * 52) / 12 / every;
    case "month":
      return amount / every;
    case "year":
      return amount / 12 / every;
  }
}

export function isInterval(value: unknown): value is Interval {
  return value === "day" || value === "week" || value === "month" || value === "year";
}

/** One priced line of a subscription: its ids (price, lookup key, product) and its monthly amount. */
export interface PricedLine {
  /** Ids the rules' `billing.plans` may name, most specific first. */
  ids: string[];
  /** Monthly minor units, unrounded. */
  monthly: number;
}

/**
 * The subscription's plan and MRR from its lines: MRR is the sum of every line (rounded once);
 * the plan is that of the line with the largest monthly amount among the lines that map to a
 * declared plan (`billing.plans`, or an id equal to a declared plan). With no declared plans, the
 * largest line's first id is the plan. `plan: null` when no line maps.
 */
export function planAndMrr(
  lines: readonly PricedLine[],
  rules: MappingRules,
): { plan: string | null; mrr: number } {
  const mrr = Math.max(0, Math.round(lines.reduce((sum, line) => sum + line.monthly, 0)));
  let best: { plan: string; monthly: number } | null = null;
  for (const line of lines) {
    const plan = planOf(line.ids, rules);
    if (plan !== null && (best === null || line.monthly > best.monthly))
      best = { plan, monthly: line.monthly };
  }
  return { plan: best?.plan ?? null, mrr };
}

/** The declared plan a line's ids map to, or null. */
export function planOf(ids: readonly string[], rules: MappingRules): string | null {
  for (const id of ids) {
    if (Object.hasOwn(rules.billing.plans, id)) return rules.billing.plans[id]!;
  }
  if (rules.plans === null) return ids.find((id) => id.length <= 64) ?? null;
  return ids.find((id) => rules.plans!.includes(id)) ?? null;
}

/**
 * The reason of a cancellation: the provider's feedback through `billing.cancellation_reasons`,
 * else feedback that is itself a declared reason, else `billing.default_reason`.
 */
export function reasonOf(
  provider: "stripe" | "chargebee" | "paddle",
  feedback: string | null,
  reasons: readonly string[],
  billing: RulesetIR["billing"],
): string | null {
  if (feedback !== null && provider !== "paddle") {
    const mapped = billing.cancellationReasons[provider];
    if (Object.hasOwn(mapped, feedback)) return mapped[feedback]!;
    if (reasons.includes(feedback)) return feedback;
  }
  return billing.defaultReason;
}

/** ISO 8601 of epoch seconds. */
export function isoOfSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** An ISO 8601 time with more than millisecond precision (Paddle's microseconds), cut to ms. */
export function isoToMillis(text: string): string {
  return text.replace(/(\.\d{3})\d+/, "$1");
}

/** The last instant of a card's expiry month, as ISO 8601 (a card works through its month). */
export function cardExpiresAt(month: number, year: number): string | null {
  if (!Number.isInteger(month) || !Number.isInteger(year) || month < 1 || month > 12) return null;
  return new Date(Date.UTC(year, month, 1) - 1000).toISOString().replace(".000Z", "Z");
}

/** ISO 4217 code in upper case, or null when it is not three letters. */
export function currencyOf(value: unknown): string | null {
  return typeof value === "string" && /^[A-Za-z]{3}$/.test(value) ? value.toUpperCase() : null;
}

// Readers for untyped provider JSON: a value of the expected type or null, never a throw.

export type Json = Record<string, unknown>;

export function obj(value: unknown): Json | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

export function str(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

export function num(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  // Paddle sends amounts as decimal strings of minor units.
  if (typeof value === "string" && /^-?\d{1,15}$/.test(value)) return Number(value);
  return null;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `metadata.rebound_customer_id` of the first object that carries one. */
export function customerOverride(...metadata: unknown[]): string | null {
  for (const entry of metadata) {
    const id = str(obj(entry)?.[CUSTOMER_OVERRIDE_KEY]);
    if (id !== null) return id;
  }
  return null;
}

/** Keeps only the properties whose value is defined and not null. */
export function defined(properties: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(properties).filter(([, value]) => value !== undefined && value !== null),
  );
}

/** The first name of a full name (Rebound's messages greet by first name). */
export function firstNameOf(name: unknown): string | null {
  const text = str(name)?.trim();
  if (!text) return null;
  return text.split(/\s+/)[0]!.slice(0, 100);
}

/** An email as the event schema accepts it, or null. */
export function emailOf(value: unknown): string | null {
  const text = str(value);
  return text !== null && text.length <= 320 && /^[^\s@]+@[^\s@]+$/.test(text) ? text : null;
}
