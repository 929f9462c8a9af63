/**
 * Ingest stage 2 of 3 (validate → normalise → write): turns schema-valid events into the rows the
 * `events` table stores, and finds the problems a JSON Schema cannot express (timestamps that name
 * no real instant, unknown time zones, cancellation reasons and plans the rules do not declare, custom
 * attributes of the wrong declared type, one id used for two different events, properties nested
 * too deep or holding a lone surrogate).
 *
 * Names in properties and attributes are data, `__proto__`, `constructor` and `prototype` included:
 * every object built from them here defines its keys (spread, null-prototype objects) instead of
 * assigning them, since `object["__proto__"] = value` on a plain object sets its prototype and the
 * name would be lost.
 */
import type { ExprType, Ruleset } from "../../dsl";
import { type AttributeValue, checkAttributes, declaredAttributes } from "../attributes/check-attributes";
import type { ErrorDetail } from "../errors";
import { parseInstant, parseInstantOrDate } from "../timestamps";
import { canonicalJson } from "./canonical-json";
import { propertiesProblems } from "./check-properties";

export const OCCURRED_AT_MESSAGE =
  "is not a valid ISO 8601 date-time with a UTC offset, e.g. 2026-03-01T09:30:00Z";

/** An event as the client sends it, after the JSON Schema accepted it. */
export interface IncomingEvent {
  id: string;
  type: string;
  customer_id: string;
  occurred_at: string;
  properties?: Record<string, unknown>;
}

/** An event ready to store: epoch-ms time and canonical JSON properties. */
export interface NormalizedEvent {
  id: string;
  customer_id: string;
  type: string;
  occurred_at: number;
  /**
   * Canonical JSON (sorted keys); timestamps inside are UTC ISO 8601 with milliseconds, except
   * `timestamp` custom attributes, which are epoch milliseconds as the rules read them. Resends are
   * compared on this form, so a byte-identical resend is always a duplicate.
   */
  properties: string;
}

export interface NormalizeResult {
  /** Unique events in request order; a repeat of an identical event within the request is dropped. */
  events: NormalizedEvent[];
  /** Ids repeated, with identical content, within the request (one entry per repeat). */
  duplicateIdsInRequest: string[];
  details: ErrorDetail[];
}

/** A schema-valid event and the JSON Pointer that names it in error paths (`""`, `/events/3`). */
export interface IncomingItem {
  event: IncomingEvent;
  at: string;
}

/** What normalisation checks against that a JSON Schema built before the rules cannot know. */
export interface NormalizeOptions {
  /** The cancellation reason keys of the deployed rules (`reasons:`), in rule order. */
  readonly reasons: readonly string[];
  /** The plan keys of the deployed rules (`plans:`), in rule order; null: the rules declare none. */
  readonly plans: readonly string[] | null;
  /** The custom attributes the deployed rules declare (`fields:`), by name, with their types. */
  readonly attributes: ReadonlyMap<string, ExprType>;
}

const optionsCache = new WeakMap<Ruleset, NormalizeOptions>();

/** What events are checked against under `ruleset` (its `reasons:`, `plans:` and `fields:`), derived once per ruleset. */
export function normalizeOptions(ruleset: Ruleset): NormalizeOptions {
  let options = optionsCache.get(ruleset);
  if (!options) {
    options = {
      reasons: Object.freeze(ruleset.ir.reasons.map((reason) => reason.key)),
      plans: ruleset.ir.plans ? Object.freeze([...ruleset.ir.plans]) : null,
      attributes: declaredAttributes(ruleset.ir),
    };
    optionsCache.set(ruleset, options);
  }
  return options;
}

/** Normalises a request's schema-valid events, in request order. */
export function normalizeEvents(items: readonly IncomingItem[], options: NormalizeOptions): NormalizeResult {
  const details: ErrorDetail[] = [];
  const byId = new Map<string, { event: NormalizedEvent; at: string }>();
  const events: NormalizedEvent[] = [];
  const duplicateIdsInRequest: string[] = [];

  for (const { event: raw, at } of items) {
    const occurredAt = parseInstant(raw.occurred_at);
    if (occurredAt === null) {
      details.push({ path: `${at}/occurred_at`, message: OCCURRED_AT_MESSAGE });
    }
    // Before anything recursive (canonical JSON) walks them: a value nested too deep is refused here.
    const shapeProblems = propertiesProblems(raw.properties ?? {}, `${at}/properties`);
    details.push(...shapeProblems);
    if (shapeProblems.length > 0) continue;
    // Spread defines own properties, so a property named `__proto__` stays data (names are data).
    const properties = { ...(raw.properties ?? {}) };
    details.push(...normalizeProperties(raw.type, properties, `${at}/properties`, options));
    if (occurredAt === null) continue;

    const event: NormalizedEvent = {
      id: raw.id,
      customer_id: raw.customer_id,
      type: raw.type,
      occurred_at: occurredAt,
      properties: canonicalJson(properties),
    };
    const earlier = byId.get(raw.id);
    if (!earlier) {
      byId.set(raw.id, { event, at });
      events.push(event);
    } else if (sameEvent(earlier.event, event)) {
      duplicateIdsInRequest.push(raw.id);
    } else {
      details.push({
        path: `${at}/id`,
        message: `repeats the id of ${earlier.at} with different content`,
      });
    }
  }
  return { events, duplicateIdsInRequest, details };
}

/** True when two events with the same id carry the same content (what a resend must look like). */
export function sameEvent(a: NormalizedEvent, b: NormalizedEvent): boolean {
  return (
    a.customer_id === b.customer_id &&
    a.type === b.type &&
    a.occurred_at === b.occurred_at &&
    a.properties === b.properties
  );
}

function normalizeProperties(
  type: string,
  properties: Record<string, unknown>,
  at: string,
  options: NormalizeOptions,
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  // A reason the rules do not declare would be a churn_reason no segment, offer or win-back
  // sequence can ever match, so it is refused rather than stored silently.
  if (type === "subscription.canceled" && typeof properties.reason === "string") {
    if (!options.reasons.includes(properties.reason)) {
      details.push({
        path: `${at}/reason`,
        message: `is not a cancellation reason of the rules; use one of: ${options.reasons.join(", ")} (or declare it under \`reasons:\` in the rules)`,
      });
    }
  }
  // The same for plans: the rules compare `plan` with their declared keys, so an undeclared plan
  // would silently match no segment, offer or inactivity rule. Rules that declare no plans treat
  // `plan` as free text, and then any plan is accepted.
  if (options.plans !== null && PLAN_PROPERTIES[type] !== undefined) {
    for (const name of PLAN_PROPERTIES[type]) {
      const plan = properties[name];
      if (typeof plan !== "string" || options.plans.includes(plan)) continue;
      details.push({
        path: `${at}/${name}`,
        message: `is not a plan of the rules; use one of: ${options.plans.join(", ")} (or declare it under \`plans:\` in the rules)`,
      });
    }
  }
  if (type === "card.expiring" && typeof properties.expires_at === "string") {
    const expiresAt = parseInstantOrDate(properties.expires_at);
    if (expiresAt === null) {
      details.push({
        path: `${at}/expires_at`,
        message: "is not a valid ISO 8601 date (2027-04-30) or date-time with a UTC offset",
      });
    } else {
      // Stored in one shape, so every reader (the profile fold, SQL's julianday()) reads one instant.
      properties.expires_at = new Date(expiresAt).toISOString();
    }
  }
  if (type === "customer.updated" && typeof properties.timezone === "string") {
    if (!isTimeZone(properties.timezone)) {
      details.push({ path: `${at}/timezone`, message: "is not an IANA time zone such as Europe/Berlin" });
    }
  }
  if (type === "customer.updated" && isAttributes(properties.attributes)) {
    // Undeclared attributes are kept: an app may send CRM attributes before a rules change declares them.
    const checked = checkAttributes(options.attributes, properties.attributes, {
      path: `${at}/attributes`,
      undeclared: "keep",
    });
    details.push(...checked.problems);
    properties.attributes = checked.values;
  }
  return details;
}

/** The properties that carry a plan key, by event type (docs/data-model.md). */
const PLAN_PROPERTIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "customer.updated": ["plan"],
  "subscription.started": ["plan"],
  "subscription.changed": ["plan", "previous_plan"],
  "subscription.reactivated": ["plan"],
});

/** An attributes object; the event schema has checked that its values are primitives. */
function isAttributes(value: unknown): value is Record<string, AttributeValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
