/**
 * The ruleset this Worker was built with (worker/generated/ruleset.ts, written by `rebound build`),
 * compiled once per isolate and cached by version, with what a decision derives from it: the event
 * types to read and how far back offer history matters. No request ever parses or compiles a rule.
 */
import type { ExprType, RulesetIR } from "../../dsl";
import { loadRuleset, type Ruleset } from "../../dsl";
import { declaredAttributes } from "../attributes/check-attributes";
import { ruleset as generatedRuleset } from "../generated/ruleset";
import { eventTypesRead } from "./event-types";

/** A compiled ruleset plus the read plan of a decision. */
export interface DecisionRuleset {
  readonly ruleset: Ruleset;
  /** Event types the offers and segments read; null: all types. */
  readonly eventTypes: readonly string[] | null;
  /** The longest cap or cooldown window: older offers cannot affect a decision's caps. */
  readonly historyHorizonMs: number;
  /** The custom attributes the rules declare (`fields:`), by name, with their types. */
  readonly attributes: ReadonlyMap<string, ExprType>;
}

const compiled = new Map<string, DecisionRuleset>();

/** The deployed ruleset, compiled on first use in this isolate. */
export function deployedRuleset(): DecisionRuleset {
  return decisionRuleset(generatedRuleset);
}

/** Compiles `ir` once per version (later calls return the cached compilation). */
export function decisionRuleset(ir: RulesetIR): DecisionRuleset {
  const cached = compiled.get(ir.version);
  if (cached) return cached;
  const ruleset = loadRuleset(ir);
  const windows = [
    ir.offerPolicy.cap?.perMs ?? 0,
    ir.offerPolicy.cooldownMs ?? 0,
    ...ir.offers.flatMap((offer) => [offer.cap?.perMs ?? 0, offer.cooldownMs ?? 0]),
  ];
  const plan: DecisionRuleset = {
    ruleset,
    eventTypes: eventTypesRead(ruleset),
    historyHorizonMs: Math.max(...windows),
    attributes: declaredAttributes(ir),
  };
  compiled.set(ir.version, plan);
  return plan;
}
