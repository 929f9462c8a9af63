/**
 * Which event types the offer rules read. A decision fetches only those (within the ruleset's event
 * window), so a customer's thousands of page-view events cost nothing when no offer counts them.
 *
 * Computed once per ruleset from the checked ASTs of the offers and of every segment (segments may
 * build on each other, and offers name them).
 */
import type { Expr, Ruleset } from "../../dsl";

/**
 * The event types named by aggregate calls in offers and segments, sorted; null when a name could
 * not be resolved to a type (then every type is read, which is correct, only slower).
 *
 * @example eventTypesRead(ruleset) // ["activity", "order.completed"]
 */
export function eventTypesRead(ruleset: Ruleset): string[] | null {
  const types = new Set<string>();
  let unresolved = false;
  const visit = (node: Expr, inCall: boolean): void => {
    switch (node.kind) {
      case "name":
        if (!inCall || ruleset.scope.fields.has(node.name) || ruleset.scope.segments.has(node.name)) return;
        {
          const type = eventTypeOf(ruleset, node.name);
          if (type === null) unresolved = true;
          else types.add(type);
        }
        return;
      case "call":
        for (const arg of node.args) visit(arg, true);
        return;
      case "not":
      case "negate":
      case "null_test":
        visit(node.operand, inCall);
        return;
      case "logical":
      case "compare":
      case "arith":
        visit(node.left, inCall);
        visit(node.right, inCall);
        return;
      case "in":
        visit(node.operand, inCall);
        visit(node.list, inCall);
        return;
      case "between":
        visit(node.operand, inCall);
        visit(node.low, inCall);
        visit(node.high, inCall);
        return;
      case "list":
        for (const item of node.items) visit(item, inCall);
        return;
      default:
        return;
    }
  };
  for (const offer of ruleset.ir.offers) if (offer.when) visit(offer.when.ast, false);
  for (const segment of ruleset.ir.segments) visit(segment.when.ast, false);
  return unresolved ? null : [...types].sort();
}

/** `order.completed.amount` → `order.completed`; `x.webinar_attended` → itself. */
function eventTypeOf(ruleset: Ruleset, path: string): string | null {
  const parts = path.split(".");
  for (let length = parts.length; length > 0; length--) {
    const candidate = parts.slice(0, length).join(".");
    if (ruleset.scope.eventTypes.has(candidate)) return candidate;
  }
  if (parts[0] === "x" && parts.length >= 2 && ruleset.scope.allowCustomEvents) return `x.${parts[1]}`;
  return null;
}
