/**
 * "Inputs that mattered": what a stored decision records about why it came out as it did: the
 * request, the reason the rules used, the profile values and segment memberships the evaluated
 * offers read, how much event and offer history there was, and the experiment buckets. Enough to
 * audit one decision or to slice lift by segment without re-running the rules.
 */
import type { EvalContext, Expr, OfferDecision, Ruleset } from "../../dsl";
import { bucketOf } from "../../dsl";
import type { DecisionState } from "./read-state";

/** The request as the engine received it (after defaults). */
export interface DecisionRequestInputs {
  readonly context: string;
  readonly reason: string | null;
  readonly attributes: Readonly<Record<string, unknown>> | null;
  readonly only: readonly string[] | null;
}

interface OfferReads {
  readonly fields: ReadonlySet<string>;
  readonly segments: ReadonlySet<string>;
}

// Per compiled ruleset: what each offer reads (its `when` and its segments, transitively).
const readsCache = new WeakMap<Ruleset, Map<string, OfferReads>>();

/** The inputs record of one evaluated decision. */
export function inputsThatMattered(
  ruleset: Ruleset,
  ctx: EvalContext,
  request: DecisionRequestInputs,
  decision: OfferDecision,
  state: DecisionState,
): Record<string, unknown> {
  const fields = new Set<string>();
  const segments = new Set<string>();
  for (const entry of decision.trace) {
    if (entry.outcome === "not_in_context" || entry.outcome === "reason_mismatch") continue;
    if (entry.outcome === "not_evaluated") continue;
    const reads = offerReads(ruleset, entry.offer);
    for (const field of reads.fields) fields.add(field);
    for (const segment of reads.segments) segments.add(segment);
  }
  const profile: Record<string, unknown> = {};
  for (const name of [...fields].sort()) profile[name] = ruleset.scope.fields.get(name)?.read(ctx) ?? null;
  const membership: Record<string, boolean> = {};
  for (const key of [...segments].sort())
    membership[key] = ruleset.segments.get(key)?.when.test(ctx) ?? false;
  const customerId = String(ctx.customer.id ?? "");
  const lastOfferAt = state.offers.reduce<number | null>(
    (latest, offer) => (latest === null || offer.at > latest ? offer.at : latest),
    null,
  );
  return {
    request,
    reason_used: decision.reason,
    reason_from: request.reason !== null ? "request" : decision.reason !== null ? "profile" : null,
    matched: decision.matched,
    profile,
    segments: membership,
    events: { considered: state.events.length, truncated: state.eventsTruncated },
    history: {
      offers: state.offers.length,
      last_offer_at: lastOfferAt === null ? null : new Date(lastOfferAt).toISOString(),
      redemptions: state.offers.filter((offer) => offer.redeemedAt != null).length,
      cancellations: state.cancellations.length,
    },
    buckets: decision.experiment
      ? {
          experiment: decision.experiment,
          holdout_point: bucketOf("holdout", decision.experiment, customerId),
          variant_point: bucketOf("variant", decision.experiment, customerId),
        }
      : null,
  };
}

function offerReads(ruleset: Ruleset, offerKey: string): OfferReads {
  let perOffer = readsCache.get(ruleset);
  if (!perOffer) {
    perOffer = new Map();
    readsCache.set(ruleset, perOffer);
  }
  const cached = perOffer.get(offerKey);
  if (cached) return cached;
  const fields = new Set<string>();
  const segments = new Set<string>();
  const visitSegment = (key: string): void => {
    if (segments.has(key)) return;
    segments.add(key);
    const segment = ruleset.segments.get(key);
    if (segment) collect(segment.when.ir.ast);
  };
  const collect = (node: Expr): void => {
    switch (node.kind) {
      case "name":
        if (ruleset.scope.fields.has(node.name)) fields.add(node.name);
        else if (ruleset.scope.segments.has(node.name)) visitSegment(node.name);
        return;
      case "call":
        for (const arg of node.args) collect(arg);
        return;
      case "not":
      case "negate":
      case "null_test":
        collect(node.operand);
        return;
      case "logical":
      case "compare":
      case "arith":
        collect(node.left);
        collect(node.right);
        return;
      case "in":
        collect(node.operand);
        collect(node.list);
        return;
      case "between":
        collect(node.operand);
        collect(node.low);
        collect(node.high);
        return;
      case "list":
        for (const item of node.items) collect(item);
        return;
      default:
        return;
    }
  };
  const offer = ruleset.offers.find((candidate) => candidate.key === offerKey);
  if (offer) {
    for (const key of offer.ir.segments) visitSegment(key);
    if (offer.when) collect(offer.when.ir.ast);
  }
  const reads = { fields, segments };
  perOffer.set(offerKey, reads);
  return reads;
}
