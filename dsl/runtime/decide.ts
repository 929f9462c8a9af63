/**
 * The next-offer decision: a pure function of the ruleset, one customer's context, where the app is
 * asking from, and the customer's offer history. The decision API (issue 4), campaign steps with
 * offers (issue 5), `rebound test` and `rebound explain` all call `decideOffer`.
 *
 * Stage: runtime. Order of evaluation:
 *  1. A reason whose rules say `offers: false` (shutting_down) → no offer, `ineligible`.
 *  2. Offers in priority order: context, reason, segments, `when`, then the offer's own cap and
 *     cooldown. The first offer that passes is the match; the trace records every offer looked at.
 *  3. The ruleset's guards on the match: anti-abuse (`ineligible`), the cap across offers
 *     (`capped`), the cooldown between offers (`cooldown`). A cap or cooldown that names reward kinds
 *     counts only past offers of those kinds and limits only a match that may give one; like an
 *     offer's own cap, it passes the ask on to the next offer. The others are customer-wide.
 *  4. The match's experiment: the holdout gets nothing (`holdout`), a variant may swap reward/message.
 * Two ways, one answer: production runs the offers' compiled first-match program
 * (dsl/runtime/offer-program.ts) and builds no trace; `explain` evaluates offer by offer and records
 * every offer looked at and why, with the first failing condition and its values. Every field but
 * `trace` is the same either way (test/dsl/decide-paths.test.ts runs both).
 * `withdrawalOf` re-checks the customer-wide refusals (1 and the anti-abuse guard of 3) for an offer
 * the customer already holds. Nothing here reads a clock: `ctx.now` is the request's time.
 */

import type { Exchange } from "../expr/exchange";
import { firstMatchIn } from "../expr/first-match";
import type { EvalContext } from "../expr/types";
import type { OfferContext, OfferIR, RewardIR, RewardKind } from "../rules/ruleset";
import { assignVariant, inHoldout } from "./bucket";
import { type ConditionTrace, explainCondition } from "./explain";
import {
  type AskPlan,
  describeMatch,
  type MoneyReward,
  mayGive,
  noMatchSentence,
  type OfferProgram,
  offerProgramOf,
  oneLine,
  type PolicyLimits,
  refusalSentence,
  rewardKeysOf,
} from "./offer-program";
import { amountFor, rewardIn } from "./reward-currency";
import type { CompiledOffer, Ruleset } from "./ruleset";

/** One offer the customer was given before (any outcome), and when they redeemed it, if they did. */
export interface PastOffer {
  readonly offerKey: string;
  /**
   * The kind of reward it gave (RewardIR.kind, e.g. `amount_off`); null when unknown, which a cap
   * or cooldown scoped to reward kinds counts as in scope (the safe side).
   */
  readonly rewardKind: string | null;
  /** When the offer was decided (shown), epoch ms. */
  readonly at: number;
  readonly redeemedAt?: number | null;
}

/** What caps, cooldowns and the anti-abuse guard look at. */
export interface OfferHistory {
  /** Offers decided for this customer (declined, expired and accepted ones alike count). */
  readonly offers: readonly PastOffer[];
  /**
   * Cancellation times (epoch ms). The customer's `canceled_at` and `subscription.canceled` events
   * in `ctx.events` are added automatically.
   */
  readonly cancellations?: readonly number[];
}

export interface OfferRequest {
  readonly context: OfferContext;
  /** The reason picked in the cancel flow; defaults to the customer's `churn_reason`. */
  readonly reason?: string | null;
  readonly history?: OfferHistory;
  /** Consider only these offers (a campaign step naming one offer). */
  readonly only?: readonly string[];
  /**
   * Build the trace (`rebound explain` and `test`, the decision API's `?explain=1`): every offer looked
   * at and why, with the first failing condition and its values for offers whose segments or `when`
   * failed. Without it the decision runs the compiled program and its `trace` is empty.
   */
  readonly explain?: boolean;
}

export type OfferReasonCode =
  | "offered"
  | "no_matching_rule"
  | "capped"
  | "cooldown"
  | "holdout"
  | "ineligible";

export type OfferOutcome =
  | "chosen"
  | "held_out"
  | "blocked"
  | "not_in_context"
  | "reason_mismatch"
  | "not_in_segment"
  | "condition_failed"
  | "currency_mismatch"
  | "capped"
  | "cooldown"
  | "not_evaluated";

export interface OfferTraceEntry {
  readonly offer: string;
  readonly outcome: OfferOutcome;
  /** One sentence for people. */
  readonly detail: string;
  /** For `not_in_segment` / `condition_failed` with `explain`: the first failing condition. */
  readonly condition?: ConditionTrace;
  /** Where the offer is written (`file:line:col`). */
  readonly at: string;
}

export interface ChosenOffer {
  readonly key: string;
  readonly reward: RewardIR;
  readonly message: string;
  /** `now + reward.expiresAfterMs`. */
  readonly expiresAt: number;
}

export interface OfferDecision {
  readonly offer: ChosenOffer | null;
  readonly reasonCode: OfferReasonCode;
  /** One sentence: why this offer, or why none. */
  readonly why: string;
  /** The offer rule that matched (also when held out, capped or blocked). */
  readonly matched: string | null;
  readonly experiment: string | null;
  readonly variant: string | null;
  readonly holdout: boolean;
  /** The churn reason the decision used (request's or profile's). */
  readonly reason: string | null;
  readonly rulesetVersion: string;
  /**
   * The offers whose segments and conditions the decision evaluated (every offer shown in the
   * context that answers the reason, up to the one that decided), in priority order: what the
   * decision read, with or without a trace.
   */
  readonly evaluated: readonly string[];
  /** Every offer looked at and why it was or was not chosen; empty unless `explain`. */
  readonly trace: readonly OfferTraceEntry[];
}

/**
 * Decides the next offer for one customer.
 *
 * @example
 * decideOffer(ruleset, { now: Date.parse("2026-03-01T12:00:00Z"), customer, events },
 *   { context: "cancel_flow", reason: "too_expensive", history: { offers: [] } })
 */
export function decideOffer(ruleset: Ruleset, ctx: EvalContext, request: OfferRequest): OfferDecision {
  if (!request.explain) return inCustomerCurrency(ruleset, ctx, decideCompiled(ruleset, ctx, request));
  const decision = decideTraced(ruleset, ctx, request);
  return inCustomerCurrency(ruleset, ctx, { ...decision, evaluated: evaluatedOf(decision.trace) });
}

/**
 * The decision with its reward's amount and cost in the customer's currency
 * (dsl/runtime/reward-currency.ts): a GBP customer is offered the reward's GBP amount. The offer
 * was only chosen if it has one (else it was skipped as `currency_mismatch`).
 */
function inCustomerCurrency(ruleset: Ruleset, ctx: EvalContext, decision: OfferDecision): OfferDecision {
  const offer = decision.offer;
  if (offer === null || (offer.reward.amount === null && offer.reward.costs === undefined)) return decision;
  const reward = rewardIn(offer.reward, stringOrNull(ctx.customer.currency), ruleset.exchange);
  if (reward === null || reward === offer.reward) return decision;
  return { ...decision, offer: { ...offer, reward } };
}

/** The offers a trace shows were evaluated: past context and reason, and before the decision. */
function evaluatedOf(trace: readonly OfferTraceEntry[]): string[] {
  return trace
    .filter(
      (entry) =>
        entry.outcome !== "not_in_context" &&
        entry.outcome !== "reason_mismatch" &&
        entry.outcome !== "not_evaluated",
    )
    .map((entry) => entry.offer);
}

/** In a cancel flow the reason is known before any cancellation event: rules see it as churn_reason. */
function evaluationContext(ctx: EvalContext, request: OfferRequest): EvalContext {
  return request.reason != null
    ? { ...ctx, customer: { ...ctx.customer, churn_reason: request.reason } }
    : ctx;
}

const NO_HISTORY: OfferHistory = { offers: [] };
const NO_TRACE: readonly OfferTraceEntry[] = Object.freeze([]);
const NONE_EVALUATED: readonly string[] = Object.freeze([]);

/** What the compiled path keeps of an offer a cap or cooldown stopped (the trace entry's fields). */
interface Limited {
  readonly offer: string;
  readonly outcome: "capped" | "cooldown";
  readonly detail: string;
}

/**
 * The production path: the offers' first-match program skips those not shown in the context or not
 * answering the reason and evaluates the rest's segments and `when` in one loop. A match on a plain
 * offer (`OfferStep.plain`: nothing follows a match) is the answer; for any other, what follows a
 * match (currency, the offer's own cap and cooldown, the policy's guards, the experiment) is checked
 * for that offer only (`decideFrom`), in the order `decideTraced` checks it, with the same sentences.
 */
function decideCompiled(ruleset: Ruleset, ctx: EvalContext, request: OfferRequest): OfferDecision {
  const reason = reasonOf(ctx, request);
  const program = offerProgramOf(ruleset);
  const plan = program.plan(request.context, reason, request.only);
  if (plan.refusal !== null)
    return answer(ruleset, reason, NONE_EVALUATED, { reasonCode: "ineligible", why: plan.refusal });
  const evalCtx = evaluationContext(ctx, request);
  const index = firstMatchIn(program.rules, evalCtx, 0, plan.mask);
  if (index < 0) {
    const evaluated = plan.upTo(program.steps.length - 1);
    return answer(ruleset, reason, evaluated, {
      reasonCode: "no_matching_rule",
      why: plan.unmatchedWhy(reason),
    });
  }
  if (program.steps[index]!.plain) return offered(ruleset, program, plan, index, reason, ctx.now);
  return decideFrom(index, ruleset, ctx, evalCtx, request, program, plan, reason);
}

/** The answer that gives offer `index` its own reward and message (no experiment decided otherwise). */
function offered(
  ruleset: Ruleset,
  program: OfferProgram,
  plan: AskPlan,
  index: number,
  reason: string | null,
  now: number,
): OfferDecision {
  const step = program.steps[index]!;
  const reward = step.reward;
  // Written out whole (the shape `answer` gives every decision): the commonest answer.
  return {
    offer: { key: step.key, reward, message: step.ir.message, expiresAt: now + reward.expiresAfterMs },
    reasonCode: "offered",
    why: plan.matchedWhy(index),
    matched: step.key,
    experiment: null,
    variant: null,
    holdout: false,
    reason,
    rulesetVersion: ruleset.version,
    evaluated: plan.upTo(index),
    trace: NO_TRACE,
  };
}

/**
 * The decision once offer `first` matched and is not plain: its checks, and when they pass the ask
 * on, the next offers that match, until one is the answer or none is left.
 */
function decideFrom(
  first: number,
  ruleset: Ruleset,
  ctx: EvalContext,
  evalCtx: EvalContext,
  request: OfferRequest,
  program: OfferProgram,
  plan: AskPlan,
  reason: string | null,
): OfferDecision {
  const history = request.history ?? NO_HISTORY;
  const steps = program.steps;
  const mask = plan.mask;
  const customerCurrency = stringOrNull(evalCtx.customer.currency);
  let limited: Limited[] | null = null;
  let mismatched: Pick<Limited, "offer" | "detail">[] | null = null;
  for (let index = first; index >= 0; index = firstMatchIn(program.rules, evalCtx, index + 1, mask)) {
    const step = steps[index]!;
    const ir = step.ir;
    const mismatch = currencyMismatch(step.moneyRewards, customerCurrency, ruleset.exchange);
    if (mismatch) {
      if (!mismatched) mismatched = [];
      mismatched.push({ offer: step.key, detail: mismatch });
      continue;
    }
    // The offer's own cap and cooldown, then the policy's: a limit passes the ask on to the next offer.
    const own = ownLimit(ir, step.key, history, ctx.now);
    if (own) {
      if (!limited) limited = [];
      limited.push({ offer: step.key, ...own });
      continue;
    }
    const blocked = program.guarded ? guard(ruleset, ctx, history, step.policyLimits) : null;
    if (blocked?.scoped) {
      if (!limited) limited = [];
      limited.push({ offer: step.key, outcome: blocked.code, detail: blocked.why });
      continue;
    }
    const evaluated = plan.upTo(index);
    const matched = step.key;
    if (blocked)
      return answer(ruleset, reason, evaluated, { reasonCode: blocked.code, why: blocked.why, matched });
    const experiment = ir.experiment;
    if (!experiment) return offered(ruleset, program, plan, index, reason, ctx.now);
    const customerId = String(ctx.customer.id ?? "");
    if (inHoldout(experiment.key, customerId, experiment.holdoutPercent)) {
      const why = `in the ${experiment.holdoutPercent}% holdout of experiment ${experiment.key}`;
      return answer(ruleset, reason, evaluated, {
        reasonCode: "holdout",
        why,
        matched,
        experiment: experiment.key,
        holdout: true,
      });
    }
    const variant = assignVariant(experiment.key, customerId, experiment.variants);
    const chosen = chosenOffer(
      ruleset,
      step.key,
      variant?.reward ?? ir.reward,
      variant?.message ?? ir.message,
      ctx.now,
    );
    const why = `${plan.matchedWhy(index)}${variant ? `; variant ${variant.key} of ${experiment.key}` : ""}`;
    return answer(ruleset, reason, evaluated, {
      offer: chosen,
      reasonCode: "offered",
      why,
      matched,
      experiment: experiment.key,
      variant: variant?.key ?? null,
    });
  }
  const evaluated = plan.upTo(steps.length - 1);
  const firstLimited = limited?.[0];
  if (firstLimited) {
    const reasonCode = firstLimited.outcome === "cooldown" ? "cooldown" : "capped";
    return answer(ruleset, reason, evaluated, {
      reasonCode,
      why: limitedWhy(limited!),
      matched: firstLimited.offer,
    });
  }
  const why = noMatchWhy(request, reason, mismatched ?? []);
  return answer(ruleset, reason, evaluated, { reasonCode: "no_matching_rule", why });
}

/** What sets one answer apart; the rest are null (no offer, no match, no experiment) or false. */
interface Answer {
  readonly offer?: ChosenOffer;
  readonly reasonCode: OfferReasonCode;
  readonly why: string;
  readonly matched?: string;
  readonly experiment?: string;
  readonly variant?: string | null;
  readonly holdout?: boolean;
}

/** A decision without a trace, every field in one order (one object shape for every answer). */
function answer(
  ruleset: Ruleset,
  reason: string | null,
  evaluated: readonly string[],
  fields: Answer,
): OfferDecision {
  return {
    offer: fields.offer ?? null,
    reasonCode: fields.reasonCode,
    why: fields.why,
    matched: fields.matched ?? null,
    experiment: fields.experiment ?? null,
    variant: fields.variant ?? null,
    holdout: fields.holdout ?? false,
    reason,
    rulesetVersion: ruleset.version,
    evaluated,
    trace: NO_TRACE,
  };
}

function chosenOffer(
  ruleset: Ruleset,
  key: string,
  rewardKey: string,
  message: string,
  now: number,
): ChosenOffer {
  const reward = ruleset.rewards.get(rewardKey)!;
  return { key, reward, message, expiresAt: now + reward.expiresAfterMs };
}

/** The offer's own cap or cooldown that stops it, or null. */
function ownLimit(
  ir: OfferIR,
  key: string,
  history: OfferHistory,
  now: number,
): Omit<Limited, "offer"> | null {
  if (!ir.cap && ir.cooldownMs === null) return null;
  const mine = history.offers.filter((past) => past.offerKey === key);
  if (ir.cap && countWithin(mine, now, ir.cap.perMs) >= ir.cap.max) {
    return { outcome: "capped", detail: `already given ${ir.cap.max} time(s) within ${days(ir.cap.perMs)}` };
  }
  if (ir.cooldownMs !== null && lastWithin(mine, now, ir.cooldownMs)) {
    return { outcome: "cooldown", detail: `given less than ${days(ir.cooldownMs)} ago` };
  }
  return null;
}

/** The offer-by-offer path with the trace (`explain`); the oracle the compiled path agrees with. */
function decideTraced(
  ruleset: Ruleset,
  ctx: EvalContext,
  request: OfferRequest,
): Omit<OfferDecision, "evaluated"> {
  const reason = reasonOf(ctx, request);
  const evalCtx = evaluationContext(ctx, request);
  const history = request.history ?? NO_HISTORY;
  const base = {
    matched: null,
    experiment: null,
    variant: null,
    holdout: false,
    reason,
    rulesetVersion: ruleset.version,
  };
  const refused = refusedReason(ruleset, reason);
  if (refused) {
    // `?explain=1` still lists every offer: none was looked at, and this is why.
    const considered = ruleset.offers.filter((offer) => !request.only || request.only.includes(offer.key));
    const trace: OfferTraceEntry[] = [];
    pushNotEvaluated(trace, considered, refused);
    return { ...base, offer: null, reasonCode: "ineligible", why: refused, trace };
  }
  const trace: OfferTraceEntry[] = [];
  const limited: OfferTraceEntry[] = [];
  for (const [index, offer] of ruleset.offers.entries()) {
    if (request.only && !request.only.includes(offer.key)) continue;
    const entry = evaluateOffer(ruleset, offer, evalCtx, request, reason, history);
    trace.push(entry);
    if (entry.outcome === "capped" || entry.outcome === "cooldown") limited.push(entry);
    if (entry.outcome !== "chosen") continue;
    const rest = ruleset.offers.slice(index + 1).filter((o) => !request.only || request.only.includes(o.key));
    const blocked = guard(ruleset, ctx, history, policyLimitsOf(ruleset, offer.ir));
    if (blocked?.scoped) {
      // A cap or cooldown on some reward kinds limits this offer as its own cap would: a lesser
      // offer of another kind may still answer (a consultation when discounts are cooling down).
      const limitedEntry: OfferTraceEntry = { ...entry, outcome: blocked.code, detail: blocked.why };
      trace[trace.length - 1] = limitedEntry;
      limited.push(limitedEntry);
      continue;
    }
    if (blocked) {
      trace[trace.length - 1] = { ...entry, outcome: "blocked", detail: blocked.why };
      // The anti-abuse guard and a cap or cooldown on every kind are customer-wide: any later offer
      // would be blocked the same way.
      pushNotEvaluated(trace, rest, `${offer.key} matched first and was blocked (${blocked.why})`);
      return { ...base, matched: offer.key, offer: null, reasonCode: blocked.code, why: blocked.why, trace };
    }
    pushNotEvaluated(trace, rest, `${offer.key} matched first`);
    return choose(ruleset, offer, ctx, { ...base, matched: offer.key }, trace);
  }
  const first = limited[0];
  if (first) {
    return {
      ...base,
      offer: null,
      reasonCode: first.outcome === "cooldown" ? "cooldown" : "capped",
      why: limitedWhy(limited),
      matched: first.offer,
      trace,
    };
  }
  const mismatched = trace.filter((entry) => entry.outcome === "currency_mismatch");
  return {
    ...base,
    offer: null,
    reasonCode: "no_matching_rule",
    why: noMatchWhy(request, reason, mismatched),
    trace,
  };
}

/** Why no offer, when every offer that matched was stopped by a cap or cooldown (`limited`, in order). */
function limitedWhy(limited: readonly Pick<OfferTraceEntry, "offer" | "detail">[]): string {
  const first = limited[0]!;
  // One limit stopping them all (a scoped policy cooldown, say) is said once.
  const oneLimit = limited.every((entry) => entry.detail === first.detail);
  return limited.length === 1
    ? `the only matching offer was limited: ${first.detail}`
    : oneLimit
      ? `every matching offer was limited: ${first.detail} (${limited.map((entry) => entry.offer).join(", ")})`
      : `every matching offer was limited: ${limited.map((entry) => `${entry.offer} ${entry.detail}`).join("; ")}`;
}

/**
 * Why no offer matched. An offer that matched but for the currency is worth naming: the fix is in
 * the rules.
 */
function noMatchWhy(
  request: OfferRequest,
  reason: string | null,
  mismatched: readonly Pick<OfferTraceEntry, "offer" | "detail">[],
): string {
  const currencyNote =
    mismatched.length === 0
      ? ""
      : `; ${mismatched.map((entry) => `${entry.offer} would match, but ${entry.detail}`).join("; ")}`;
  return `${noMatchSentence(request.context, reason)}${currencyNote}`;
}

/**
 * Why an offer the customer already holds (outstanding, not yet answered) must be taken back, or
 * null when it stands. Stable answers keep an offer through later asks in any context; only what
 * refuses the customer every offer overrides that: a reason whose rules say `offers: false`
 * (the request's, else the profile's), and the anti-abuse guard (redeemed an offer, then canceled
 * again within the window; in a cancel flow, pass the ask's time among the cancellations).
 * An offer's own conditions, caps and cooldowns are not re-checked: they held when it was made.
 *
 * @example
 * const why = withdrawalOf(ruleset, ctx, { context: "cancel_flow", reason: "shutting_down" });
 */
export function withdrawalOf(ruleset: Ruleset, ctx: EvalContext, request: OfferRequest): string | null {
  return (
    refusedReason(ruleset, reasonOf(ctx, request)) ?? abuse(ruleset, ctx, request.history ?? { offers: [] })
  );
}

/** An offer the customer holds (outstanding, unanswered), as `heldOfferServes` looks at it. */
export interface HeldOffer {
  readonly offerKey: string;
  /** Where it was asked for, and the reason the rules used then. */
  readonly context: OfferContext;
  readonly reason: string | null;
}

/**
 * Why the offer the customer holds does not answer this ask, or null when it does and is returned
 * unchanged. Stable answers are for the same moment (polling, repeated page views), not across
 * moments: an ask from a context the offer's rule is not shown in (`contexts:`), or for a reason
 * its rule does not answer (`reasons:`), is decided afresh, and a new offer then supersedes the
 * held one. An offer whose rule is gone from the rules answers only its own context and reason.
 *
 * @example heldOfferServes(ruleset, { offerKey: "fading_points", context: "in_app", reason: null },
 *   { context: "cancel_flow", reason: "too_expensive" }) // "fading_points is shown only in in_app, …"
 */
export function heldOfferServes(
  ruleset: Ruleset,
  held: HeldOffer,
  request: Pick<OfferRequest, "context" | "reason">,
): string | null {
  const reason = request.reason ?? null;
  const rule = ruleset.offers.find((offer) => offer.key === held.offerKey)?.ir;
  if (!rule) {
    if (held.context !== request.context) {
      return `${held.offerKey} is no longer in the rules and was offered in ${held.context}, not ${request.context}`;
    }
    if (reason !== null && reason !== held.reason) {
      return `${held.offerKey} is no longer in the rules and was offered for ${held.reason ?? "no reason"}, not ${reason}`;
    }
    return null;
  }
  if (rule.contexts && !rule.contexts.includes(request.context)) {
    return `${held.offerKey} is shown only in ${rule.contexts.join(", ")}, not in ${request.context}`;
  }
  if (reason !== null && rule.reasons && !rule.reasons.includes(reason)) {
    return `${held.offerKey} answers ${rule.reasons.join(", ")}, not ${reason}`;
  }
  return null;
}

/**
 * Why a new offer must not take the place of the offer the customer holds, or null when it may.
 * An ask from the held offer's own context replaces it (the customer answered again, there); an
 * ask from another context replaces it only with an offer of higher priority, so a banner polling
 * in the app never swaps a cancel flow's save offer for a lesser nudge, and offers cannot take
 * turns superseding each other across contexts. A held offer whose rule is gone ranks lowest.
 *
 * @example heldOfferOutranks(ruleset, { offerKey: "price_high_value", context: "cancel_flow", reason },
 *   "fading_points", "in_app") // "price_high_value (priority 100) outranks fading_points (priority 10) …"
 */
export function heldOfferOutranks(
  ruleset: Ruleset,
  held: HeldOffer,
  offerKey: string,
  context: OfferContext,
): string | null {
  if (context === held.context) return null;
  const heldRule = ruleset.offers.find((offer) => offer.key === held.offerKey)?.ir;
  const newRule = ruleset.offers.find((offer) => offer.key === offerKey)?.ir;
  if (!heldRule || !newRule || newRule.priority > heldRule.priority) return null;
  return `${held.offerKey} (priority ${heldRule.priority}, offered in ${held.context}) outranks ${offerKey} (priority ${newRule.priority})`;
}

function reasonOf(ctx: EvalContext, request: OfferRequest): string | null {
  return request.reason ?? stringOrNull(ctx.customer.churn_reason);
}

function refusedReason(ruleset: Ruleset, reason: string | null): string | null {
  if (reason === null || ruleset.reasons.get(reason)?.offers !== false) return null;
  return refusalSentence(reason);
}

/** The anti-abuse guard: why the customer gets no offer after redeeming and churning again, or null. */
function abuse(ruleset: Ruleset, ctx: EvalContext, history: OfferHistory): string | null {
  const window = ruleset.offerPolicy.redeemedThenChurnedWithinMs;
  if (window === null) return null;
  const cancellations = cancellationsOf(ctx, history);
  const abused = history.offers.some((past) => {
    const redeemedAt = past.redeemedAt;
    if (redeemedAt == null) return false;
    return cancellations.some((at) => at > redeemedAt && at - redeemedAt <= window);
  });
  return abused ? `redeemed an offer and canceled again within ${days(window)}` : null;
}

function pushNotEvaluated(trace: OfferTraceEntry[], rest: readonly CompiledOffer[], detail: string): void {
  for (const offer of rest) {
    trace.push({
      offer: offer.key,
      outcome: "not_evaluated",
      detail,
      at: offer.ir.at,
    });
  }
}

function evaluateOffer(
  ruleset: Ruleset,
  offer: CompiledOffer,
  ctx: EvalContext,
  request: OfferRequest,
  reason: string | null,
  history: OfferHistory,
): OfferTraceEntry {
  const ir = offer.ir;
  const at = ir.at;
  const entry = (outcome: OfferOutcome, detail: string, condition?: ConditionTrace): OfferTraceEntry =>
    condition
      ? { offer: offer.key, outcome, detail, condition, at }
      : { offer: offer.key, outcome, detail, at };
  if (ir.contexts && !ir.contexts.includes(request.context)) {
    return entry("not_in_context", `shown only in ${ir.contexts.join(", ")}, not in ${request.context}`);
  }
  if (ir.reasons && (reason === null || !ir.reasons.includes(reason))) {
    return entry(
      "reason_mismatch",
      `answers ${ir.reasons.join(", ")}; the customer's reason is ${reason === null ? "unknown" : reason}`,
    );
  }
  for (const key of ir.segments) {
    const segment = ruleset.segments.get(key)!;
    if (!segment.when.test(ctx)) {
      const condition = request.explain ? explainCondition(ruleset, segment.when, ctx) : undefined;
      return entry("not_in_segment", `the customer is not in segment ${key}`, condition);
    }
  }
  if (offer.when && !offer.when.test(ctx)) {
    const condition = request.explain ? explainCondition(ruleset, offer.when, ctx) : undefined;
    const what = condition?.failure
      ? `\`${condition.failure.text}\` is ${condition.failure.result}`
      : "`when` does not hold";
    return entry("condition_failed", what, condition);
  }
  const mismatch = rewardCurrencyMismatch(ruleset, ir, ctx);
  if (mismatch) return entry("currency_mismatch", mismatch);
  const mine = history.offers.filter((past) => past.offerKey === offer.key);
  if (ir.cap && countWithin(mine, ctx.now, ir.cap.perMs) >= ir.cap.max) {
    return entry("capped", `already given ${ir.cap.max} time(s) within ${days(ir.cap.perMs)}`);
  }
  if (ir.cooldownMs !== null && lastWithin(mine, ctx.now, ir.cooldownMs)) {
    return entry("cooldown", `given less than ${days(ir.cooldownMs)} ago`);
  }
  return entry("chosen", describeMatch(ir, reason, ir.when ? oneLine(ir.when.source) : null));
}

/**
 * Why an offer's money reward cannot go to this customer, or null. A $10 credit is not £10: the
 * customer gets the amount the reward lists for their currency, else its amount converted with
 * `settings.exchange_rates` (dsl/runtime/reward-currency.ts); with neither the offer is skipped.
 * An unknown currency (a lead who never paid) is no obstacle.
 */
function rewardCurrencyMismatch(ruleset: Ruleset, ir: OfferIR, ctx: EvalContext): string | null {
  const customerCurrency = stringOrNull(ctx.customer.currency);
  if (customerCurrency === null) return null;
  for (const key of rewardKeysOf(ir)) {
    const reward = ruleset.rewards.get(key);
    if (
      reward?.amount &&
      reward.amount.currency !== customerCurrency &&
      amountFor(reward, customerCurrency, ruleset.exchange) === null
    ) {
      return currencyMismatchWhy(key, reward.amount.currency, customerCurrency);
    }
  }
  return null;
}

/** `rewardCurrencyMismatch` over an offer's money rewards, worked out when its program was compiled. */
function currencyMismatch(
  money: readonly MoneyReward[],
  customerCurrency: string | null,
  exchange: Exchange,
): string | null {
  if (customerCurrency === null) return null;
  for (const reward of money) {
    if (
      reward.currency !== customerCurrency &&
      amountFor(reward.reward, customerCurrency, exchange) === null
    ) {
      return currencyMismatchWhy(reward.key, reward.currency, customerCurrency);
    }
  }
  return null;
}

function currencyMismatchWhy(key: string, currency: string, customerCurrency: string): string {
  return `reward ${key} is in ${currency}; the customer pays in ${customerCurrency}, for which it lists no amount and settings.exchange_rates has no rate`;
}

/** Whether the offer policy's cap and cooldown may limit the offer `ir` (see `guard`). */
function policyLimitsOf(ruleset: Ruleset, ir: OfferIR): PolicyLimits {
  const policy = ruleset.offerPolicy;
  return {
    cap: policy.cap !== null && mayGive(ruleset, ir, policy.cap.rewardKinds),
    cooldown: policy.cooldown !== null && mayGive(ruleset, ir, policy.cooldown.rewardKinds),
  };
}

/**
 * The ruleset's guards on the matched offer; null when the customer may get it. A cap or cooldown
 * that names reward kinds limits only an offer that may give one of them (`applies`, from
 * `policyLimitsOf`), and counts only past offers of those kinds (or of an unknown kind).
 */
function guard(
  ruleset: Ruleset,
  ctx: EvalContext,
  history: OfferHistory,
  applies: PolicyLimits,
):
  | { code: "ineligible"; why: string; scoped: false }
  | { code: "capped" | "cooldown"; why: string; scoped: boolean }
  | null {
  const policy = ruleset.offerPolicy;
  const abused = abuse(ruleset, ctx, history);
  if (abused) return { code: "ineligible", why: abused, scoped: false };
  const cap = policy.cap;
  if (
    cap &&
    applies.cap &&
    countWithin(inScope(history.offers, cap.rewardKinds), ctx.now, cap.perMs) >= cap.max
  ) {
    const what = cap.rewardKinds ? `${kindList(cap.rewardKinds)} offer(s)` : "offer(s)";
    return {
      code: "capped",
      why: `already given ${cap.max} ${what} within ${days(cap.perMs)}`,
      scoped: cap.rewardKinds !== null,
    };
  }
  const cooldown = policy.cooldown;
  if (
    cooldown &&
    applies.cooldown &&
    lastWithin(inScope(history.offers, cooldown.rewardKinds), ctx.now, cooldown.forMs)
  ) {
    const what = cooldown.rewardKinds ? withArticle(`${kindList(cooldown.rewardKinds)} offer`) : "an offer";
    return {
      code: "cooldown",
      why: `${what} was given less than ${days(cooldown.forMs)} ago`,
      scoped: cooldown.rewardKinds !== null,
    };
  }
  return null;
}

/** The past offers a limit on `kinds` counts: those of a kind in it, or of an unknown kind. */
function inScope(offers: readonly PastOffer[], kinds: readonly RewardKind[] | null): readonly PastOffer[] {
  if (kinds === null) return offers;
  return offers.filter(
    (past) => past.rewardKind === null || (kinds as readonly string[]).includes(past.rewardKind),
  );
}

/** `amount_off, percent_off or credit`. */
function kindList(kinds: readonly RewardKind[]): string {
  return kinds.length === 1 ? kinds[0]! : `${kinds.slice(0, -1).join(", ")} or ${kinds.at(-1)}`;
}

function withArticle(phrase: string): string {
  return `${/^[aeiou]/.test(phrase) ? "an" : "a"} ${phrase}`;
}

function choose(
  ruleset: Ruleset,
  offer: CompiledOffer,
  ctx: EvalContext,
  base: Omit<OfferDecision, "offer" | "reasonCode" | "why" | "trace" | "evaluated">,
  trace: OfferTraceEntry[],
): Omit<OfferDecision, "evaluated"> {
  const customerId = String(ctx.customer.id ?? "");
  const experiment = offer.ir.experiment;
  const chosenIndex = trace.findIndex((t) => t.offer === offer.key);
  const chosen = trace[chosenIndex]!;
  if (experiment && inHoldout(experiment.key, customerId, experiment.holdoutPercent)) {
    trace[chosenIndex] = {
      ...chosen,
      outcome: "held_out",
      detail: `${chosen.detail}; in the holdout of ${experiment.key}`,
    };
    return {
      ...base,
      offer: null,
      reasonCode: "holdout",
      why: `in the ${experiment.holdoutPercent}% holdout of experiment ${experiment.key}`,
      experiment: experiment.key,
      holdout: true,
      trace,
    };
  }
  const variant = experiment ? assignVariant(experiment.key, customerId, experiment.variants) : null;
  const rewardKey = variant?.reward ?? offer.ir.reward;
  const reward = ruleset.rewards.get(rewardKey)!;
  const message = variant?.message ?? offer.ir.message;
  return {
    ...base,
    offer: { key: offer.key, reward, message, expiresAt: ctx.now + reward.expiresAfterMs },
    reasonCode: "offered",
    why: `${offer.key}: ${chosen.detail}${variant ? `; variant ${variant.key} of ${experiment!.key}` : ""}`,
    experiment: experiment?.key ?? null,
    variant: variant?.key ?? null,
    trace,
  };
}

function countWithin(offers: readonly PastOffer[], now: number, windowMs: number): number {
  return offers.filter((past) => past.at <= now && now - past.at < windowMs).length;
}

function lastWithin(offers: readonly PastOffer[], now: number, windowMs: number): boolean {
  return offers.some((past) => past.at <= now && now - past.at < windowMs);
}

function cancellationsOf(ctx: EvalContext, history: OfferHistory): number[] {
  const times = [...(history.cancellations ?? [])];
  const canceledAt = ctx.customer.canceled_at;
  if (typeof canceledAt === "number") times.push(canceledAt);
  for (const event of ctx.events) if (event.type === "subscription.canceled") times.push(event.occurred_at);
  return times;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function days(ms: number): string {
  const d = ms / 86_400_000;
  return Number.isInteger(d) ? `${d}d` : `${Math.round(ms / 3_600_000)}h`;
}
