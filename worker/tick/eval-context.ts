/**
 * Builds the rule language's EvalContext for customers a lifecycle scan read (dunning cadences,
 * inactivity rules and win-back sequences may have `when` conditions and segments evaluated as
 * closures). Events are read only when a condition aggregates them, one query per page, of the
 * types the rules read, within the ruleset's event window and no later than the tick's now (a
 * condition never counts an event that has not happened yet at this tick).
 */

import type { EvalContext, EventRecord, Expr, Ruleset } from "../../dsl";
import { parseAttributes } from "../attributes/check-attributes";
import { eventTypesRead } from "../decisions/event-types";
import type { QueryBudget } from "./budget";
import type { CustomerRowJson } from "./context";

/** Event types lifecycle conditions may read: [] none, null all. Cached per ruleset. */
const typesCache = new WeakMap<Ruleset, readonly string[] | null>();

function lifecycleEventTypes(ruleset: Ruleset): readonly string[] | null {
  const cached = typesCache.get(ruleset);
  if (cached !== undefined) return cached;
  const conditions = [
    ...ruleset.ir.inactivity.map((rule) => rule.when),
    ...ruleset.ir.dunning.map((cadence) => cadence.when),
    ...ruleset.ir.winback.map((sequence) => sequence.when),
  ];
  // Segments' event types are known (eventTypesRead); a lifecycle condition with its own aggregate reads all.
  const ownAggregates = conditions.some((condition) => condition !== null && aggregates(condition.ast));
  const types = ownAggregates ? null : eventTypesRead(ruleset);
  typesCache.set(ruleset, types);
  return types;
}

function aggregates(node: Expr): boolean {
  if (node.kind === "call") return true;
  return Object.values(node).some(
    (value) =>
      (typeof value === "object" && value !== null && "kind" in value && aggregates(value as Expr)) ||
      (Array.isArray(value) &&
        value.some((item) => typeof item === "object" && item !== null && aggregates(item))),
  );
}

/** One EvalContext per row, at `now`. */
export async function evalContexts(
  db: D1Database,
  ruleset: Ruleset,
  rows: readonly CustomerRowJson[],
  now: number,
  budget: QueryBudget,
): Promise<EvalContext[]> {
  const types = lifecycleEventTypes(ruleset);
  const eventsByCustomer = new Map<string, EventRecord[]>();
  if (rows.length > 0 && (types === null || types.length > 0)) {
    const since = ruleset.eventWindowMs === null ? Number.MIN_SAFE_INTEGER : now - ruleset.eventWindowMs;
    const typeFilter = types === null ? "" : "AND e.type IN (SELECT value FROM json_each(?3))";
    const statement = db.prepare(
      `SELECT e.id, e.customer_id, e.type, e.occurred_at, e.properties FROM events e
       WHERE e.customer_id IN (SELECT value FROM json_each(?1)) AND e.occurred_at > ?2 AND e.occurred_at <= ?4 ${typeFilter}`,
    );
    const ids = JSON.stringify(rows.map((row) => row.id));
    const { results, meta } = await (types === null
      ? statement.bind(ids, since, null, now)
      : statement.bind(ids, since, JSON.stringify(types), now)
    ).all<{ id: string; customer_id: string; type: string; occurred_at: number; properties: string }>();
    budget.spend(1, meta.rows_read ?? 0);
    for (const event of results) {
      const list = eventsByCustomer.get(event.customer_id) ?? [];
      list.push({
        id: event.id,
        type: event.type,
        occurred_at: event.occurred_at,
        properties: JSON.parse(event.properties) as Record<string, unknown>,
      });
      eventsByCustomer.set(event.customer_id, list);
    }
  }
  return rows.map((row) => ({
    now,
    customer: { ...row, attributes: parseAttributes(row.attributes) },
    events: eventsByCustomer.get(row.id) ?? [],
  }));
}
