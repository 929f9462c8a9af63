/**
 * The scheduled programmes as pure functions of (ruleset, customer, now): which dunning step, card
 * reminder, inactivity nudge, win-back step and campaign variant applies. The campaign runner
 * (issue 5) calls these per customer and adds what only storage knows (what was already sent);
 * `rebound test` calls them to check expectations.
 *
 * Stage: runtime. Day N of a sequence is `start + N × 24h` in UTC milliseconds, so a step is due at
 * the same instant whatever tick evaluates it.
 */

import type { EvalContext } from "../expr/types";
import type { CampaignVariantIR, StepIR } from "../rules/ruleset";
import { assignVariant, inHoldout } from "./bucket";
import type {
  CompiledCampaign,
  CompiledDunning,
  CompiledInactivity,
  CompiledWinback,
  Ruleset,
} from "./ruleset";

export const DAY_MS = 86_400_000;

/** Where a customer stands in a dunning cadence at `now`. */
export interface DunningPosition {
  readonly cadence: CompiledDunning;
  readonly paymentFailedAt: number;
  /** Whole days since the failure. */
  readonly daysSinceFailure: number;
  /** The latest step due (index into `cadence.ir.steps`), or null before day 0 (never). */
  readonly stepIndex: number | null;
  /** True once the final action's day has come. */
  readonly final: boolean;
  /** Every step with its due time, for the runner to send what is due and not yet sent. */
  readonly schedule: readonly { readonly day: number; readonly message: string; readonly dueAt: number }[];
  readonly finalDueAt: number;
}

/**
 * The dunning cadence that applies to a customer with an open failed payment (the first whose
 * `when` holds, in rule order), and how far along it they are; null without an open failure.
 */
export function dunningPosition(ruleset: Ruleset, ctx: EvalContext): DunningPosition | null {
  const failedAt = ctx.customer.payment_failed_at;
  if (typeof failedAt !== "number") return null;
  const cadence = ruleset.dunning.find((c) => !c.when || c.when.test(ctx));
  if (!cadence) return null;
  const elapsed = ctx.now - failedAt;
  const daysSinceFailure = Math.floor(elapsed / DAY_MS);
  let stepIndex: number | null = null;
  cadence.ir.steps.forEach((step, index) => {
    if (elapsed >= step.day * DAY_MS) stepIndex = index;
  });
  return {
    cadence,
    paymentFailedAt: failedAt,
    daysSinceFailure,
    stepIndex,
    final: elapsed >= cadence.ir.final.day * DAY_MS,
    schedule: cadence.ir.steps.map((step) => ({ ...step, dueAt: failedAt + step.day * DAY_MS })),
    finalDueAt: failedAt + cadence.ir.final.day * DAY_MS,
  };
}

/** Card-expiry reminders due at `now` (each `daysBefore` once, until the card expires). */
export function cardRemindersDue(
  ruleset: Ruleset,
  ctx: EvalContext,
): { readonly daysBefore: number; readonly dueAt: number; readonly message: string }[] {
  const expiry = ruleset.cardExpiry;
  const expiresAt = ctx.customer.card_expires_at;
  if (!expiry || typeof expiresAt !== "number" || ctx.now >= expiresAt) return [];
  return expiry.daysBefore
    .map((daysBefore) => ({ daysBefore, dueAt: expiresAt - daysBefore * DAY_MS, message: expiry.message }))
    .filter((reminder) => reminder.dueAt <= ctx.now);
}

/** An inactivity rule whose threshold the customer has crossed in the current spell. */
export interface InactivityDue {
  readonly rule: CompiledInactivity;
  /** When the spell of inactivity began (last activity, else sign-up, else first seen). */
  readonly spellStartedAt: number;
  readonly dueAt: number;
}

/**
 * Inactivity steps due for an active customer. The runner sends each (rule, spellStartedAt) once:
 * new activity starts a new spell.
 */
export function inactivityDue(ruleset: Ruleset, ctx: EvalContext): InactivityDue[] {
  if (ctx.customer.status !== "active") return [];
  const spellStartedAt = [
    ctx.customer.last_active_at,
    ctx.customer.signed_up_at,
    ctx.customer.first_seen_at,
  ].find((value): value is number => typeof value === "number");
  if (spellStartedAt === undefined) return [];
  const due: InactivityDue[] = [];
  for (const rule of ruleset.inactivity) {
    const dueAt = spellStartedAt + rule.ir.afterMs;
    if (ctx.now < dueAt) continue;
    if (rule.ir.plans && !rule.ir.plans.includes(String(ctx.customer.plan))) continue;
    if (rule.ir.segment && !ruleset.segments.get(rule.ir.segment)!.when.test(ctx)) continue;
    if (rule.when && !rule.when.test(ctx)) continue;
    due.push({ rule, spellStartedAt, dueAt });
  }
  return due;
}

/** Where a canceled customer stands in the win-back sequence for their reason. */
export interface WinbackPosition {
  readonly sequence: CompiledWinback;
  readonly canceledAt: number;
  /** The latest step due (index into `sequence.ir.steps`), or null before the first. */
  readonly stepIndex: number | null;
  readonly schedule: readonly (StepIR & { readonly dueAt: number })[];
}

/** The win-back sequence of a canceled customer's churn reason; null when none applies. */
export function winbackPosition(ruleset: Ruleset, ctx: EvalContext): WinbackPosition | null {
  const canceledAt = ctx.customer.canceled_at;
  const reason = ctx.customer.churn_reason;
  if (ctx.customer.status !== "canceled" || typeof canceledAt !== "number" || typeof reason !== "string")
    return null;
  const sequence = ruleset.winback.find(
    (s) => s.ir.reasons.includes(reason) && (!s.when || s.when.test(ctx)),
  );
  if (!sequence) return null;
  let stepIndex: number | null = null;
  const schedule = sequence.ir.steps.map((step, index) => {
    const dueAt = canceledAt + (step.day ?? 0) * DAY_MS;
    if (ctx.now >= dueAt) stepIndex = index;
    return { ...step, dueAt };
  });
  return { sequence, canceledAt, stepIndex, schedule };
}

/** A customer's place in a campaign's experiment. */
export interface CampaignAssignment {
  readonly experiment: string | null;
  /** Held out: in the audience, sent nothing, counted for lift. */
  readonly holdout: boolean;
  readonly variant: string | null;
  /** The steps this customer gets (empty when held out). */
  readonly steps: readonly StepIR[];
}

/** Holdout and variant of one customer for a campaign (dsl/runtime/bucket.ts; same as decisions). */
export function campaignAssignment(campaign: CompiledCampaign, customerId: string): CampaignAssignment {
  const experiment = campaign.ir.experiment;
  if (!experiment) return { experiment: null, holdout: false, variant: null, steps: campaign.ir.steps };
  if (inHoldout(experiment.key, customerId, experiment.holdoutPercent)) {
    return { experiment: experiment.key, holdout: true, variant: null, steps: [] };
  }
  const variant: CampaignVariantIR | null = assignVariant(experiment.key, customerId, experiment.variants);
  return {
    experiment: experiment.key,
    holdout: false,
    variant: variant?.key ?? null,
    steps: variant?.steps ?? campaign.ir.steps,
  };
}

/** Whether a customer is in a campaign's audience (closures; the runner uses `audienceSql`). */
export function inCampaignAudience(campaign: CompiledCampaign, ctx: EvalContext): boolean {
  return campaign.audience.test(ctx);
}

/** Whether one more message of a frequency-cap class may go out, given the class's earlier send times. */
export function frequencyCapAllows(
  ruleset: Ruleset,
  capKey: string | null,
  sentAt: readonly number[],
  now: number,
): boolean {
  if (capKey === null) return true;
  const cap = ruleset.frequencyCaps.get(capKey);
  if (!cap) return true;
  return sentAt.filter((at) => at <= now && now - at < cap.perMs).length < cap.max;
}

/**
 * The offer context a step's `offer:` is decided in: inactivity nudges reach active customers
 * (`in_app` offers), win-back sequences canceled ones (`winback`); a campaign names its own
 * (`campaign.ir.offerContext`, default `winback`).
 */
export const STEP_OFFER_CONTEXT = Object.freeze({ inactivity: "in_app", winback: "winback" } as const);

/**
 * When each campaign step is due for an occurrence that started at `startMs`: the first step at the
 * occurrence, each later one `afterMs` after the previous.
 */
export function campaignStepTimes(steps: readonly StepIR[], startMs: number): number[] {
  let at = startMs;
  return steps.map((step) => {
    at += step.afterMs ?? 0;
    return at;
  });
}
