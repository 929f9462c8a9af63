/**
 * Customers written by hand (test cases, `rebound explain --customer`): friendly YAML in, the
 * evaluation context the runtime sees out. Timestamps may be ISO dates or relative to the case's
 * moment (`10d ago`, `in 3d`); money may be `$800` or `800 EUR`; booleans are true/false; custom
 * fields may sit at the top level or under `attributes`.
 *
 * Stage: CLI input → dsl/runtime/decide.ts and friends. Errors are thrown as `InputError` with the key path.
 */

import { isKnownCurrency } from "../expr/fields";
import type { EvalContext, EventRecord, ExprType } from "../expr/types";
import type { OfferHistory } from "../runtime/decide";
import type { Ruleset } from "../runtime/ruleset";
import { closest } from "../suggest";

export class InputError extends Error {}

export interface CustomerInput {
  ctx: EvalContext;
  history: OfferHistory;
}

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
const DEFAULTS: Record<string, unknown> = {
  status: "active",
  order_count: 0,
  order_total: 0,
  referrals: 0,
  open_tickets: 0,
};

/**
 * Reads the `--at` option of explain and preview: a moment as in parseMoment, with `now`, `10d ago`
 * and `in 3d` measured from the real clock (not from 1970).
 */
export function parseAtOption(text: string, clock: number = Date.now()): number {
  return parseMoment(text, clock, "--at");
}

const RELATIVE_RE = /^(?:(in) )?((?:\d+[wdhms])+)(?: (ago))?$/;

/** Whether a moment is written relative to another (`now`, `10d ago`, `in 3d`) rather than absolute. */
export function isRelativeMoment(text: string): boolean {
  const relative = RELATIVE_RE.exec(text.trim());
  return text.trim() === "now" || (relative !== null && (relative[1] === "in") !== (relative[3] === "ago"));
}

/** Reads a moment: ISO date/time, epoch ms, `now`, `<duration> ago` or `in <duration>` relative to `at`. */
export function parseMoment(value: unknown, at: number, where: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (value instanceof Date) return value.getTime();
  if (typeof value !== "string")
    throw new InputError(`${where}: expected a time, found ${JSON.stringify(value)}`);
  const text = value.trim();
  if (text === "now") return at;
  const relative = RELATIVE_RE.exec(text);
  if (relative && (relative[1] === "in") !== (relative[3] === "ago")) {
    let ms = 0;
    for (const part of relative[2]!.matchAll(/(\d+)([wdhms])/g)) ms += Number(part[1]) * UNIT_MS[part[2]!]!;
    return relative[3] === "ago" ? at - ms : at + ms;
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const ms = Date.parse(/T|\s/.test(text) && !/Z|[+-]\d{2}:?\d{2}$/.test(text) ? `${text}Z` : text);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new InputError(`${where}: "${text}" is not a time (use 2026-03-01T12:00:00Z, "10d ago" or "in 3d")`);
}

/** Reads money: an integer of minor units, `$800`, `$19.99`, `€5`, `800 EUR`. */
export function parseMoneyInput(
  value: unknown,
  currency: string,
  where: string,
): { amount: number; currency: string } {
  if (typeof value === "number" && Number.isInteger(value)) return { amount: value, currency };
  if (typeof value === "string") {
    const sigil = /^([$€£])(\d+(?:\.\d+)?)$/.exec(value.trim());
    const coded = /^(\d+(?:\.\d+)?) ?([A-Z]{3})$/.exec(value.trim());
    const amount = sigil?.[2] ?? coded?.[1];
    const code = sigil ? ({ $: currency, "€": "EUR", "£": "GBP" }[sigil[1]!] ?? currency) : coded?.[2];
    if (code !== undefined && !isKnownCurrency(code))
      throw new InputError(`${where}: unknown currency \`${code}\``);
    if (amount !== undefined && code !== undefined) {
      const digits =
        new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions()
          .maximumFractionDigits ?? 2;
      return { amount: Math.round(Number(amount) * 10 ** digits), currency: code };
    }
  }
  throw new InputError(`${where}: expected money such as $800 or 800 EUR, found ${JSON.stringify(value)}`);
}

function convert(type: ExprType, value: unknown, at: number, currency: string, where: string): unknown {
  if (value === null) return null;
  switch (type.kind) {
    case "timestamp":
      return parseMoment(value, at, where);
    case "money":
      return parseMoneyInput(value, type.currency ?? currency, where).amount;
    case "boolean":
      if (typeof value !== "boolean") throw new InputError(`${where}: expected true or false`);
      return value;
    case "number":
    case "duration":
      if (typeof value !== "number") throw new InputError(`${where}: expected a number`);
      return value;
    default:
      if (typeof value !== "string") throw new InputError(`${where}: expected text`);
      return value;
  }
}

/**
 * Builds the evaluation context for a customer written by hand.
 *
 * @example customerInput(ruleset, { customer: { ltv: "$800", canceled_at: "10d ago" } }, at)
 */
export function customerInput(
  ruleset: Ruleset,
  input: { customer?: unknown; events?: unknown; history?: unknown },
  at: number,
): CustomerInput {
  const raw = record(input.customer ?? {}, "customer");
  const customFields = new Map(ruleset.ir.fields.map((f) => [f.name, f]));
  const currency = typeof raw.currency === "string" ? raw.currency : ruleset.currency;
  const customer: Record<string, unknown> = { id: "test_customer", ...DEFAULTS, currency };
  const attributes: Record<string, unknown> = {};
  const put = (name: string, value: unknown, where: string): void => {
    const field = ruleset.scope.fields.get(name);
    if (!field) {
      const suggestion = closest(name, ruleset.scope.fields.keys());
      throw new InputError(
        `${where}: unknown field \`${name}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`,
      );
    }
    const converted = convert(field.type, value, at, currency, where);
    if (customFields.has(name)) attributes[name] = converted;
    else
      customer[name] = field.type.kind === "boolean" && converted !== null ? (converted ? 1 : 0) : converted;
  };
  for (const [name, value] of Object.entries(raw)) {
    if (name === "attributes") {
      for (const [attr, attrValue] of Object.entries(record(value, "customer.attributes"))) {
        put(attr, attrValue, `customer.attributes.${attr}`);
      }
    } else put(name, value, `customer.${name}`);
  }
  customer.attributes = attributes;
  customer.first_seen_at ??= at;
  customer.last_event_at ??= at;
  const events = list(input.events ?? [], "events").map((item, index) =>
    eventInput(item, index, at, currency),
  );
  return { ctx: { now: at, customer, events }, history: historyInput(ruleset, input.history, at) };
}

function eventInput(item: unknown, index: number, at: number, currency: string): EventRecord {
  const where = `events[${index}]`;
  const event = record(item, where);
  if (typeof event.type !== "string") throw new InputError(`${where}: needs a \`type\``);
  const properties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record(event.properties ?? {}, `${where}.properties`))) {
    properties[name] =
      typeof value === "string" && /^[$€£]|\d [A-Z]{3}$/.test(value)
        ? parseMoneyInput(value, currency, `${where}.properties.${name}`).amount
        : value;
  }
  return {
    id: typeof event.id === "string" ? event.id : `evt_${String(index + 1).padStart(4, "0")}`,
    type: event.type,
    occurred_at: parseMoment(event.at ?? event.occurred_at ?? "now", at, `${where}.at`),
    properties,
  };
}

/**
 * Past offers as written in a test case or customer file: `{ offer, at, redeemed_at?, reward? }`.
 * The reward kind (scoped caps and cooldowns) is `reward`'s, else the offer rule's own reward's;
 * unknown (null) for an offer no longer in the rules.
 */
function historyInput(ruleset: Ruleset, value: unknown, at: number): OfferHistory {
  if (value === undefined || value === null) return { offers: [] };
  const history = record(value, "history");
  const offers = list(history.offers ?? [], "history.offers").map((item, index) => {
    const where = `history.offers[${index}]`;
    const offer = record(item, where);
    if (typeof offer.offer !== "string") throw new InputError(`${where}: needs \`offer\` (the offer key)`);
    return {
      offerKey: offer.offer,
      rewardKind: pastRewardKind(ruleset, offer.offer, offer.reward, `${where}.reward`),
      at: parseMoment(offer.at, at, `${where}.at`),
      redeemedAt:
        offer.redeemed_at == null ? null : parseMoment(offer.redeemed_at, at, `${where}.redeemed_at`),
    };
  });
  const cancellations = list(history.cancellations ?? [], "history.cancellations").map((item, index) =>
    parseMoment(item, at, `history.cancellations[${index}]`),
  );
  return { offers, cancellations };
}

function pastRewardKind(ruleset: Ruleset, offerKey: string, reward: unknown, where: string): string | null {
  if (reward === undefined || reward === null) {
    const rule = ruleset.offers.find((offer) => offer.key === offerKey);
    return rule ? (ruleset.rewards.get(rule.ir.reward)?.kind ?? null) : null;
  }
  if (typeof reward !== "string") throw new InputError(`${where}: expected a reward key`);
  const known = ruleset.rewards.get(reward);
  if (known) return known.kind;
  const suggestion = closest(reward, ruleset.rewards.keys());
  throw new InputError(
    `${where}: unknown reward \`${reward}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`,
  );
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new InputError(`${where}: expected a mapping`);
}

function list(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new InputError(`${where}: expected a list`);
}
