/**
 * The whole schedule of programme steps one customer gets, as `rebound test` compares it with a
 * case's `steps:`: every dunning step and the final action (days after the failed payment), every
 * card-expiry reminder (days before the card expires), every inactivity nudge whose rule applies
 * (days after the spell of inactivity began) and every win-back step (days after the cancellation),
 * each with the message it sends, rendered. A step with an offer is decided at the step's own due
 * time, as the tick decides it, and sends its fallback message when no offer is available.
 *
 * Stage: CLI, over the runtime's pure functions (dsl/runtime/programmes.ts, decide.ts, messages.ts).
 */

import type { EvalContext } from "../expr/types";
import type { DunningAction, StepIR } from "../rules/ruleset";
import { decideOffer, type OfferHistory } from "../runtime/decide";
import { messageVariables, renderSend } from "../runtime/messages";
import {
  DAY_MS,
  dunningPosition,
  inactivityDue,
  STEP_OFFER_CONTEXT,
  winbackPosition,
} from "../runtime/programmes";
import type { Ruleset } from "../runtime/ruleset";

export type Programme = "dunning" | "card_expiry" | "inactivity" | "winback";

/** One step a customer gets. */
export interface ScheduledStep {
  readonly programme: Programme;
  /** Days after the programme's start (null for a card reminder). */
  readonly day: number | null;
  /** A card reminder's days before the card expires (null otherwise). */
  readonly daysBefore: number | null;
  /** The inactivity rule's key. */
  readonly rule: string | null;
  /** The dunning cadence's or win-back sequence's key. */
  readonly sequence: string | null;
  readonly dueAt: number;
  /** The message sent (null: the step sends nothing, an offer step without an offer or a fallback). */
  readonly message: string | null;
  /** The offer the step carries (null: none was available); undefined for a step without an offer. */
  readonly offer?: string | null;
  /** The final dunning action's actions. */
  readonly final: DunningAction[] | null;
  readonly subject: string | null;
  readonly body: string | null;
}

interface Rendering {
  companyName: string;
  decisionId: string;
}

const ORDER: readonly Programme[] = ["dunning", "card_expiry", "inactivity", "winback"];

/** Every programme step of one customer, by due time. */
export function programmeSteps(
  ruleset: Ruleset,
  ctx: EvalContext,
  history: OfferHistory,
  rendering: Rendering,
): ScheduledStep[] {
  const steps = [
    ...dunningSteps(ruleset, ctx, rendering),
    ...cardSteps(ruleset, ctx, rendering),
    ...inactivitySteps(ruleset, ctx, history, rendering),
    ...winbackSteps(ruleset, ctx, history, rendering),
  ];
  return steps.sort((a, b) => a.dueAt - b.dueAt || ORDER.indexOf(a.programme) - ORDER.indexOf(b.programme));
}

function dunningSteps(ruleset: Ruleset, ctx: EvalContext, rendering: Rendering): ScheduledStep[] {
  const position = dunningPosition(ruleset, ctx);
  if (!position) return [];
  const sequence = position.cadence.ir.key;
  const final = position.cadence.ir.final;
  return [
    ...position.schedule.map((step) =>
      scheduled(ruleset, ctx, rendering, {
        programme: "dunning",
        day: step.day,
        sequence,
        dueAt: step.dueAt,
        message: step.message,
      }),
    ),
    scheduled(ruleset, ctx, rendering, {
      programme: "dunning",
      day: final.day,
      sequence,
      dueAt: position.finalDueAt,
      message: final.message,
      final: [...final.actions],
    }),
  ];
}

function cardSteps(ruleset: Ruleset, ctx: EvalContext, rendering: Rendering): ScheduledStep[] {
  const expiry = ruleset.cardExpiry;
  const expiresAt = ctx.customer.card_expires_at;
  if (!expiry || typeof expiresAt !== "number") return [];
  return expiry.daysBefore.map((daysBefore) =>
    scheduled(ruleset, ctx, rendering, {
      programme: "card_expiry",
      daysBefore,
      dueAt: expiresAt - daysBefore * DAY_MS,
      message: expiry.message,
    }),
  );
}

/** Each inactivity rule that applies to the customer when its threshold is crossed. */
function inactivitySteps(
  ruleset: Ruleset,
  ctx: EvalContext,
  history: OfferHistory,
  rendering: Rendering,
): ScheduledStep[] {
  const steps: ScheduledStep[] = [];
  for (const rule of ruleset.inactivity) {
    const spellStartedAt = [
      ctx.customer.last_active_at,
      ctx.customer.signed_up_at,
      ctx.customer.first_seen_at,
    ].find((value): value is number => typeof value === "number");
    if (spellStartedAt === undefined) continue;
    const dueAt = spellStartedAt + rule.ir.afterMs;
    const atDue = { ...ctx, now: Math.max(ctx.now, dueAt) };
    const due = inactivityDue(ruleset, atDue).find((d) => d.rule.ir.key === rule.ir.key);
    if (!due) continue;
    steps.push(
      stepWithOffer(ruleset, atDue, history, rendering, rule.ir.step, STEP_OFFER_CONTEXT.inactivity, {
        programme: "inactivity",
        day: rule.ir.afterMs / DAY_MS,
        rule: rule.ir.key,
        dueAt: due.dueAt,
      }),
    );
  }
  return steps;
}

function winbackSteps(
  ruleset: Ruleset,
  ctx: EvalContext,
  history: OfferHistory,
  rendering: Rendering,
): ScheduledStep[] {
  const position = winbackPosition(ruleset, ctx);
  if (!position) return [];
  return position.schedule.map((step) =>
    stepWithOffer(
      ruleset,
      { ...ctx, now: step.dueAt },
      history,
      rendering,
      step,
      STEP_OFFER_CONTEXT.winback,
      {
        programme: "winback",
        day: step.day ?? 0,
        sequence: position.sequence.ir.key,
        dueAt: step.dueAt,
      },
    ),
  );
}

/** A step that may carry an offer, decided at its due time (`ctx.now`) as the tick decides it. */
function stepWithOffer(
  ruleset: Ruleset,
  ctx: EvalContext,
  history: OfferHistory,
  rendering: Rendering,
  step: StepIR,
  context: "in_app" | "winback",
  where: Pick<ScheduledStep, "programme" | "day" | "dueAt"> &
    Partial<Pick<ScheduledStep, "rule" | "sequence">>,
): ScheduledStep {
  if (step.offer === null) return scheduled(ruleset, ctx, rendering, { ...where, message: step.message });
  const decision = decideOffer(ruleset, ctx, {
    context,
    history,
    ...(step.offer === "best" ? {} : { only: [step.offer] }),
  });
  const offer = decision.offer;
  if (offer) {
    return scheduled(
      ruleset,
      ctx,
      rendering,
      { ...where, message: step.message ?? offer.message, offer: offer.key },
      offer,
    );
  }
  return scheduled(ruleset, ctx, rendering, { ...where, message: step.fallbackMessage, offer: null });
}

function scheduled(
  ruleset: Ruleset,
  ctx: EvalContext,
  rendering: Rendering,
  step: Partial<ScheduledStep> & Pick<ScheduledStep, "programme" | "dueAt" | "message">,
  offer: Parameters<typeof messageVariables>[1]["offer"] = null,
): ScheduledStep {
  const variables = messageVariables(ruleset, {
    customer: ctx.customer,
    companyName: rendering.companyName,
    offer,
  });
  if (offer) variables.decision_id = rendering.decisionId;
  const rendered =
    step.message === null ? null : renderSend(ruleset, step.message, variables, rendering.companyName);
  return {
    day: null,
    daysBefore: null,
    rule: null,
    sequence: null,
    final: null,
    ...step,
    subject: rendered?.subject ?? null,
    body: rendered?.body ?? null,
  };
}
