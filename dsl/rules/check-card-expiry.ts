/**
 * Checking the `card_expiry` section: reminders before a saved card expires.
 *
 * Stage: part of check (a pass in dsl/rules/check.ts), after offers and messages are known.
 */

import type { CheckContext, References } from "./check-context";
import type { RulesetIR } from "./ruleset";

export function readCardExpiry(c: CheckContext, refs: References): RulesetIR["cardExpiry"] {
  const found = c.single("card_expiry");
  if (!found) return null;
  const { node, reader } = found;
  const map = reader.map(node, "`card_expiry`");
  if (!map) return null;
  const fields = reader.fields(map, "`card_expiry`", ["days_before", "message"], ["days_before", "message"]);
  const daysNode = fields.get("days_before");
  const days: number[] = [];
  for (const item of (daysNode ? reader.seq(daysNode, "`days_before`") : undefined) ?? []) {
    const day = reader.integer(item, "a number of days", 1, 365);
    if (day !== undefined && days.includes(day))
      reader.fail(item, "duplicate_key", `${day} days is listed twice`);
    else if (day !== undefined) days.push(day);
  }
  const messageNode = fields.get("message");
  const message = messageNode
    ? c.useMessage(messageNode, reader, refs.messageKeys, "card_expiry", "card-expiry reminders")
    : null;
  if (message === null || days.length === 0) return null;
  return { daysBefore: days.sort((a, b) => b - a), message };
}
