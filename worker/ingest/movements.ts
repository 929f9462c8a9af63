/**
 * MRR movements as a fold: each customer's profile state keeps the subscription timeline (the events
 * that start, change or end a subscription, or set its MRR, plan or currency) and the movements
 * already counted in `metric_days`. Ingest walks the timeline in time order after every fold that
 * can change it, and writes the difference between what it now counts and what it had counted, so:
 * - a late event (out of order) corrects the days it changes, retracting what it made wrong;
 * - a resent event changes nothing (ingest folds only events it inserts);
 * - the aggregate always equals the sum of every customer's movements as their events now stand.
 *
 * The walk reads status the way the profile does (worker/ingest/profile-fold.ts): a customer is
 * paying (active or past_due) once a subscription event was seen and no cancellation is newer than
 * the latest start or reactivation; MRR, plan and currency are the latest values seen. So the
 * stock the movements add up to equals the paying customers and their MRR in `customers`, which
 * test/worker/metrics-movements.test.ts checks on random histories.
 *
 * Every churn also makes an `mrr.churn_spell` movement keyed by the day its paying spell began, so
 * the churn rates can count only the customers paying at an interval's start (docs/metrics.md). A
 * contraction carries no such key: one by a customer who joined during an interval is counted like
 * any other (docs/metrics.md says when that lets gross MRR churn pass 1).
 */
import { INVOLUNTARY_REASON, tenureBucket } from "../metrics/definitions";
import { compareIds } from "./compare-ids";

type Json = string | number | boolean | null;

/** Timeline kinds: started, reactivated, changed, canceled, customer.updated (with plan/MRR/currency). */
type EntryKind = "s" | "r" | "c" | "x" | "u";

const KIND_OF_TYPE: Readonly<Record<string, EntryKind>> = {
  "subscription.started": "s",
  "subscription.reactivated": "r",
  "subscription.changed": "c",
  "subscription.canceled": "x",
  "customer.updated": "u",
};

/** What an entry carried: only the properties it had (absent and null differ, as in the profile). */
interface EntryFields {
  mrr?: Json;
  plan?: Json;
  currency?: Json;
  reason?: Json;
}

/** One timeline event: `(occurred_at, id)`, its kind, the fields it carried. */
export type TimelineEntry = [at: number, id: string, kind: EntryKind, fields: EntryFields];

/**
 * A movement as counted: metric, reporting day, currency, keys k1..k4, count and amount of the
 * movement row, and the change it makes to the paying-customer stock (count, MRR).
 */
export type Movement = [
  metric: string,
  day: number,
  currency: string,
  k1: string,
  k2: string,
  k3: string,
  k4: string,
  count: number,
  amount: number,
  stockCount: number,
  stockAmount: number,
];

/** The timeline entry for an event, or null when the event cannot move MRR or status. */
export function timelineEntry(event: {
  id: string;
  type: string;
  occurred_at: number;
  properties: string;
}): TimelineEntry | null {
  const kind = KIND_OF_TYPE[event.type];
  if (kind === undefined) return null;
  const properties = JSON.parse(event.properties) as Record<string, unknown>;
  const fields: EntryFields = {};
  const names =
    kind === "x"
      ? (["reason"] as const)
      : kind === "s" || kind === "u"
        ? (["mrr", "plan", "currency"] as const)
        : (["mrr", "plan"] as const);
  for (const name of names) {
    if (Object.hasOwn(properties, name)) fields[name] = (properties[name] ?? null) as Json;
  }
  if (kind === "u" && Object.keys(fields).length === 0) return null;
  return [event.occurred_at, event.id, kind, fields];
}

/** Adds entries to a timeline, keeping it in `(occurred_at, id)` order. */
export function addToTimeline(timeline: TimelineEntry[], entries: readonly TimelineEntry[]): void {
  if (entries.length === 0) return;
  timeline.push(...entries);
  timeline.sort((a, b) => a[0] - b[0] || compareIds(a[1], b[1]));
}

const money = (value: Json | undefined): number =>
  typeof value === "number" && Number.isFinite(value) ? Math.round(value) : 0;
const text = (value: Json | undefined): string => (typeof value === "string" ? value : "");

/**
 * The movements a timeline makes, in order.
 *
 * @param fallbackCurrency the currency of MRR before any entry names one (the profile's currency,
 *   which may come from payments)
 * @param dayOf the reporting day of an instant (worker/metrics/days.ts, in the reporting zone)
 */
export function movementsOf(
  timeline: readonly TimelineEntry[],
  fallbackCurrency: string,
  dayOf: (at: number) => number,
  from: WalkState = START_OF_WALK,
): Movement[] {
  return walk(timeline, fallbackCurrency, dayOf, from).movements;
}

/**
 * Where the walk stands after some entries: what the next entry is read against. A profile state
 * keeps it as the checkpoint of the entries it has compacted away (worker/ingest/write-events.ts:
 * entries dated before the archive seal can no longer change, nor have anything arrive before them).
 */
export interface WalkState {
  subscribed: boolean;
  lastWasCancel: boolean;
  everPaying: boolean;
  firstPayingAt: number;
  /** The day the customer joined the paying stock of their current currency (a churn ends that spell). */
  spellStartDay: number;
  mrr: number;
  plan: string;
  currency: string | null;
  paying: boolean;
}

export const START_OF_WALK: Readonly<WalkState> = Object.freeze({
  subscribed: false,
  lastWasCancel: false,
  everPaying: false,
  firstPayingAt: 0,
  spellStartDay: 0,
  mrr: 0,
  plan: "",
  currency: null,
  paying: false,
});

/** The movements `timeline` makes after `from`, and where the walk ends. */
export function walk(
  timeline: readonly TimelineEntry[],
  fallbackCurrency: string,
  dayOf: (at: number) => number,
  from: WalkState = START_OF_WALK,
): { movements: Movement[]; end: WalkState } {
  const out: Movement[] = [];
  let { subscribed, lastWasCancel, everPaying, firstPayingAt, spellStartDay, mrr, plan, currency, paying } =
    from;
  for (const [at, , kind, fields] of timeline) {
    const before = { paying, mrr, plan, currency: currency ?? fallbackCurrency };
    if (kind !== "x" && kind !== "u") subscribed = true;
    if (kind === "s" || kind === "r") lastWasCancel = false;
    if (kind === "x") lastWasCancel = true;
    if (Object.hasOwn(fields, "mrr")) mrr = money(fields.mrr);
    if (Object.hasOwn(fields, "plan")) plan = text(fields.plan);
    if (Object.hasOwn(fields, "currency") && typeof fields.currency === "string") currency = fields.currency;
    paying = subscribed && !lastWasCancel;
    const now = { mrr, plan, currency: currency ?? fallbackCurrency };
    const day = dayOf(at);
    if (!before.paying && paying) {
      const metric = everPaying ? "mrr.reactivation" : "mrr.new";
      if (!everPaying) firstPayingAt = at;
      everPaying = true;
      spellStartDay = day;
      out.push([metric, day, now.currency, now.plan, "", "", "", 1, now.mrr, 1, now.mrr]);
    } else if (before.paying && !paying) {
      const reason = text(fields.reason);
      const kindOfChurn = reason === INVOLUNTARY_REASON ? "involuntary" : "voluntary";
      const tenure = tenureBucket(at - firstPayingAt);
      out.push([
        "mrr.churn",
        day,
        before.currency,
        before.plan,
        reason,
        kindOfChurn,
        tenure,
        1,
        before.mrr,
        -1,
        -before.mrr,
      ]);
      const spell = String(spellStartDay);
      out.push(["mrr.churn_spell", day, before.currency, spell, "", "", "", 1, before.mrr, 0, 0]);
    } else if (paying && before.currency !== now.currency) {
      // The subscription moved to another currency: it leaves one currency's figures and joins the other's.
      out.push([
        "mrr.contraction",
        day,
        before.currency,
        now.plan,
        "",
        "",
        "",
        1,
        before.mrr,
        -1,
        -before.mrr,
      ]);
      out.push(["mrr.expansion", day, now.currency, now.plan, "", "", "", 1, now.mrr, 1, now.mrr]);
      // In the new currency's figures the customer is one who joined today.
      spellStartDay = day;
    } else if (paying && now.mrr !== before.mrr) {
      const delta = now.mrr - before.mrr;
      const metric = delta > 0 ? "mrr.expansion" : "mrr.contraction";
      out.push([metric, day, now.currency, now.plan, "", "", "", 1, Math.abs(delta), 0, delta]);
    }
  }
  return {
    movements: out,
    end: { subscribed, lastWasCancel, everPaying, firstPayingAt, spellStartDay, mrr, plan, currency, paying },
  };
}

/** One `metric_days` delta row (docs/metrics.md). */
export interface MetricDelta {
  metric: string;
  grain: "d" | "m" | "y";
  period: number;
  currency: string;
  k1: string;
  k2: string;
  k3: string;
  k4: string;
  count: number;
  amount: number;
}

/**
 * The `metric_days` rows that turn `counted` into `current`: movements only in `counted` are
 * subtracted, those only in `current` added (as multisets), each with its stock change at the day,
 * month and year grains. Rows with the same key are merged and rows that come to nothing dropped.
 *
 * @param monthOf the month number of a day number; `yearOf` its year (worker/metrics/days.ts)
 */
export function movementDeltas(
  counted: readonly Movement[],
  current: readonly Movement[],
  monthOf: (day: number) => number,
  yearOf: (day: number) => number,
): MetricDelta[] {
  const balance = new Map<string, { movement: Movement; times: number }>();
  const tally = (movement: Movement, sign: number) => {
    const key = JSON.stringify(movement);
    const entry = balance.get(key) ?? { movement, times: 0 };
    entry.times += sign;
    balance.set(key, entry);
  };
  for (const movement of counted) tally(movement, -1);
  for (const movement of current) tally(movement, 1);

  const rows = new Map<string, MetricDelta>();
  const add = (row: Omit<MetricDelta, "count" | "amount">, count: number, amount: number) => {
    const key = JSON.stringify([
      row.metric,
      row.grain,
      row.period,
      row.currency,
      row.k1,
      row.k2,
      row.k3,
      row.k4,
    ]);
    const existing = rows.get(key);
    if (existing) {
      existing.count += count;
      existing.amount += amount;
    } else {
      rows.set(key, { ...row, count, amount });
    }
  };
  for (const { movement, times } of balance.values()) {
    if (times === 0) continue;
    const [metric, day, currency, k1, k2, k3, k4, count, amount, stockCount, stockAmount] = movement;
    add({ metric, grain: "d", period: day, currency, k1, k2, k3, k4 }, count * times, amount * times);
    if (stockCount === 0 && stockAmount === 0) continue;
    const stock = { metric: "customers.active", currency, k1: "", k2: "", k3: "", k4: "" };
    add({ ...stock, grain: "d", period: day }, stockCount * times, stockAmount * times);
    add({ ...stock, grain: "m", period: monthOf(day) }, stockCount * times, stockAmount * times);
    add({ ...stock, grain: "y", period: yearOf(day) }, stockCount * times, stockAmount * times);
  }
  return [...rows.values()].filter((row) => row.count !== 0 || row.amount !== 0);
}
