/**
 * Checking the `inactivity` section: nudges for customers who have gone quiet, each with a
 * threshold, an audience and its steps.
 *
 * Stage: part of check (a pass in dsl/rules/check.ts), after offers and messages are known.
 */

import { LIMITS } from "../limits";
import type { CheckContext, References } from "./check-context";
import { readStep } from "./check-steps";
import type { YamlMap } from "./load";
import type { InactivityIR } from "./ruleset";

export function readInactivity(c: CheckContext, refs: References): InactivityIR[] {
  const rules: InactivityIR[] = [];
  for (const entry of c.listEntries("inactivity")) {
    const { reader } = entry;
    const what = `inactivity rule \`${entry.key}\``;
    const map = entry.value as YamlMap;
    const fields = reader.fields(
      map,
      what,
      ["key", "description", "plans", "segment", "when", "after", "message", "offer", "fallback_message"],
      ["after"],
    );
    let ok = true;
    let plans: string[] | null = null;
    const plansNode = fields.get("plans");
    if (plansNode) {
      plans = [];
      for (const item of reader.keyList(plansNode, "`plans`") ?? []) {
        if (refs.plans === null) {
          reader.fail(
            item.node,
            "unknown_plan",
            `plan \`${item.key}\` is not declared`,
            "declare the plans in `plans:`",
          );
          ok = false;
        } else {
          const key = c.reference(item.node, reader, refs.plans, "plan");
          if (key) plans.push(key);
          else ok = false;
        }
      }
    }
    const segmentNode = fields.get("segment");
    const segment = segmentNode
      ? c.reference(segmentNode, reader, new Set(c.segmentInfo.keys()), "segment")
      : null;
    const whenNode = fields.get("when");
    const when = whenNode ? c.expression(whenNode, reader) : null;
    const afterNode = fields.get("after");
    const afterMs = afterNode ? reader.duration(afterNode, "`after`", LIMITS.maxDurationMs) : undefined;
    const stepFields = new Map(
      [...fields].filter(([name]) => name === "message" || name === "offer" || name === "fallback_message"),
    );
    const stepMap: YamlMap = {
      ...map,
      pairs: map.pairs.filter((p) => stepFields.has(String(p.key.value))),
    };
    const step = readStep(c, stepMap, reader, refs, "none", what);
    if (!ok || segment === undefined || when === undefined || afterMs === undefined || !step) continue;
    const { fields: _f, ...plain } = step;
    rules.push({
      key: entry.key,
      description: reader.optionalString(fields.get("description"), "a description"),
      plans,
      segment,
      when,
      afterMs,
      step: plain,
    });
  }
  return rules;
}
