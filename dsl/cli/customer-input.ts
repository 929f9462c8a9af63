/**
 * Customers written by hand (test cases, `rebound explain --customer`): friendly YAML in, the
 * evaluation context the runtime sees out. Timestamps may be ISO dates or relative to the case's
 * moment (`10d ago`, `in 3d`); money is written with its currency (`$800`, `€49.50`, `800 EUR`), never
 * as a bare number, which would be ambiguous (300 dollars, or 300 cents as the API counts?);
 * booleans are true/false; custom fields may sit at the top level or under `attributes`.
 *
 * Stage: CLI input → dsl/runtime/decide.ts and friends. Errors are thrown as `InputError` with the
 * key path, so a test case or a customer file can point at the value (file:line:col).
 */

import { currencyDigits, isKnownCurrency } from "../expr/fields";
import type { EvalContext, EventRecord, ExprType } from "../expr/types";
import type { OfferHistory } from "../runtime/decide";
import type { Ruleset } from "../runtime/ruleset";
import { closest } from "../suggest";

/** A path into the input, from its top: `["customer", "ltv"]`, `["events", 0, "properties", "amount"]`. */
export type InputPath = readonly (string | number)[];

/** Input written wrongly: the message names the key path; `path` locates it, `hint` says how to write it. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly path: InputPath = [],
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** `customer.attributes.seats`, `events[0].properties.amount`: a path as the messages name it. */
export function pathText(path: InputPath): string {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join("");
}

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

const SIGIL_CURRENCY: Readonly<Record<string, string | null>> = { $: null, "€": "EUR", "£": "GBP" };
const AMOUNT = String.raw`(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?`;
const SIGIL_RE = new RegExp(`^([$€£]) ?${AMOUNT}$`);
const CODED_RE = new RegExp(`^${AMOUNT} ?([A-Z]{3})$`);

/**
 * Reads money written with its currency: `$800` (`$` is the ruleset currency), `$19.99`, `€49.50`,
 * `£5`, `800 EUR`, `$1,200`; → integer minor units and the currency. `0` alone is zero. A bare number
 * is refused with a hint: `ltv: 300` could mean $300 or 300 cents ($3.00, as the API counts).
 *
 * @example parseMoneyInput("$19.99", "USD", ["customer", "ltv"]) // → { amount: 1999, currency: "USD" }
 * @throws InputError located at `path`
 */
export function parseMoneyInput(
  value: unknown,
  rulesetCurrency: string,
  path: InputPath,
): { amount: number; currency: string } {
  const where = pathText(path);
  if (value === 0) return { amount: 0, currency: rulesetCurrency };
  if (typeof value === "number") {
    const digits = currencyDigits(rulesetCurrency);
    const asMinorUnits =
      digits === 0
        ? ""
        : `, or "$${(value / 10 ** digits).toFixed(digits)}" if you meant ${value} minor units of ${rulesetCurrency}`;
    throw new InputError(
      `${where}: ${value} is a bare number; write money with its currency`,
      path,
      `write "$${value}" for ${value} ${rulesetCurrency} ($ is the ruleset currency) or "${value} EUR" for euros${asMinorUnits}`,
    );
  }
  const text = typeof value === "string" ? value.trim() : null;
  const sigil = text === null ? null : SIGIL_RE.exec(text);
  const coded = text === null ? null : CODED_RE.exec(text);
  const whole = sigil?.[2] ?? coded?.[1];
  const fraction = (sigil ? sigil[3] : coded?.[2]) ?? "";
  const currency = sigil ? (SIGIL_CURRENCY[sigil[1]!] ?? rulesetCurrency) : coded?.[3];
  if (whole === undefined || currency === undefined) {
    throw new InputError(
      `${where}: expected money such as $800 or 800 EUR, found ${JSON.stringify(value)}`,
      path,
      'write "$800" ($ is the ruleset currency), "€49.50", "£5" or "800 EUR"',
    );
  }
  if (!isKnownCurrency(currency)) throw new InputError(`${where}: unknown currency \`${currency}\``, path);
  const digits = currencyDigits(currency);
  if (fraction.length > digits) {
    throw new InputError(
      `${where}: ${currency} has ${digits} decimal places; ${JSON.stringify(text)} has ${fraction.length}`,
      path,
    );
  }
  const amount = Number(whole.replace(/,/g, "")) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  if (!Number.isSafeInteger(amount)) {
    throw new InputError(`${where}: ${JSON.stringify(text)} is too large an amount to count exactly`, path);
  }
  return { amount, currency };
}

/** Money for a field or property whose amounts are in `expected` (the customer's or the event's). */
function moneyIn(
  value: unknown,
  rulesetCurrency: string,
  expected: string,
  path: InputPath,
  whose: string,
): number {
  const money = parseMoneyInput(value, rulesetCurrency, path);
  if (money.amount === 0 || money.currency === expected) return money.amount;
  throw new InputError(
    `${pathText(path)}: ${JSON.stringify(value)} is in ${money.currency}, but ${whose} amounts are in ${expected}`,
    path,
    whose === "the customer's"
      ? `give the customer \`currency: ${money.currency}\`, or write the amount in ${expected}`
      : `give the event \`currency: ${money.currency}\` in its properties, or write the amount in ${expected}`,
  );
}

function convert(
  type: ExprType,
  value: unknown,
  at: number,
  currencies: { ruleset: string; customer: string },
  path: InputPath,
): unknown {
  if (value === null) return null;
  const where = pathText(path);
  switch (type.kind) {
    case "timestamp":
      return parseMomentAt(value, at, path);
    case "money":
      return moneyIn(value, currencies.ruleset, type.currency ?? currencies.customer, path, "the customer's");
    case "boolean":
      if (typeof value !== "boolean") throw new InputError(`${where}: expected true or false`, path);
      return value;
    case "number":
    case "duration":
      if (typeof value !== "number") throw new InputError(`${where}: expected a number`, path);
      return value;
    default:
      if (typeof value !== "string") throw new InputError(`${where}: expected text`, path);
      return value;
  }
}

/** parseMoment, located. */
function parseMomentAt(value: unknown, at: number, path: InputPath): number {
  try {
    return parseMoment(value, at, pathText(path));
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.message, path);
    throw error;
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
  const raw = record(input.customer ?? {}, ["customer"]);
  const customFields = new Map(ruleset.ir.fields.map((f) => [f.name, f]));
  const currency = typeof raw.currency === "string" ? raw.currency : ruleset.currency;
  const currencies = { ruleset: ruleset.currency, customer: currency };
  const customer: Record<string, unknown> = { id: "test_customer", ...DEFAULTS, currency };
  const attributes: Record<string, unknown> = {};
  const put = (name: string, value: unknown, path: InputPath): void => {
    const field = ruleset.scope.fields.get(name);
    if (!field) {
      const suggestion = closest(name, ruleset.scope.fields.keys());
      throw new InputError(
        `${pathText(path)}: unknown field \`${name}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`,
        path,
      );
    }
    const converted = convert(field.type, value, at, currencies, path);
    if (customFields.has(name)) attributes[name] = converted;
    else
      customer[name] = field.type.kind === "boolean" && converted !== null ? (converted ? 1 : 0) : converted;
  };
  for (const [name, value] of Object.entries(raw)) {
    if (name === "attributes") {
      for (const [attr, attrValue] of Object.entries(record(value, ["customer", "attributes"]))) {
        put(attr, attrValue, ["customer", "attributes", attr]);
      }
    } else put(name, value, ["customer", name]);
  }
  customer.attributes = attributes;
  customer.first_seen_at ??= at;
  customer.last_event_at ??= at;
  const events = list(input.events ?? [], ["events"]).map((item, index) =>
    eventInput(ruleset, item, index, at, currencies),
  );
  return { ctx: { now: at, customer, events }, history: historyInput(ruleset, input.history, at) };
}

/**
 * One event of a case. A money property of a built-in event type (`order.completed.amount`) is read
 * like a customer's money, in the event's `currency` (else the customer's); a free property that
 * looks like money (`$20`, `20 EUR`) becomes minor units.
 */
function eventInput(
  ruleset: Ruleset,
  item: unknown,
  index: number,
  at: number,
  currencies: { ruleset: string; customer: string },
): EventRecord {
  const path: InputPath = ["events", index];
  const event = record(item, path);
  if (typeof event.type !== "string") throw new InputError(`${pathText(path)}: needs a \`type\``, path);
  const declared = ruleset.scope.eventTypes.get(event.type)?.properties;
  const written = record(event.properties ?? {}, [...path, "properties"]);
  const eventCurrency = typeof written.currency === "string" ? written.currency : currencies.customer;
  const properties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(written)) {
    const where: InputPath = [...path, "properties", name];
    if (declared?.get(name)?.type.kind === "money" && value !== null) {
      properties[name] = moneyIn(value, currencies.ruleset, eventCurrency, where, "the event's");
    } else {
      // Only a whole value written as money is money: "SAVE20NOW" or "$HOME" stay text.
      properties[name] =
        typeof value === "string" && (SIGIL_RE.test(value.trim()) || CODED_RE.test(value.trim()))
          ? parseMoneyInput(value, currencies.ruleset, where).amount
          : value;
    }
  }
  const atKey = event.at !== undefined ? "at" : event.occurred_at !== undefined ? "occurred_at" : "at";
  return {
    id: typeof event.id === "string" ? event.id : `evt_${String(index + 1).padStart(4, "0")}`,
    type: event.type,
    occurred_at: parseMomentAt(event.at ?? event.occurred_at ?? "now", at, [...path, atKey]),
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
  const history = record(value, ["history"]);
  const offers = list(history.offers ?? [], ["history", "offers"]).map((item, index) => {
    const path: InputPath = ["history", "offers", index];
    const offer = record(item, path);
    if (typeof offer.offer !== "string")
      throw new InputError(`${pathText(path)}: needs \`offer\` (the offer key)`, path);
    return {
      offerKey: offer.offer,
      rewardKind: pastRewardKind(ruleset, offer.offer, offer.reward, [...path, "reward"]),
      at: parseMomentAt(offer.at, at, [...path, "at"]),
      redeemedAt:
        offer.redeemed_at == null ? null : parseMomentAt(offer.redeemed_at, at, [...path, "redeemed_at"]),
    };
  });
  const cancellations = list(history.cancellations ?? [], ["history", "cancellations"]).map((item, index) =>
    parseMomentAt(item, at, ["history", "cancellations", index]),
  );
  return { offers, cancellations };
}

function pastRewardKind(ruleset: Ruleset, offerKey: string, reward: unknown, path: InputPath): string | null {
  if (reward === undefined || reward === null) {
    const rule = ruleset.offers.find((offer) => offer.key === offerKey);
    return rule ? (ruleset.rewards.get(rule.ir.reward)?.kind ?? null) : null;
  }
  if (typeof reward !== "string") throw new InputError(`${pathText(path)}: expected a reward key`, path);
  const known = ruleset.rewards.get(reward);
  if (known) return known.kind;
  const suggestion = closest(reward, ruleset.rewards.keys());
  throw new InputError(
    `${pathText(path)}: unknown reward \`${reward}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`,
    path,
  );
}

function record(value: unknown, path: InputPath): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new InputError(`${pathText(path)}: expected a mapping`, path);
}

function list(value: unknown, path: InputPath): unknown[] {
  if (Array.isArray(value)) return value;
  throw new InputError(`${pathText(path)}: expected a list`, path);
}
