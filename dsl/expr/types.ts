/**
 * The expression language's types, runtime values and the scope the checker resolves names in.
 *
 * Stage: shared by check-expr.ts (static types), compile.ts (closures) and sql.ts (D1 SQL).
 * Nothing here runs; it is the vocabulary the other stages agree on.
 */

/**
 * The static type of an expression.
 *
 * `money.currency` is an ISO 4217 code when the currency is known when the rules are checked
 * (a `$20` literal, a custom attribute declared `money(EUR)`); it is absent for amounts held in
 * the customer's own currency (`mrr`, `ltv`, `aov`, event amounts), whose currency is known only
 * when a customer is evaluated.
 */
export type ExprType =
  | { readonly kind: "number" }
  | { readonly kind: "money"; readonly currency?: string }
  | { readonly kind: "string" }
  | { readonly kind: "enum"; readonly name: string; readonly values: readonly string[] }
  | { readonly kind: "boolean" }
  | { readonly kind: "timestamp" }
  | { readonly kind: "duration" }
  | { readonly kind: "list"; readonly element: ExprType };

/** Money at run time: integer minor units (cents) and the ISO 4217 currency they are in. */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

/**
 * A runtime value. number: numbers; epoch milliseconds for timestamps; milliseconds for
 * durations. string: strings and enum values. `null` (never `undefined`) is a missing value.
 */
export type Value = number | string | boolean | Money | readonly Value[];

/** One event as the closures see it (`properties` already parsed from JSON). */
export interface EventRecord {
  readonly id: string;
  readonly type: string;
  /** Epoch milliseconds. */
  readonly occurred_at: number;
  readonly properties: Readonly<Record<string, unknown>>;
}

/**
 * What one evaluation of a compiled expression sees.
 *
 * `customer` holds the `customers` columns of docs/data-model.md as properties, exactly as D1
 * returns them (booleans as 0/1, money as integer minor units, timestamps as epoch ms), with
 * `attributes` already parsed into an object. `events` must include every event newer than
 * `now - eventWindowMs` of the checked expression (all of them when it uses an all-time aggregate).
 */
export interface EvalContext {
  /** Epoch milliseconds: the event's time or the tick's scheduledTime, never the wall clock. */
  readonly now: number;
  readonly customer: Readonly<Record<string, unknown>>;
  readonly events: readonly EventRecord[];
}

/** A compiled expression: null means missing (for conditions: unknown, which does not hold). */
export type Closure = (ctx: EvalContext) => Value | null;

/**
 * A SQL fragment over `customers c` for D1. `params` are bound to the `?` placeholders in order;
 * a `NowParam` stands for the evaluation instant and is resolved by `bindSql(fragment, now)`.
 */
export interface SqlFragment {
  readonly sql: string;
  readonly params: readonly SqlParam[];
}

/** The evaluation instant, bound when the SQL runs (time is a parameter). */
export interface NowParam {
  readonly now: true;
}

export type SqlParam = string | number | null | NowParam;

/** A field an expression may name: a customers column, a derived value or a custom attribute. */
export interface FieldDef {
  readonly name: string;
  readonly type: ExprType;
  readonly description: string;
  /**
   * SQL over the row aliased `c` giving the value (for money: the amount in minor units; its
   * currency comes from `currencySql`). Yields NULL exactly when `read` returns null.
   */
  readonly sql: string;
  /** For money fields: SQL giving the currency code (NULL when unknown). */
  readonly currencySql?: string;
  /** The closure back end's reader; returns null for a missing value or one of the wrong type. */
  readonly read: (ctx: EvalContext) => Value | null;
  /**
   * For built-in `customers` columns of number, timestamp, text, enum or money type: the column the
   * value (a money amount, in the row's `currency`) is read from, so compiled comparisons can read
   * it directly (same result as `read`).
   */
  readonly column?: string;
  /**
   * For money fields: the amount and the currency read separately, so compiled comparisons need
   * not allocate a Money object per evaluation. `read` is null exactly when either part is.
   */
  readonly moneyParts?: {
    readonly amount: (ctx: EvalContext) => number | null;
    readonly currency: (ctx: EvalContext) => string | null;
  };
}

/** A property of an event type that expressions may aggregate (`sum(order.completed.amount)`). */
export interface EventPropertyDef {
  readonly name: string;
  readonly type: ExprType;
}

/** An event type known to the checker: built-in (docs/data-model.md) or custom (`x.*`). */
export interface EventTypeDef {
  readonly name: string;
  readonly description: string;
  readonly properties: ReadonlyMap<string, EventPropertyDef>;
}

/** What the checker needs to know about a segment an expression refers to by name. */
export interface SegmentInfo {
  readonly name: string;
  /** False when the segment's own condition cannot be translated to SQL. */
  readonly sqlTranslatable: boolean;
}

/**
 * Everything names in an expression resolve against. Built by dsl/expr/fields.ts
 * (`buildScope`) from the built-in catalog plus the rule files' `fields:`, `reasons:`, segments.
 */
export interface Scope {
  readonly fields: ReadonlyMap<string, FieldDef>;
  readonly segments: ReadonlyMap<string, SegmentInfo>;
  /** Named value sets: at least `reason` (churn reasons) and `status`; `plan` when plans are declared. */
  readonly enums: ReadonlyMap<string, readonly string[]>;
  readonly eventTypes: ReadonlyMap<string, EventTypeDef>;
  /** Whether `x.<anything>` event types not declared in `eventTypes` are accepted (count/last only). */
  readonly allowCustomEvents: boolean;
  /** ISO 4217 code the `$` sigil means. */
  readonly defaultCurrency: string;
  /**
   * `settings.exchange_rates` (dsl/expr/exchange.ts). When present, money in two currencies that
   * both have a rate is compared (and added) in the ruleset currency, and a money literal or a
   * `money(XXX)` type in a currency without a rate is an error. Absent (expressions checked on
   * their own): money in different currencies is unknown at run time, as without rates.
   */
  readonly exchange?: Exchange;
  /**
   * How long raw events are kept (ms, `settings.event_retention`); an aggregate whose window is longer,
   * or that reads all time, is an error. Undefined: events are kept forever.
   */
  readonly eventRetentionMs?: number;
}

/** One currency's conversion into the ruleset currency: `amount * scale / divisor`. */
export interface ExchangeRate {
  readonly scale: number;
  readonly divisor: number;
}

/** The ruleset currency and the rates into it; the ruleset currency itself converts at 1 / 1. */
export interface Exchange {
  readonly currency: string;
  readonly rates: ReadonlyMap<string, ExchangeRate>;
}
