/**
 * Event aggregates for compiled closures: `count`, `sum` and `last` over the customer's events in a
 * window ending at `now`, reading typed properties the way dsl/expr/sql.ts's json_type guards do,
 * so both back ends agree on every event.
 *
 * Stage: part of compile (dsl/expr/compile.ts compiles an aggregate call with `aggregate`).
 */

import { intern } from "./column-tests";
import type { AggregateInfo } from "./typecheck";
import type { Closure, EvalContext, EventRecord, ExprType, Value } from "./types";

const numberOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Reads a typed event property the way sql.ts's json_type guards do. */
function readProperty(
  event: EventRecord,
  name: string,
  type: ExprType,
  customerCurrency: unknown,
): Value | null {
  const v = event.properties[name];
  switch (type.kind) {
    case "string":
    case "enum":
      return typeof v === "string" ? v : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
    case "money": {
      const amount = numberOrNull(v);
      if (amount === null) return null;
      const currency = eventCurrency(event, customerCurrency);
      return currency === null ? null : { amount, currency };
    }
    default:
      return numberOrNull(v);
  }
}

function eventCurrency(event: EventRecord, customerCurrency: unknown): string | null {
  const own = event.properties.currency;
  if (typeof own === "string") return own;
  return typeof customerCurrency === "string" ? customerCurrency : null;
}

/** `sum` adds whole numbers only, so both back ends add exactly (see docs/expressions.md). */
function integral(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) ? v : null;
}

export const currencyOf = (ctx: EvalContext): string | null => {
  const currency = ctx.customer.currency;
  return typeof currency === "string" ? currency : null;
};

/** The amount of a money `sum` (in the customer's currency), or null without a customer currency. */
export function moneyTotal(agg: AggregateInfo): (ctx: EvalContext) => number | null {
  const eventType = intern(agg.eventType);
  const name = intern(agg.property!.name);
  const windowMs = agg.windowMs ?? Number.POSITIVE_INFINITY;
  return (ctx) => {
    const currency = ctx.customer.currency;
    if (typeof currency !== "string") return null;
    const now = ctx.now;
    const from = now - windowMs;
    const events = ctx.events;
    let total = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.type !== eventType || e.occurred_at > now || e.occurred_at <= from) continue;
      if (eventCurrency(e, currency) !== currency) continue;
      total += integral(e.properties[name]) ?? 0;
    }
    return total;
  };
}

// The loops below are written out rather than sharing a predicate closure: they run once per
// event per evaluation, and a call per event costs more than the comparison it makes.
export function aggregate(agg: AggregateInfo): Closure {
  const eventType = intern(agg.eventType);
  const windowMs = agg.windowMs ?? Number.POSITIVE_INFINITY;
  if (agg.fn === "count") {
    return (ctx) => {
      const now = ctx.now;
      const from = now - windowMs;
      const events = ctx.events;
      let n = 0;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        if (e.type === eventType && e.occurred_at <= now && e.occurred_at > from) n++;
      }
      return n;
    };
  }
  const property = agg.property;
  if (agg.fn === "sum") {
    const name = intern(property!.name);
    if (property!.type.kind === "money") {
      const total = moneyTotal(agg);
      return (ctx) => {
        const amount = total(ctx);
        return amount === null ? null : { amount, currency: ctx.customer.currency as string };
      };
    }
    return (ctx) => {
      const now = ctx.now;
      const from = now - windowMs;
      const events = ctx.events;
      let total = 0;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        if (e.type === eventType && e.occurred_at <= now && e.occurred_at > from) {
          total += integral(e.properties[name]) ?? 0;
        }
      }
      return total;
    };
  }
  return (ctx) => {
    const now = ctx.now;
    const from = now - windowMs;
    const events = ctx.events;
    let latest: EventRecord | null = null;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.type !== eventType || e.occurred_at > now || e.occurred_at <= from) continue;
      if (
        latest === null ||
        e.occurred_at > latest.occurred_at ||
        (e.occurred_at === latest.occurred_at && e.id > latest.id)
      ) {
        latest = e;
      }
    }
    if (latest === null) return null;
    if (!property) return latest.occurred_at;
    return readProperty(latest, property.name, property.type, ctx.customer.currency);
  };
}
