/**
 * What a decision derives from a compiled ruleset, once per ruleset: how far back offer history
 * matters and the custom attributes the rules declare (the event types to read are the ruleset's
 * own `reads.decision`). The ruleset itself is chosen at the entry points (worker/deployed-ruleset.ts)
 * and passed down; this only derives.
 */
import type { ExprType, Ruleset } from "../../dsl";
import { declaredAttributes } from "../attributes/check-attributes";

/** A compiled ruleset plus the read plan of a decision. */
export interface DecisionRuleset {
  readonly ruleset: Ruleset;
  /** The longest cap or cooldown window: older offers cannot affect a decision's caps. */
  readonly historyHorizonMs: number;
  /** The custom attributes the rules declare (`fields:`), by name, with their types. */
  readonly attributes: ReadonlyMap<string, ExprType>;
}

const derived = new WeakMap<Ruleset, DecisionRuleset>();

/**
 * The decision plan of `ruleset`, derived on first use (later calls with the same ruleset return
 * the same plan).
 *
 * @example decisionRulesetOf(ruleset).attributes.get("seats") // { kind: "number" }
 */
export function decisionRulesetOf(ruleset: Ruleset): DecisionRuleset {
  const cached = derived.get(ruleset);
  if (cached) return cached;
  const ir = ruleset.ir;
  const windows = [
    ir.offerPolicy.cap?.perMs ?? 0,
    ir.offerPolicy.cooldown?.forMs ?? 0,
    ...ir.offers.flatMap((offer) => [offer.cap?.perMs ?? 0, offer.cooldownMs ?? 0]),
  ];
  const plan: DecisionRuleset = {
    ruleset,
    historyHorizonMs: Math.max(...windows),
    attributes: declaredAttributes(ir),
  };
  derived.set(ruleset, plan);
  return plan;
}
