/**
 * The offer list compiled for production decisions: every offer's segments and `when` in one
 * first-match program (dsl/expr/first-match.ts), which offers a context and a reason may show as a
 * mask the program skips by, and what the currency check and the offer policy ask of each offer,
 * worked out once. Built on a ruleset's first decision and kept beside it for the ruleset's life.
 *
 * Stage: runtime, after the compiled ruleset (dsl/runtime/ruleset.ts); dsl/runtime/decide.ts runs it
 * when no trace is asked for (with `explain` it evaluates offer by offer and says why each failed).
 */

import type { Expr } from "../expr/ast";
import { compileRules, type RuleProgram } from "../expr/first-match";
import type { OfferContext, OfferIR, RewardIR, RewardKind } from "../rules/ruleset";
import type { Ruleset } from "./ruleset";

/** A money reward an offer may give (its own or a variant's), in the order the currency check names them. */
export interface MoneyReward {
  readonly key: string;
  readonly currency: string;
  readonly reward: RewardIR;
}

/** What a decision needs of one offer once it matched, worked out when the program is compiled. */
export interface OfferStep {
  readonly key: string;
  readonly ir: OfferIR;
  /** Its own reward (an experiment's variant may give another). */
  readonly reward: RewardIR;
  /** Its money rewards; empty when no customer's currency can rule it out. */
  readonly moneyRewards: readonly MoneyReward[];
  /** Whether the offer policy's cap, and its cooldown, may limit it (`reward_kinds`). */
  readonly policyLimits: PolicyLimits;
  /**
   * Whether a match is the answer as it stands: no money reward to check against the customer's
   * currency, no cap or cooldown of its own, no offer policy and no experiment. Most offers are.
   */
  readonly plain: boolean;
}

export interface OfferProgram {
  /**
   * Over `ruleset.offers` in order, for `firstMatchIn`: an offer holds when the customer is in its
   * segments and its `when` holds.
   */
  readonly rules: RuleProgram;
  /** Per offer, in `ruleset.offers` order. */
  readonly steps: readonly OfferStep[];
  /** Whether the ruleset has an offer policy: without one, no guard can stop a match. */
  readonly guarded: boolean;
  /**
   * What an ask in `context` for `reason` may get, worked out on the first such ask. With `only`, a
   * plan for this ask alone.
   */
  plan(context: OfferContext, reason: string | null, only: readonly string[] | undefined): AskPlan;
}

/** What one kind of ask (a context and a reason) may get, before any condition is evaluated. */
export class AskPlan {
  /**
   * 1 for an offer shown in the context that answers the reason (and is named in `only`), else 0;
   * undefined when every offer is (the program then checks no mask).
   */
  readonly mask: Uint8Array | undefined;
  /** Why the reason's rules say `offers: false` (no offer at all), or null when they do not. */
  readonly refusal: string | null;
  private readonly context: OfferContext;
  /**
   * The reason this plan was worked out for; null for no reason, and for a plan that also serves
   * reasons that tell nothing (an undeclared one; any, with `only`).
   */
  private readonly reason: string | null;
  private readonly keys: readonly string[];
  private readonly prefixes: (readonly string[] | undefined)[] = [];
  private readonly matched: (string | undefined)[] = [];
  private unmatched: string | null = null;
  private readonly describe: (index: number) => string;

  constructor(
    context: OfferContext,
    reason: string | null,
    keys: readonly string[],
    mask: Uint8Array,
    refuses: boolean,
    describe: (index: number) => string,
  ) {
    this.context = context;
    this.reason = reason;
    this.keys = keys;
    this.mask = mask.every((bit) => bit === 1) ? undefined : mask;
    this.refusal = refuses && reason !== null ? refusalSentence(reason) : null;
    this.describe = describe;
  }

  /** The keys of the eligible offers up to and including offer `index`, in order (shared: do not change). */
  upTo(index: number): readonly string[] {
    let keys = this.prefixes[index];
    if (!keys) {
      const list: string[] = [];
      for (let i = 0; i <= index; i++) if (!this.mask || this.mask[i] === 1) list.push(this.keys[i]!);
      keys = Object.freeze(list);
      this.prefixes[index] = keys;
    }
    return keys;
  }

  /** `offer: matched: …`, the sentence that says why offer `index` matched this ask. */
  matchedWhy(index: number): string {
    let why = this.matched[index];
    if (why === undefined) {
      why = this.describe(index);
      this.matched[index] = why;
    }
    return why;
  }

  /** `no offer matches in context …`, the sentence for an ask with `reason` that nothing matched. */
  unmatchedWhy(reason: string | null): string {
    // A plan may serve asks for other reasons (an undeclared one, with `only`): said afresh for them.
    if (reason !== this.reason) return noMatchSentence(this.context, reason);
    this.unmatched ??= noMatchSentence(this.context, reason);
    return this.unmatched;
  }
}

/**
 * Why no offer matched an ask, before any note about offers a currency ruled out.
 *
 * @example noMatchSentence("in_app", null) // "no offer matches in context `in_app`"
 */
export function noMatchSentence(context: OfferContext, reason: string | null): string {
  return `no offer matches in context \`${context}\`${reason ? ` for reason \`${reason}\`` : ""}`;
}

/**
 * Why a customer who leaves for `reason` gets no offer, when its rules say `offers: false`.
 *
 * @example refusalSentence("shutting_down") // "customers who leave for `shutting_down` never get an offer"
 */
export function refusalSentence(reason: string): string {
  return `customers who leave for \`${reason}\` never get an offer`;
}

/** Whether the offer policy's cap and cooldown apply to an offer (a limit naming reward kinds may not). */
export interface PolicyLimits {
  readonly cap: boolean;
  readonly cooldown: boolean;
}

const programs = new WeakMap<Ruleset, OfferProgram>();
// The ruleset asked for last: a Worker decides with one ruleset, which then costs no map lookup.
let lastRuleset: Ruleset | null = null;
let lastProgram: OfferProgram | null = null;

/**
 * The ruleset's offer program, compiled on first use and then shared by every decision.
 *
 * @example
 * const program = offerProgramOf(ruleset);
 * const index = program.firstMatch(ctx, 0, program.plan("cancel_flow", "too_expensive", undefined).mask);
 */
export function offerProgramOf(ruleset: Ruleset): OfferProgram {
  if (ruleset === lastRuleset && lastProgram) return lastProgram;
  let program = programs.get(ruleset);
  if (!program) {
    program = compileOfferProgram(ruleset);
    programs.set(ruleset, program);
  }
  lastRuleset = ruleset;
  lastProgram = program;
  return program;
}

function compileOfferProgram(ruleset: Ruleset): OfferProgram {
  const offers = ruleset.offers;
  const segmentAst = (key: string): Expr => {
    const segment = ruleset.segments.get(key);
    if (!segment) throw new Error(`offer refers to unknown segment ${key}`);
    return segment.when.ir.ast;
  };
  // A segment inlined as its own conditions, so its column tests run in the program's one loop.
  const rules = offers.map((offer) => [
    ...offer.ir.segments.map(segmentAst),
    ...(offer.when ? [offer.when.ir.ast] : []),
  ]);
  const ruleProgram = compileRules(rules, {
    scope: ruleset.scope,
    segment: (name) => {
      const segment = ruleset.segments.get(name);
      if (!segment) throw new Error(`condition refers to unknown segment ${name}`);
      return segment.when.membership;
    },
  });
  const policy = ruleset.offerPolicy;
  const guarded =
    policy.cap !== null || policy.cooldown !== null || policy.redeemedThenChurnedWithinMs !== null;
  const steps = offers.map(({ ir, key }): OfferStep => {
    const reward = ruleset.rewards.get(ir.reward);
    if (!reward) throw new Error(`offer ${key} gives unknown reward ${ir.reward}`);
    const moneyRewards = rewardKeysOf(ir).flatMap((rewardKey) => {
      const reward = ruleset.rewards.get(rewardKey);
      return reward?.amount ? [{ key: rewardKey, currency: reward.amount.currency, reward }] : [];
    });
    return {
      key,
      ir,
      reward,
      moneyRewards,
      policyLimits: {
        cap: policy.cap !== null && mayGive(ruleset, ir, policy.cap.rewardKinds),
        cooldown: policy.cooldown !== null && mayGive(ruleset, ir, policy.cooldown.rewardKinds),
      },
      plain: moneyRewards.length === 0 && !ir.cap && ir.cooldownMs === null && !guarded && !ir.experiment,
    };
  });
  const whenText = offers.map((offer) => (offer.ir.when ? oneLine(offer.ir.when.source) : null));
  const keys = offers.map((offer) => offer.key);
  // The reasons that change an answer: those some offer answers, and those that refuse every offer.
  const answered = new Set(offers.flatMap((offer) => offer.ir.reasons ?? []));
  const telling = new Set([
    ...answered,
    ...[...ruleset.reasons].filter(([, reason]) => !reason.offers).map(([key]) => key),
  ]);
  const planOf = (context: OfferContext, reason: string | null, only: readonly string[] | undefined) => {
    const mask = Uint8Array.from(offers, ({ ir, key }) =>
      (!ir.contexts || ir.contexts.includes(context)) &&
      (!ir.reasons || (reason !== null && ir.reasons.includes(reason))) &&
      (!only || only.includes(key))
        ? 1
        : 0,
    );
    const refuses = reason !== null && ruleset.reasons.get(reason)?.offers === false;
    return new AskPlan(context, reason, keys, mask, refuses, (index) => {
      const ir = offers[index]!.ir;
      return `${ir.key}: ${describeMatch(ir, reason, whenText[index]!)}`;
    });
  };
  // Per context (a handful): the plan for no reason, and one per declared reason asked so far. An
  // undeclared reason tells nothing (no offer answers it, none refuses it): it is asked as none is,
  // and not remembered, since an ask may name any reason and memory stays bounded.
  const contexts: ContextPlans[] = [];
  // The context asked for last: asks come in runs of one context, which then cost no lookup.
  let current: ContextPlans | null = null;
  const plansFor = (context: OfferContext): ContextPlans => {
    let plans = contexts.find((candidate) => candidate.context === context);
    if (!plans) {
      plans = { context, withoutReason: planOf(context, null, undefined), byReason: new Map() };
      contexts.push(plans);
    }
    return plans;
  };
  const reasonPlan = (plans: ContextPlans, reason: string): AskPlan => {
    if (!telling.has(reason) && !ruleset.reasons.has(reason)) return plans.withoutReason;
    const plan = planOf(plans.context, reason, undefined);
    plans.byReason.set(reason, plan);
    return plan;
  };
  return {
    rules: ruleProgram,
    steps,
    guarded,
    plan(context, reason, only) {
      if (only) return planOf(context, reason !== null && telling.has(reason) ? reason : null, only);
      let plans = current;
      if (plans === null || plans.context !== context) {
        plans = plansFor(context);
        current = plans;
      }
      if (reason === null) return plans.withoutReason;
      return plans.byReason.get(reason) ?? reasonPlan(plans, reason);
    },
  };
}

/** The plans of one context: for no reason, and for each declared reason asked so far. */
interface ContextPlans {
  readonly context: OfferContext;
  readonly withoutReason: AskPlan;
  readonly byReason: Map<string, AskPlan>;
}

/**
 * Why an offer matched, in one sentence (`whenText`: its `when` on one line, null: none).
 *
 * @example describeMatch(ir, "too_expensive", null) // "matched: reason is too_expensive; in segment high_value"
 */
export function describeMatch(ir: OfferIR, reason: string | null, whenText: string | null): string {
  const parts: string[] = [];
  if (ir.reasons && reason) parts.push(`reason is ${reason}`);
  if (ir.segments.length > 0) parts.push(`in segment ${ir.segments.join(", ")}`);
  if (whenText !== null) parts.push(`\`${whenText}\` holds`);
  return parts.length > 0 ? `matched: ${parts.join("; ")}` : "matched (no conditions)";
}

/** The rewards an offer may give: its own, and each experiment variant's. */
export function rewardKeysOf(ir: OfferIR): string[] {
  return [ir.reward, ...(ir.experiment?.variants ?? []).map((variant) => variant.reward ?? ir.reward)];
}

/** Whether the offer may give a reward of one of `kinds` (null: every kind). */
export function mayGive(ruleset: Ruleset, ir: OfferIR, kinds: readonly RewardKind[] | null): boolean {
  if (kinds === null) return true;
  return rewardKeysOf(ir).some((key) => {
    const kind = ruleset.rewards.get(key)?.kind;
    return kind === undefined || kinds.includes(kind);
  });
}

/** An expression's source on one line, as the sentences about a match quote it. */
export function oneLine(source: string): string {
  return source.replace(/\s+/g, " ").trim();
}
