/**
 * Checking the `dunning` section: the cadence of messages after a failed payment, and the final
 * action when the card is never fixed.
 *
 * Stage: part of check (a pass in dsl/rules/check.ts), after offers and messages are known.
 */

import { type CheckContext, MAX_DAY, type References } from "./check-context";
import { readStep } from "./check-steps";
import type { YamlMap } from "./load";
import type { DunningAction, DunningIR } from "./ruleset";

export function readDunning(c: CheckContext, refs: References): DunningIR[] {
  const cadences: DunningIR[] = [];
  for (const entry of c.listEntries("dunning")) {
    const { reader } = entry;
    const what = `dunning cadence \`${entry.key}\``;
    const fields = reader.fields(
      entry.value as YamlMap,
      what,
      ["key", "description", "when", "steps", "final"],
      ["steps", "final"],
    );
    const whenNode = fields.get("when");
    const when = whenNode ? c.expression(whenNode, reader) : null;
    const steps: DunningIR["steps"] = [];
    let ok = when !== undefined;
    const stepsNode = fields.get("steps");
    const items = stepsNode ? reader.seq(stepsNode, "`steps`") : undefined;
    if (!items) ok = false;
    let lastDay = -1;
    for (const item of items ?? []) {
      const step = readStep(c, item, reader, refs, "day", what);
      if (!step || step.day === null) {
        ok = false;
        continue;
      }
      if (step.offer !== null || step.message === null) {
        reader.fail(
          item,
          "schema_violation",
          "a dunning step sends a message (offers go through the `dunning` offer context)",
        );
        ok = false;
        continue;
      }
      if (step.day <= lastDay) {
        reader.fail(
          step.fields.get("day")!,
          "schema_violation",
          `dunning days must increase: day ${step.day} comes after day ${lastDay}`,
        );
        ok = false;
      }
      lastDay = Math.max(lastDay, step.day);
      steps.push({ day: step.day, message: step.message });
    }
    const finalNode = fields.get("final");
    let final: DunningIR["final"] | undefined;
    const finalMap = finalNode ? reader.map(finalNode, "`final`") : undefined;
    if (finalMap) {
      const ffields = reader.fields(finalMap, "`final`", ["day", "action", "message"], ["day", "action"]);
      const dayNode = ffields.get("day");
      const day = dayNode ? reader.integer(dayNode, "`day`", 0, MAX_DAY) : undefined;
      if (dayNode && day !== undefined && day <= lastDay) {
        reader.fail(
          dayNode,
          "schema_violation",
          `the final action (day ${day}) must come after the last step (day ${lastDay})`,
        );
        ok = false;
      }
      const actionNode = ffields.get("action");
      const actions: DunningAction[] = [];
      const actionItems = actionNode?.kind === "seq" ? actionNode.items : actionNode ? [actionNode] : [];
      for (const item of actionItems) {
        const action = reader.string(item, "`action`");
        if (action === "cancel" || action === "webhook") actions.push(action);
        else if (action !== "none" && action !== undefined) {
          reader.fail(
            item,
            "schema_violation",
            `unknown final action \`${action}\``,
            "actions: cancel, webhook, none",
          );
          ok = false;
        }
      }
      const messageNode = ffields.get("message");
      const message = messageNode
        ? c.useMessage(messageNode, reader, refs.messageKeys, "dunning", `${what} final action`)
        : null;
      if (day !== undefined && (messageNode === undefined || message !== null))
        final = { day, actions, message };
    }
    if (!ok || !final || when === undefined) continue;
    cadences.push({
      key: entry.key,
      description: reader.optionalString(fields.get("description"), "a description"),
      when,
      steps,
      final,
    });
  }
  return cadences;
}
