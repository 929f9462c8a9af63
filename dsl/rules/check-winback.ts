/**
 * Checking the `winback` section: sequences for customers who canceled, by reason and condition.
 *
 * Stage: part of check (a pass in dsl/rules/check.ts), after offers and messages are known.
 */

import type { CheckContext, References } from "./check-context";
import { readStep } from "./check-steps";
import type { YamlMap } from "./load";
import type { StepIR, WinbackIR } from "./ruleset";

export function readWinback(c: CheckContext, refs: References): WinbackIR[] {
  const sequences: WinbackIR[] = [];
  const claimed = new Map<string, string>();
  for (const entry of c.listEntries("winback")) {
    const { reader } = entry;
    const what = `win-back sequence \`${entry.key}\``;
    const fields = reader.fields(
      entry.value as YamlMap,
      what,
      ["key", "description", "reasons", "when", "steps"],
      ["reasons", "steps"],
    );
    let ok = true;
    const reasons: string[] = [];
    const reasonsNode = fields.get("reasons");
    for (const item of (reasonsNode ? reader.keyList(reasonsNode, "`reasons`") : undefined) ?? []) {
      const key = c.reference(item.node, reader, refs.reasonKeys, "reason");
      if (!key) {
        ok = false;
        continue;
      }
      const other = claimed.get(key);
      if (other && other !== entry.key) {
        reader.fail(
          item.node,
          "duplicate_key",
          `reason \`${key}\` already has win-back sequence \`${other}\``,
          "each reason starts at most one sequence",
        );
        ok = false;
      }
      claimed.set(key, entry.key);
      reasons.push(key);
    }
    const whenNode = fields.get("when");
    const when = whenNode ? c.expression(whenNode, reader) : null;
    const steps: StepIR[] = [];
    const stepsNode = fields.get("steps");
    let lastDay = -1;
    for (const item of (stepsNode ? reader.seq(stepsNode, "`steps`") : undefined) ?? []) {
      const step = readStep(c, item, reader, refs, "day", what);
      if (!step || step.day === null) {
        ok = false;
        continue;
      }
      if (step.day <= lastDay) {
        reader.fail(
          step.fields.get("day")!,
          "schema_violation",
          `win-back days must increase: day ${step.day} comes after day ${lastDay}`,
        );
        ok = false;
      }
      lastDay = Math.max(lastDay, step.day);
      const { fields: _f, ...plain } = step;
      steps.push(plain);
    }
    if (!ok || when === undefined || steps.length === 0) continue;
    sequences.push({
      key: entry.key,
      description: reader.optionalString(fields.get("description"), "a description"),
      reasons,
      when,
      steps,
    });
  }
  return sequences;
}
