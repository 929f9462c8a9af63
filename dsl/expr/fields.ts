/**
 * The field catalog: every name an expression may use for a customer value, with its type, its SQL
 * over `customers c` and its closure reader, plus `buildScope` which adds the rule files' custom
 * attributes, reasons, plans and segments.
 *
 * Stage: input to check-expr.ts, compile.ts and sql.ts. Column names follow docs/data-model.md
 * exactly. Each reader returns null exactly when its SQL yields NULL, including for a custom
 * attribute whose stored JSON value has the wrong type: that is what keeps closures and SQL equal.
 */

import { isKnownCurrency } from "./currencies";
import { builtinEventTypes } from "./events";
import { buildExchange } from "./exchange";
import type { EvalContext, EventTypeDef, ExprType, FieldDef, Scope, SegmentInfo, Value } from "./types";

export { currencyDigits, isKnownCurrency } from "./currencies";

export const DEFAULT_REASONS: readonly string[] = [
  "too_expensive",
  "switched_to_competitor",
  "technical_issues",
  "hard_to_use",
  "missing_features",
  "poor_service",
  "unused",
  "shutting_down",
  "other",
];

export const CUSTOMER_STATUSES: readonly string[] = ["lead", "active", "past_due", "canceled"];

const NUMBER: ExprType = { kind: "number" };
const STRING: ExprType = { kind: "string" };
const TIMESTAMP: ExprType = { kind: "timestamp" };
const BOOLEAN: ExprType = { kind: "boolean" };
const MONEY: ExprType = { kind: "money" };

type Row = Readonly<Record<string, unknown>>;

const numberOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const stringOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The slot of each built-in column, for `readColumn`. */
export const COLUMN_SLOTS: Readonly<Record<string, number>> = Object.freeze({
  id: 0,
  email: 1,
  first_name: 2,
  country: 3,
  timezone: 4,
  plan: 5,
  mrr: 6,
  currency: 7,
  status: 8,
  signed_up_at: 9,
  canceled_at: 10,
  churn_reason: 11,
  churn_comment: 12,
  reactivated_at: 13,
  last_active_at: 14,
  ltv: 15,
  order_count: 16,
  order_total: 17,
  aov: 18,
  referrals: 19,
  nps: 20,
  open_tickets: 21,
  last_ticket_satisfied: 22,
  payment_failed_at: 23,
  failed_invoice_id: 24,
  failed_amount: 25,
  decline_code: 26,
  card_last4: 27,
  update_url: 28,
  card_expires_at: 29,
  first_seen_at: 30,
  last_event_at: 31,
});

/**
 * Reads a built-in column by slot. A switch of named property loads: each load site sees one row
 * shape and stays monomorphic, where a shared `row[name]` would go megamorphic across fields, and
 * compiled closures can inline it. Field reads are most of what a compiled rule does.
 */
export function readColumn(row: Row, slot: number): unknown {
  switch (slot) {
    case 0:
      return row.id;
    case 1:
      return row.email;
    case 2:
      return row.first_name;
    case 3:
      return row.country;
    case 4:
      return row.timezone;
    case 5:
      return row.plan;
    case 6:
      return row.mrr;
    case 7:
      return row.currency;
    case 8:
      return row.status;
    case 9:
      return row.signed_up_at;
    case 10:
      return row.canceled_at;
    case 11:
      return row.churn_reason;
    case 12:
      return row.churn_comment;
    case 13:
      return row.reactivated_at;
    case 14:
      return row.last_active_at;
    case 15:
      return row.ltv;
    case 16:
      return row.order_count;
    case 17:
      return row.order_total;
    case 18:
      return row.aov;
    case 19:
      return row.referrals;
    case 20:
      return row.nps;
    case 21:
      return row.open_tickets;
    case 22:
      return row.last_ticket_satisfied;
    case 23:
      return row.payment_failed_at;
    case 24:
      return row.failed_invoice_id;
    case 25:
      return row.failed_amount;
    case 26:
      return row.decline_code;
    case 27:
      return row.card_last4;
    case 28:
      return row.update_url;
    case 29:
      return row.card_expires_at;
    case 30:
      return row.first_seen_at;
    case 31:
      return row.last_event_at;
    default:
      return undefined;
  }
}

/** A column of `customers` read as is (numbers, timestamps, text, enums). */
function columnField(name: string, type: ExprType, description: string): FieldDef {
  const isText = type.kind === "string" || type.kind === "enum";
  const slot = COLUMN_SLOTS[name]!;
  const get = (row: Row) => readColumn(row, slot);
  return {
    name,
    type,
    description,
    sql: `c.${name}`,
    column: name,
    read: isText ? (ctx) => stringOrNull(get(ctx.customer)) : (ctx) => numberOrNull(get(ctx.customer)),
  };
}

/** An INTEGER 0/1 column read as a boolean. */
function booleanColumnField(name: string, description: string): FieldDef {
  const slot = COLUMN_SLOTS[name]!;
  const get = (row: Row) => readColumn(row, slot);
  return {
    name,
    type: BOOLEAN,
    description,
    sql: `(c.${name} <> 0)`,
    read: (ctx) => {
      const v = numberOrNull(get(ctx.customer));
      return v === null ? null : v !== 0;
    },
  };
}

/** A money column: minor units in the customer's `currency`; missing when either is NULL. */
function moneyColumnField(name: string, description: string): FieldDef {
  const slot = COLUMN_SLOTS[name]!;
  const get = (row: Row) => readColumn(row, slot);
  const amount = (ctx: EvalContext): number | null => numberOrNull(get(ctx.customer));
  const currency = (ctx: EvalContext): string | null => stringOrNull(ctx.customer.currency);
  return {
    name,
    type: MONEY,
    description,
    sql: `c.${name}`,
    column: name,
    currencySql: "c.currency",
    read: (ctx) => {
      const a = amount(ctx);
      const c = currency(ctx);
      return a === null || c === null ? null : { amount: a, currency: c };
    },
    moneyParts: { amount, currency },
  };
}

/**
 * The built-in customer fields of docs/data-model.md. `plan` is an enum when plans are declared.
 */
export function builtinFields(reasons: readonly string[], plans?: readonly string[]): FieldDef[] {
  const planType: ExprType = plans ? { kind: "enum", name: "plan", values: plans } : STRING;
  return [
    columnField("id", STRING, "the app's customer id"),
    columnField("email", STRING, "latest email address"),
    columnField("first_name", STRING, "latest first name"),
    columnField("country", STRING, "ISO 3166 alpha-2 country code"),
    columnField("timezone", STRING, "IANA time zone"),
    columnField("plan", planType, "current (or last) plan"),
    moneyColumnField("mrr", "monthly recurring revenue of the current or last subscription"),
    columnField("currency", STRING, "ISO 4217 currency of mrr, ltv and aov"),
    columnField(
      "status",
      { kind: "enum", name: "status", values: CUSTOMER_STATUSES },
      "lead, active, past_due or canceled",
    ),
    columnField("signed_up_at", TIMESTAMP, "first subscription start"),
    columnField("canceled_at", TIMESTAMP, "latest cancellation, while still canceled"),
    columnField("churn_reason", { kind: "enum", name: "reason", values: reasons }, "why they canceled"),
    columnField("churn_comment", STRING, "free-text cancellation comment"),
    columnField("reactivated_at", TIMESTAMP, "latest reactivation"),
    columnField("last_active_at", TIMESTAMP, "latest activity event"),
    moneyColumnField("ltv", "lifetime value: payments plus orders"),
    columnField("order_count", NUMBER, "number of completed orders"),
    moneyColumnField("order_total", "sum of completed orders"),
    moneyColumnField("aov", "average order value"),
    columnField("referrals", NUMBER, "number of referrals made"),
    columnField("nps", NUMBER, "latest NPS score (0-10)"),
    columnField("open_tickets", NUMBER, "support tickets opened and not resolved"),
    booleanColumnField("last_ticket_satisfied", "whether the latest resolved ticket left them satisfied"),
    columnField("payment_failed_at", TIMESTAMP, "earliest failure among unpaid invoices"),
    columnField("failed_invoice_id", STRING, "the unpaid invoice"),
    moneyColumnField("failed_amount", "amount of the unpaid invoice"),
    columnField("decline_code", STRING, "latest decline code of the unpaid invoice"),
    columnField("card_last4", STRING, "last four digits of the card"),
    columnField("update_url", STRING, "update-payment link"),
    columnField("card_expires_at", TIMESTAMP, "when the card on file expires"),
    columnField("first_seen_at", TIMESTAMP, "earliest event"),
    columnField("last_event_at", TIMESTAMP, "latest event"),
  ];
}

const ATTRIBUTE_NAME_RE = /^[a-z_][a-z0-9_]*$/;

/** Whether `name` can be a custom attribute (it becomes a JSON path, so it is kept plain). */
export function isValidAttributeName(name: string): boolean {
  return ATTRIBUTE_NAME_RE.test(name);
}

function attributes(ctx: EvalContext): Row | null {
  const attrs = ctx.customer.attributes;
  return typeof attrs === "object" && attrs !== null && !Array.isArray(attrs) ? (attrs as Row) : null;
}

/**
 * A custom attribute declared in a rule file's `fields:` section, read from `c.attributes` JSON.
 * A stored value of the wrong JSON type reads as missing in both back ends.
 */
export function customAttributeField(name: string, type: ExprType, description = ""): FieldDef {
  if (!isValidAttributeName(name)) throw new Error(`invalid attribute name ${name}`);
  const path = `'$.${name}'`;
  const jsonType = `json_type(c.attributes, ${path})`;
  const extract = `json_extract(c.attributes, ${path})`;
  const raw = (ctx: EvalContext): unknown => attributes(ctx)?.[name];
  const text = description || `custom attribute ${name}`;
  switch (type.kind) {
    case "string":
    case "enum":
      return {
        name,
        type,
        description: text,
        sql: `(CASE WHEN ${jsonType} = 'text' THEN ${extract} END)`,
        read: (ctx) => stringOrNull(raw(ctx)),
      };
    case "boolean":
      return {
        name,
        type,
        description: text,
        sql: `(CASE WHEN ${jsonType} IN ('true', 'false') THEN ${extract} END)`,
        read: (ctx) => {
          const v = raw(ctx);
          return typeof v === "boolean" ? v : null;
        },
      };
    case "number":
    case "timestamp":
    case "duration":
      return {
        name,
        type,
        description: text,
        sql: `(CASE WHEN ${jsonType} IN ('integer', 'real') THEN ${extract} END)`,
        read: (ctx) => numberOrNull(raw(ctx)),
      };
    case "money": {
      const fixed = type.currency;
      const amount = (ctx: EvalContext): number | null => numberOrNull(raw(ctx));
      const currency = (ctx: EvalContext): string | null => fixed ?? stringOrNull(ctx.customer.currency);
      return {
        name,
        type,
        description: text,
        sql: `(CASE WHEN ${jsonType} IN ('integer', 'real') THEN ${extract} END)`,
        currencySql: fixed ? `'${fixed}'` : "c.currency",
        read: (ctx) => {
          const a = amount(ctx);
          const c = currency(ctx);
          return a === null || c === null ? null : { amount: a, currency: c };
        },
        moneyParts: { amount, currency },
      };
    }
    case "list":
      throw new Error("custom attributes cannot be lists");
  }
}

/**
 * Parses a declared field type as written in a rule file: `number`, `string`, `boolean`,
 * `timestamp`, `duration`, `money` (the customer's currency), `money(EUR)`, `enum(a, b, c)`.
 * Returns an error message for anything else.
 */
export function parseFieldType(text: string): ExprType | { error: string } {
  const t = text.trim();
  if (t === "number" || t === "string" || t === "boolean" || t === "timestamp" || t === "duration")
    return { kind: t };
  if (t === "money") return MONEY;
  const money = /^money\(\s*([A-Za-z]+)\s*\)$/.exec(t);
  if (money) {
    const code = money[1]!;
    return isKnownCurrency(code)
      ? { kind: "money", currency: code }
      : { error: `unknown currency \`${code}\`` };
  }
  const enumMatch = /^enum\((.*)\)$/.exec(t);
  if (enumMatch) {
    const values = enumMatch[1]!.split(",").map((v) => v.trim());
    if (values.some((v) => v === ""))
      return { error: "enum values must be non-empty, e.g. enum(basic, pro)" };
    return { kind: "enum", name: "value", values };
  }
  return {
    error: `unknown type \`${t}\`; use number, string, boolean, timestamp, duration, money, money(EUR) or enum(a, b)`,
  };
}

/** Options for `buildScope`; everything but the default currency has a sensible default. */
export interface ScopeOptions {
  defaultCurrency: string;
  reasons?: readonly string[];
  plans?: readonly string[];
  customFields?: readonly { name: string; type: ExprType; description?: string }[];
  customEventTypes?: readonly EventTypeDef[];
  segments?: readonly SegmentInfo[];
  /** Accept undeclared `x.*` events for count/last (default true). */
  allowCustomEvents?: boolean;
  /** How long raw events are kept, in ms (undefined: forever). */
  eventRetentionMs?: number;
  /** `settings.exchange_rates`: 1 unit of the key is worth `rate` units of `defaultCurrency`. */
  exchangeRates?: Readonly<Record<string, number>>;
}

/**
 * Builds the scope expressions are checked and compiled in.
 *
 * @example buildScope({ defaultCurrency: "USD", segments: [{ name: "high_value", sqlTranslatable: true }] })
 */
export function buildScope(options: ScopeOptions): Scope {
  const reasons = options.reasons ?? DEFAULT_REASONS;
  const reasonType: ExprType = { kind: "enum", name: "reason", values: reasons };
  const planType: ExprType = options.plans ? { kind: "enum", name: "plan", values: options.plans } : STRING;
  const fields = new Map<string, FieldDef>();
  for (const field of builtinFields(reasons, options.plans)) fields.set(field.name, field);
  for (const custom of options.customFields ?? []) {
    fields.set(custom.name, customAttributeField(custom.name, custom.type, custom.description));
  }
  const eventTypes = new Map<string, EventTypeDef>();
  for (const type of builtinEventTypes(reasonType, planType)) eventTypes.set(type.name, type);
  for (const type of options.customEventTypes ?? []) eventTypes.set(type.name, type);
  const enums = new Map<string, readonly string[]>([
    ["reason", reasons],
    ["status", CUSTOMER_STATUSES],
  ]);
  if (options.plans) enums.set("plan", options.plans);
  return {
    fields,
    segments: new Map((options.segments ?? []).map((s) => [s.name, s])),
    enums,
    eventTypes,
    allowCustomEvents: options.allowCustomEvents ?? true,
    defaultCurrency: options.defaultCurrency,
    ...(options.eventRetentionMs !== undefined ? { eventRetentionMs: options.eventRetentionMs } : {}),
    ...(options.exchangeRates !== undefined
      ? { exchange: buildExchange(options.defaultCurrency, options.exchangeRates) }
      : {}),
  };
}

/** Reads a value the way a FieldDef does, for callers that hold only a scope (explain traces). */
export function readField(scope: Scope, name: string, ctx: EvalContext): Value | null {
  return scope.fields.get(name)?.read(ctx) ?? null;
}
