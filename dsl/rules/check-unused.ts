/**
 * Warnings for definitions nothing uses: a segment no other segment, offer, campaign audience or
 * programme `when` refers to; a reward no offer (or offer variant) gives; a message no offer, step,
 * fallback, dunning cadence or card-expiry reminder sends. Each is located at the definition's key.
 * A warning never stops a ruleset: `rebound validate`, `test` and `build` show it and exit as before.
 *
 * Stage: the checker's last pass (dsl/rules/check.ts), run only on rules without errors, since a
 * reference that failed to resolve would make its target look unused.
 */
import type { Expr } from "../expr/ast";
import { segmentRefs } from "./check-catalog";
import type { CheckContext, Entry } from "./check-context";
import { diagnosticAt } from "./load";
import type { ExpressionIR, RulesetIR } from "./ruleset";

/** The parts of the checked rules that can use a segment, reward or message. */
export type RulesThatUse = Pick<
  RulesetIR,
  "segments" | "offers" | "inactivity" | "dunning" | "winback" | "campaigns"
>;

export interface Uses {
  segments: ReadonlySet<string>;
  rewards: ReadonlySet<string>;
}

/** Every segment and reward the rules use (messages are collected as they are checked: `messageUses`). */
export function usesOf(rules: RulesThatUse): Uses {
  const expressions: (ExpressionIR | null)[] = [
    ...rules.segments.map((s) => s.when),
    ...rules.offers.map((o) => o.when),
    ...rules.inactivity.map((i) => i.when),
    ...rules.dunning.map((d) => d.when),
    ...rules.winback.map((w) => w.when),
    ...rules.campaigns.map((c) => c.audience),
  ];
  const segments = new Set<string>([
    ...rules.offers.flatMap((o) => o.segments),
    ...rules.inactivity.flatMap((i) => (i.segment ? [i.segment] : [])),
  ]);
  const known = new Map(rules.segments.map((s) => [s.key, s]));
  for (const expression of expressions) {
    if (!expression) continue;
    for (const ref of segmentRefs(expression.ast as Expr, known)) segments.add(ref.name);
  }
  const rewards = new Set<string>(
    rules.offers.flatMap((o) => [
      o.reward,
      ...(o.experiment?.variants ?? []).flatMap((v) => (v.reward ? [v.reward] : [])),
    ]),
  );
  return { segments, rewards };
}

/** Adds a warning for each segment, reward and message nothing uses. */
export function warnUnused(c: CheckContext, uses: Uses): void {
  const messages = new Set(c.messageUses.map((use) => use.message));
  warn(
    c,
    c.definitions.segments,
    uses.segments,
    "unused_segment",
    "segment",
    "no offer, campaign audience, programme `when` or other segment uses it",
  );
  warn(
    c,
    c.definitions.rewards,
    uses.rewards,
    "unused_reward",
    "reward",
    "no offer or offer variant gives it",
  );
  warn(
    c,
    c.definitions.messages,
    messages,
    "unused_message",
    "message",
    "no offer, step, fallback, dunning cadence or card-expiry reminder sends it",
  );
}

function warn(
  c: CheckContext,
  definitions: ReadonlyMap<string, Entry>,
  used: ReadonlySet<string>,
  code: "unused_segment" | "unused_reward" | "unused_message",
  kind: string,
  why: string,
): void {
  for (const [key, entry] of definitions) {
    if (used.has(key)) continue;
    const node = entry.keyNode;
    c.warnings.push({
      ...diagnosticAt(
        entry.reader.source,
        { start: node.start, end: Math.max(node.start + 1, node.end) },
        code,
        `${kind} \`${key}\` is not used: ${why}`,
        `use it in the rules, or delete it if it is no longer needed`,
      ),
      severity: "warning",
    });
  }
}
