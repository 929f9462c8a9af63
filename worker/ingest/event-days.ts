/**
 * The compact daily history's rows for newly inserted events (worker/db/schema/event-days.ts): one per
 * (customer, UTC day, type, currency), with the count, the sum of integral amounts and the latest
 * event of the group. write-events.ts adds them to the stored rows in the batch that inserts the events,
 * so a group's figures are the sum over every event ever accepted, whatever order they came in.
 */

import { canonicalJson } from "./canonical-json";
import type { NormalizedEvent } from "./normalize";
import { compareIds } from "./profile-fold";

export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 UTC (also before 1970: floor, not truncation). */
export const dayOf = (epochMs: number) => Math.floor(epochMs / DAY_MS);

export interface DayRow {
  customer_id: string;
  day: number;
  type: string;
  currency: string;
  count: number;
  amount: number;
  latest_at: number;
  latest_id: string;
  latest: string | null;
}

/**
 * The latest event's properties as the history keeps them: billing events only (what MRR, churn and
 * reactivation figures need), without free text, card details or contact data.
 */
export function historyProperties(type: string, properties: string): string | null {
  if (type === "customer.updated") {
    // It may change plan and MRR; everything else on it (email, name, attributes) is left out.
    const parsed = JSON.parse(properties) as Record<string, unknown>;
    const kept = Object.fromEntries(
      ["currency", "mrr", "plan"]
        .filter((name) => Object.hasOwn(parsed, name))
        .map((name) => [name, parsed[name]]),
    );
    return Object.keys(kept).length > 0 ? canonicalJson(kept) : null;
  }
  const dropped = type.startsWith("subscription.")
    ? ["comment"]
    : type.startsWith("payment.")
      ? ["card_last4", "update_url"]
      : null;
  if (dropped === null) return null;
  const parsed = JSON.parse(properties) as Record<string, unknown>;
  for (const name of dropped) delete parsed[name];
  return canonicalJson(parsed);
}

export function dayRows(events: readonly NormalizedEvent[]): DayRow[] {
  const rows = new Map<string, DayRow>();
  for (const event of events) {
    const properties = JSON.parse(event.properties) as Record<string, unknown>;
    const currency = typeof properties.currency === "string" ? properties.currency : "";
    const amount = Number.isInteger(properties.amount) ? (properties.amount as number) : 0;
    const day = dayOf(event.occurred_at);
    const key = JSON.stringify([event.customer_id, day, event.type, currency]);
    const row = rows.get(key);
    if (!row) {
      rows.set(key, {
        customer_id: event.customer_id,
        day,
        type: event.type,
        currency,
        count: 1,
        amount,
        latest_at: event.occurred_at,
        latest_id: event.id,
        latest: historyProperties(event.type, event.properties),
      });
      continue;
    }
    row.count += 1;
    row.amount += amount;
    const later =
      event.occurred_at > row.latest_at ||
      (event.occurred_at === row.latest_at && compareIds(event.id, row.latest_id) > 0);
    if (later) {
      row.latest_at = event.occurred_at;
      row.latest_id = event.id;
      row.latest = historyProperties(event.type, event.properties);
    }
  }
  return [...rows.values()];
}
