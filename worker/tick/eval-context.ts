/**
 * Builds the rule language's EvalContext for customers a lifecycle scan read (dunning cadences,
 * inactivity rules and win-back sequences may have `when` conditions and segments evaluated as
 * closures). Events are read only when those conditions (or their segments) aggregate them, one
 * query per page, of the types they read, within the longest window they read them over
 * (`ruleset.reads.lifecycle`, computed when the ruleset was loaded) and no later than the tick's now
 * (a condition never counts an event that has not happened yet at this tick).
 */

import type { EvalContext, EventRecord, Ruleset } from "../../dsl";
import { parseAttributes } from "../attributes/check-attributes";
import type { CustomerRowJson } from "./context";

/** One EvalContext per row, at `now`. */
export async function evalContexts(
  db: D1Database,
  ruleset: Ruleset,
  rows: readonly CustomerRowJson[],
  now: number,
): Promise<EvalContext[]> {
  const reads = ruleset.reads.lifecycle;
  const eventsByCustomer = new Map<string, EventRecord[]>();
  if (rows.length > 0 && reads.eventTypes.length > 0) {
    const since = reads.eventWindowMs === null ? Number.MIN_SAFE_INTEGER : now - reads.eventWindowMs;
    const statement = db.prepare(
      `SELECT e.id, e.customer_id, e.type, e.occurred_at, e.properties FROM events e
       WHERE e.customer_id IN (SELECT value FROM json_each(?1)) AND e.occurred_at > ?2 AND e.occurred_at <= ?4
         AND e.type IN (SELECT value FROM json_each(?3))`,
    );
    const ids = JSON.stringify(rows.map((row) => row.id));
    const { results } = await statement
      .bind(ids, since, JSON.stringify(reads.eventTypes), now)
      .all<{ id: string; customer_id: string; type: string; occurred_at: number; properties: string }>();
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
