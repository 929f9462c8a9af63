/**
 * What each offer, segment and programme of a ruleset reads, computed once when the ruleset is
 * loaded (dsl/runtime/ruleset.ts `loadRuleset`) and kept on it as `ruleset.reads`: built-in customer
 * fields, custom attributes, event types with the longest window each is read over, and the
 * segments named, followed transitively (an offer in segment `high_value`, which counts orders,
 * reads `order.completed`). The Worker plans its D1 reads from these (which events to load for a
 * decision or a lifecycle scan, how far back) instead of walking rules itself.
 *
 * Stage: runtime, at load. dsl/expr/reads.ts gives one expression's direct reads.
 */

import { type EventWindows, expressionReads, longerWindow, sortedWindows } from "../expr/reads";
import type { Scope } from "../expr/types";
import type { ExpressionIR, RulesetIR } from "../rules/ruleset";

/** What a rule reads, segments it names included (and what they read, transitively). */
export interface Reads {
  /** Built-in customer fields (`ltv`, `canceled_at`), sorted. */
  readonly fields: readonly string[];
  /** Custom attributes the rules declare under `fields:`, sorted. */
  readonly attributes: readonly string[];
  /** Event type → the longest window it is aggregated over (ms); null: over all time. */
  readonly events: EventWindows;
  /** The keys of `events`, sorted. */
  readonly eventTypes: readonly string[];
  /** The longest window of any event read (ms); null: all time; 0 when no event is read. */
  readonly eventWindowMs: number | null;
  /** Segments named, directly or through other segments, sorted. */
  readonly segments: readonly string[];
}

/**
 * The reads of every rule of a ruleset, by key. A programme's reads are those of its conditions
 * (and an inactivity rule's segment): what choosing its customers and steps reads. An offer a step
 * makes is decided as any offer is (`offers`); templates and the fixed fields a programme keys on
 * (`payment_failed_at`, `card_expires_at`, …) are not rule expressions and are not listed.
 */
export interface RulesetReads {
  /** Each offer: its `when` and its `segments:`. */
  readonly offers: ReadonlyMap<string, Reads>;
  readonly segments: ReadonlyMap<string, Reads>;
  /** Each campaign's audience. */
  readonly campaigns: ReadonlyMap<string, Reads>;
  /** Each inactivity rule: its `when` and its `segment:`. */
  readonly inactivity: ReadonlyMap<string, Reads>;
  readonly dunning: ReadonlyMap<string, Reads>;
  readonly winback: ReadonlyMap<string, Reads>;
  /** Card-expiry reminders have no conditions: nothing. */
  readonly cardExpiry: Reads;
  /**
   * What a decision loads: every offer and every segment (a decision evaluates the offers, and the
   * segments they name; the read plan covers every segment so it does not depend on which offers a
   * request narrows to).
   */
  readonly decision: Reads;
  /** Inactivity, dunning and win-back together: what a lifecycle scan's conditions read. */
  readonly lifecycle: Reads;
  /** Everything above together. */
  readonly all: Reads;
}

interface ReadSets {
  readonly fields: Set<string>;
  readonly events: Record<string, number | null>;
  readonly segments: Set<string>;
}

const emptySets = (): ReadSets => ({ fields: new Set(), events: {}, segments: new Set() });

/**
 * Computes the reads of a checked IR whose expressions check against `scope`.
 *
 * @example rulesetReads(ir, scope).offers.get("competitor_switch")?.eventTypes // ["activity"]
 */
export function rulesetReads(ir: RulesetIR, scope: Scope): RulesetReads {
  const attributeNames = new Set(ir.fields.map((field) => field.name));
  const segmentSets = new Map<string, ReadSets>();
  const add = (into: ReadSets, from: ReadSets): void => {
    for (const field of from.fields) into.fields.add(field);
    for (const segment of from.segments) into.segments.add(segment);
    for (const [type, windowMs] of Object.entries(from.events))
      into.events[type] = longerWindow(into.events[type], windowMs);
  };
  const addSegment = (into: ReadSets, key: string): void => {
    into.segments.add(key);
    const segment = segmentSets.get(key);
    if (segment) add(into, segment);
  };
  const addExpression = (into: ReadSets, expression: ExpressionIR | null): void => {
    if (!expression) return;
    const direct = expressionReads(expression.ast, scope);
    for (const field of direct.fields) into.fields.add(field);
    for (const [type, windowMs] of Object.entries(direct.events))
      into.events[type] = longerWindow(into.events[type], windowMs);
    for (const key of direct.segments) addSegment(into, key);
  };
  const finish = (sets: ReadSets): Reads => {
    const fields = [...sets.fields].sort();
    const events = sortedWindows(sets.events);
    const eventTypes = Object.keys(events);
    let eventWindowMs: number | null = 0;
    for (const type of eventTypes) eventWindowMs = longerWindow(eventWindowMs, events[type]!);
    return Object.freeze({
      fields: fields.filter((name) => !attributeNames.has(name)),
      attributes: fields.filter((name) => attributeNames.has(name)),
      events,
      eventTypes,
      eventWindowMs,
      segments: [...sets.segments].sort(),
    });
  };
  const decision = emptySets();
  const lifecycle = emptySets();
  const all = emptySets();
  const keyed = <T extends { key: string }>(
    rules: readonly T[],
    collect: (rule: T, into: ReadSets) => void,
    ...groups: ReadSets[]
  ): ReadonlyMap<string, Reads> =>
    new Map(
      rules.map((rule) => {
        const sets = emptySets();
        collect(rule, sets);
        for (const group of groups) add(group, sets);
        return [rule.key, finish(sets)];
      }),
    );

  // Segments come in dependency order, so a segment's own segments are complete before it.
  const segments = keyed(
    ir.segments,
    (segment, into) => {
      addExpression(into, segment.when);
      segmentSets.set(segment.key, into);
    },
    decision,
    all,
  );
  const offers = keyed(
    ir.offers,
    (offer, into) => {
      for (const key of offer.segments) addSegment(into, key);
      addExpression(into, offer.when);
    },
    decision,
    all,
  );
  const campaigns = keyed(ir.campaigns, (campaign, into) => addExpression(into, campaign.audience), all);
  const inactivity = keyed(
    ir.inactivity,
    (rule, into) => {
      if (rule.segment !== null) addSegment(into, rule.segment);
      addExpression(into, rule.when);
    },
    lifecycle,
    all,
  );
  const dunning = keyed(ir.dunning, (cadence, into) => addExpression(into, cadence.when), lifecycle, all);
  const winback = keyed(ir.winback, (sequence, into) => addExpression(into, sequence.when), lifecycle, all);
  return {
    offers,
    segments,
    campaigns,
    inactivity,
    dunning,
    winback,
    cardExpiry: finish(emptySets()),
    decision: finish(decision),
    lifecycle: finish(lifecycle),
    all: finish(all),
  };
}
