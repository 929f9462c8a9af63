/**
 * The checked ruleset as data (the IR): what dsl/rules/check.ts produces from the rule files, what
 * `rebound build` writes to worker/generated/ruleset.json, and what dsl/runtime/ruleset.ts compiles.
 *
 * Stage: between check and runtime. Plain JSON (no functions, no Infinity), stamped with `version`,
 * a content hash of the rule sources, so every decision and send can say which rules made it.
 */
import type { Expr } from "../expr/ast";
import type { Money } from "../expr/types";

/** Bumped when the IR's shape changes incompatibly. */
export const RULESET_FORMAT = 5;

/** An expression as checked: its text, its AST, whether SQL can evaluate it, and where it was written. */
export interface ExpressionIR {
  source: string;
  ast: Expr;
  sqlTranslatable: boolean;
  /** `file:line:col` of the expression, for traces. */
  at: string;
}

/** At most `max` in any window of `perMs`. */
export interface CapIR {
  max: number;
  perMs: number;
}

/**
 * `offer_policy`: limits across offers, and the anti-abuse guard. A cap or cooldown with
 * `rewardKinds` counts only past offers of those kinds and limits only offers that may give one;
 * null: every kind.
 */
export interface OfferPolicyIR {
  cap: (CapIR & { rewardKinds: RewardKind[] | null }) | null;
  cooldown: { forMs: number; rewardKinds: RewardKind[] | null } | null;
  redeemedThenChurnedWithinMs: number | null;
}

export type RewardKind =
  | "amount_off"
  | "percent_off"
  | "months_off"
  | "credit"
  | "consultation"
  | "bonus_points"
  | "trial_extension"
  | "feature_unlock";

export const REWARD_KINDS: readonly RewardKind[] = [
  "amount_off",
  "percent_off",
  "months_off",
  "credit",
  "consultation",
  "bonus_points",
  "trial_extension",
  "feature_unlock",
];

/** A reward; the fields that apply depend on `kind`, the others are null. */
export interface RewardIR {
  key: string;
  kind: RewardKind;
  description: string | null;
  /**
   * amount_off, credit: the amount as written, or for a per-currency map (`{ USD: $20, GBP: £16 }`)
   * the ruleset-currency entry, else the first one. A customer paying in another currency gets the
   * amount dsl/runtime/reward-currency.ts picks.
   */
  amount: Money | null;
  /** amount_off, credit written per currency: every entry, in file order (absent: one amount). */
  amounts?: Money[];
  /** percent_off: 0 < percent ≤ 100. */
  percent: number | null;
  /** amount_off / percent_off applied to the next N invoices (null: once). */
  forMonths: number | null;
  /** months_off: N free months. */
  months: number | null;
  /** consultation length, trial_extension length. */
  durationMs: number | null;
  /** bonus_points. */
  points: number | null;
  /** feature_unlock. */
  feature: string | null;
  expiresAfterMs: number;
  /** Declared cost of granting it (for redemption accounting); null: derive from the reward. */
  cost: Money | null;
  /** `cost` written per currency: every entry (absent: one cost); `cost` is the base one, as for `amounts`. */
  costs?: Money[];
}

/** Where the app asks for an offer (issue 4's `context`). */
export type OfferContext = "cancel_flow" | "in_app" | "winback" | "dunning";
export const OFFER_CONTEXTS: readonly OfferContext[] = ["cancel_flow", "in_app", "winback", "dunning"];

export interface OfferVariantIR {
  key: string;
  weight: number;
  /** Overrides of the offer's reward and message for this variant (null: the offer's own). */
  reward: string | null;
  message: string | null;
}

export interface ExperimentIR<V> {
  /** The bucketing key (dsl/runtime/bucket.ts): changing it re-buckets everyone. */
  key: string;
  /** Percent (0-100, two decimals) who get nothing, measured for lift. */
  holdoutPercent: number;
  variants: V[];
}

export interface OfferIR {
  key: string;
  description: string | null;
  priority: number;
  /** Contexts the offer may be shown in; null: all. */
  contexts: OfferContext[] | null;
  /** Churn reasons it answers; null: any (including none). */
  reasons: string[] | null;
  /** Segments the customer must all be in. */
  segments: string[];
  when: ExpressionIR | null;
  reward: string;
  message: string;
  cap: CapIR | null;
  cooldownMs: number | null;
  experiment: ExperimentIR<OfferVariantIR> | null;
  at: string;
}

/** One step of a sequence: a message and/or an offer. */
export interface StepIR {
  /** Days after the triggering event (dunning, win-back). */
  day: number | null;
  /** Delay after the previous step (campaigns). */
  afterMs: number | null;
  message: string | null;
  /** "best": the first eligible offer for the context; otherwise an offer key; null: no offer. */
  offer: string | null;
  /** Sent instead of `message` when the offer decision yields none (null: the step is skipped). */
  fallbackMessage: string | null;
}

export interface InactivityIR {
  key: string;
  description: string | null;
  plans: string[] | null;
  segment: string | null;
  when: ExpressionIR | null;
  afterMs: number;
  step: StepIR;
}

export type DunningAction = "cancel" | "webhook";

export interface DunningIR {
  key: string;
  description: string | null;
  when: ExpressionIR | null;
  steps: { day: number; message: string }[];
  final: { day: number; actions: DunningAction[]; message: string | null };
}

export interface CardExpiryIR {
  /** Days before `card_expires_at`, largest first. */
  daysBefore: number[];
  message: string;
}

export interface WinbackIR {
  key: string;
  description: string | null;
  reasons: string[];
  when: ExpressionIR | null;
  steps: StepIR[];
}

export interface CampaignVariantIR {
  key: string;
  weight: number;
  /** The variant's own steps (null: the campaign's). */
  steps: StepIR[] | null;
}

export interface CampaignIR {
  key: string;
  description: string | null;
  /** 5-field cron, read in `timezone`. */
  schedule: string;
  timezone: string;
  audience: ExpressionIR;
  offerContext: OfferContext;
  frequencyCap: string | null;
  /** "HH:MM-HH:MM" local to the customer (dsl/time/quiet-hours.ts parseQuietHours). */
  quietHours: string | null;
  steps: StepIR[];
  experiment: ExperimentIR<CampaignVariantIR> | null;
  /** What counts as the campaign working, and for how long after a send (null: not measured). */
  conversion: ConversionIR | null;
}

/**
 * `conversion: { event, within }`: a customer converts when an `event` comes within `within` of
 * their send (the attribution window the metrics count conversions in).
 */
export interface ConversionIR {
  /** A built-in event type or an `x.` custom type. */
  event: string;
  /** The window as written (`14d`), for reports. */
  within: string;
  withinMs: number;
}

/** `settings.metrics`: how reports count. */
export interface MetricsIR {
  /**
   * The IANA zone whose local dates are the days, weeks and months of every report, or `customer`
   * (each customer's own zone; `defaultTimezone` when unknown). Defaults to `defaultTimezone`.
   */
  timezone: string;
  /** A reactivation counts for win-back when it comes within this after the first win-back message. */
  winbackWindowMs: number;
}

/**
 * `billing:`: how billing-provider webhooks (worker/providers/) map onto the rules. Every value is a
 * declared reason or plan (the checker refuses any other).
 */
export interface BillingIR {
  /** Provider cancellation feedback (Stripe `cancellation_details.feedback`, Chargebee `cancel_reason_code`) → reason. */
  cancellationReasons: { stripe: Record<string, string>; chargebee: Record<string, string> };
  /** Reason of a cancellation whose feedback is missing or unmapped; null: the rules declare no `other`. */
  defaultReason: string | null;
  /** Provider price / plan ids and Stripe lookup keys → declared plans. */
  plans: Record<string, string>;
}

export interface MessageIR {
  key: string;
  channel: "email" | "in_app" | "webhook" | null;
  subject: string | null;
  body: string;
}

export interface RulesetIR {
  format: typeof RULESET_FORMAT;
  /** `sha256:` + hex of the rule sources (paths and contents, sorted by path). */
  version: string;
  currency: string;
  /**
   * `settings.exchange_rates`: one unit of each key is worth this many units of `currency`. Rates
   * for targeting and reporting, reviewed like any rule, not accounting rates.
   */
  exchangeRates: Record<string, number>;
  defaultTimezone: string;
  reasons: { key: string; description: string | null; offers: boolean }[];
  plans: string[] | null;
  fields: { name: string; type: string; description: string | null }[];
  /** Longest event window any expression reads, in ms; null when one reads all-time aggregates. */
  eventWindowMs: number | null;
  /**
   * How long raw events stay in D1 before the tick archives them (`settings.event_retention`, ms);
   * null: kept forever. Every event window fits in it (the checker refuses a longer one).
   */
  eventRetentionMs: number | null;
  metrics: MetricsIR;
  /** Segments in dependency order (a segment comes after the segments it uses). */
  segments: { key: string; description: string | null; when: ExpressionIR }[];
  rewards: RewardIR[];
  /** Highest priority first, file order among equals: the order decisions evaluate them in. */
  offers: OfferIR[];
  offerPolicy: OfferPolicyIR;
  frequencyCaps: { key: string; max: number; perMs: number }[];
  messages: MessageIR[];
  inactivity: InactivityIR[];
  dunning: DunningIR[];
  cardExpiry: CardExpiryIR | null;
  winback: WinbackIR[];
  campaigns: CampaignIR[];
  billing: BillingIR;
}
