/**
 * Checking what the rules talk about: settings, cancellation reasons, plans, custom fields and
 * segments (in dependency order, with cycles reported where they close).
 *
 * Stage: part of check, run first so later sections can refer to segments and fields.
 */
import type { Expr } from "../expr/ast";
import { rateFraction } from "../expr/exchange";
import { DEFAULT_REASONS, isKnownCurrency, parseFieldType } from "../expr/fields";
import { parseExpression } from "../expr/parser";
import type { ExprType } from "../expr/types";
import { walk } from "../expr/walk";
import { LIMITS } from "../limits";
import type { CheckContext, Entry } from "./check-context";
import type { YamlNode, YamlScalar } from "./load";
import type { Reader } from "./reader";
import type { RulesetIR } from "./ruleset";

const DAY_MS = 86_400_000;
/** `settings.metrics.winback_window` when the rules set none. */
const DEFAULT_WINBACK_WINDOW_MS = 90 * DAY_MS;

export interface Settings {
  currency: string;
  defaultTimezone: string;
  /** `event_retention` in ms; null when the rules keep raw events forever. */
  eventRetentionMs: number | null;
  /** `metrics`, with its defaults applied (the zone defaults to `defaultTimezone`). */
  metrics: RulesetIR["metrics"];
  /** `exchange_rates`: 1 unit of the key is worth this many units of `currency` (targeting, not accounting). */
  exchangeRates: Record<string, number>;
}

/** `settings.metrics.timezone` may name this instead of a zone: each customer's own zone. */
const CUSTOMER_ZONE = "customer";

export function readSettings(c: CheckContext): Settings {
  const result: Settings = {
    currency: "USD",
    defaultTimezone: "UTC",
    eventRetentionMs: null,
    metrics: { timezone: "UTC", winbackWindowMs: DEFAULT_WINBACK_WINDOW_MS },
    exchangeRates: {},
  };
  const found = c.single("settings");
  if (!found) return result;
  const { node, reader } = found;
  const map = reader.map(node, "`settings`");
  if (!map) return result;
  const fields = reader.fields(map, "`settings`", [
    "currency",
    "default_timezone",
    "event_retention",
    "metrics",
    "exchange_rates",
  ]);
  const retentionNode = fields.get("event_retention");
  if (retentionNode) {
    const ms = reader.duration(retentionNode, "`event_retention`", LIMITS.maxDurationMs);
    if (ms !== undefined && ms < DAY_MS) {
      reader.fail(
        retentionNode,
        "bad_duration",
        "`event_retention` must be at least 1d",
        "raw events are archived by whole days",
      );
    } else if (ms !== undefined) {
      result.eventRetentionMs = ms;
    }
  }
  const currencyNode = fields.get("currency");
  if (currencyNode) {
    const code = reader.string(currencyNode, "`currency`");
    if (code !== undefined && isKnownCurrency(code)) result.currency = code;
    else if (code !== undefined)
      reader.fail(
        currencyNode,
        "bad_money",
        `unknown currency \`${code}\``,
        "use an ISO 4217 code such as USD or EUR",
      );
  }
  const zoneNode = fields.get("default_timezone");
  if (zoneNode) {
    const zone = c.timeZone(zoneNode, reader);
    if (zone) result.defaultTimezone = zone;
  }
  result.metrics = readMetrics(c, fields.get("metrics"), reader, result.defaultTimezone);
  const ratesNode = fields.get("exchange_rates");
  if (ratesNode) result.exchangeRates = readExchangeRates(ratesNode, reader, result.currency);
  return result;
}

/**
 * `settings.exchange_rates: { EUR: 1.08, GBP: 1.27 }`: what one unit of each currency is worth in
 * the ruleset currency. Keys are known ISO 4217 codes other than the ruleset currency; rates are
 * positive numbers with at most ten decimal places (dsl/expr/exchange.ts keeps them exact).
 */
function readExchangeRates(node: YamlNode, reader: Reader, currency: string): Record<string, number> {
  const rates: Record<string, number> = {};
  const map = reader.map(node, "`exchange_rates`");
  if (!map) return rates;
  for (const { key, value } of map.pairs) {
    const code = String(key.value);
    if (!isKnownCurrency(code)) {
      reader.fail(
        key,
        "bad_money",
        `unknown currency \`${code}\``,
        "use an ISO 4217 code such as EUR or GBP",
      );
      continue;
    }
    if (code === currency) {
      reader.fail(
        key,
        "schema_violation",
        `${code} is the rules' currency (settings.currency); it needs no rate`,
        "remove this entry",
      );
      continue;
    }
    const rate = value.kind === "scalar" && typeof value.value === "number" ? value.value : undefined;
    const fraction = rate === undefined ? undefined : rateFraction(rate);
    if (rate === undefined || fraction === undefined || "error" in fraction) {
      reader.fail(
        value,
        "schema_violation",
        `the ${code} rate must be a positive number such as 1.08 (one ${code} in ${currency}), found ${reader.describe(value)}`,
        fraction && "error" in fraction ? fraction.error : undefined,
      );
      continue;
    }
    rates[code] = rate;
  }
  return rates;
}

/**
 * The error for an amount or a `money(XXX)` type in a currency the rules cannot convert: neither
 * the ruleset currency nor one with a rate in `settings.exchange_rates`; undefined when it converts.
 */
export function unconvertibleCurrency(
  c: CheckContext,
  currency: string,
  written: string,
): { message: string; hint: string } | undefined {
  if (currency === c.currency || c.exchangeRates[currency] !== undefined) return undefined;
  return {
    message: `${written} is in ${currency}, but the rules' currency is ${c.currency} and settings.exchange_rates has no ${currency} rate`,
    hint: `declare one in settings.exchange_rates (what 1 ${currency} is worth in ${c.currency}) or write the amount in ${c.currency}`,
  };
}

/** `settings.metrics`: the reports' zone (a zone or `customer`) and the win-back attribution window. */
function readMetrics(
  c: CheckContext,
  node: YamlNode | undefined,
  reader: Reader,
  defaultTimezone: string,
): Settings["metrics"] {
  const metrics = { timezone: defaultTimezone, winbackWindowMs: DEFAULT_WINBACK_WINDOW_MS };
  const map = node ? reader.map(node, "`settings.metrics`") : undefined;
  if (!map) return metrics;
  const fields = reader.fields(map, "`settings.metrics`", ["timezone", "winback_window"]);
  const zoneNode = fields.get("timezone");
  if (zoneNode) {
    const zone =
      zoneNode.kind === "scalar" && zoneNode.value === CUSTOMER_ZONE
        ? CUSTOMER_ZONE
        : c.timeZone(zoneNode, reader);
    if (zone) metrics.timezone = zone;
  }
  const windowNode = fields.get("winback_window");
  if (windowNode) {
    const ms = reader.duration(windowNode, "`winback_window`", LIMITS.maxDurationMs);
    if (ms !== undefined) metrics.winbackWindowMs = ms;
  }
  return metrics;
}

export function readReasons(c: CheckContext): RulesetIR["reasons"] {
  const found = c.single("reasons");
  if (!found)
    return DEFAULT_REASONS.map((key) => ({ key, description: null, offers: key !== "shutting_down" }));
  const { node, reader } = found;
  const reasons: RulesetIR["reasons"] = [];
  if (node.kind === "seq") {
    for (const item of node.items) {
      const key = reader.key(item, "a reason");
      if (key === undefined) continue;
      if (reasons.some((r) => r.key === key))
        reader.fail(item, "duplicate_key", `reason \`${key}\` is listed twice`);
      else reasons.push({ key, description: null, offers: true });
    }
    return reasons;
  }
  const map = reader.map(node, "`reasons`");
  if (!map) return reasons;
  for (const pair of map.pairs) {
    const key = reader.key(pair.key, "a reason");
    if (key === undefined) continue;
    if (pair.value.kind === "map") {
      const fields = reader.fields(pair.value, `reason \`${key}\``, ["description", "offers"]);
      const offers = fields.get("offers");
      reasons.push({
        key,
        description: reader.optionalString(fields.get("description"), "a description"),
        offers: offers ? (reader.boolean(offers, "`offers`") ?? true) : true,
      });
    } else {
      const description =
        pair.value.kind === "scalar" && pair.value.value === null
          ? null
          : reader.string(pair.value, "a reason's description");
      reasons.push({ key, description: description ?? null, offers: true });
    }
  }
  return reasons;
}

export function readPlans(c: CheckContext): string[] | null {
  const found = c.single("plans");
  if (!found) return null;
  const keys = found.reader.keyList(found.node, "`plans`");
  return keys ? [...new Set(keys.map((k) => k.key))] : null;
}

export function readFields(
  c: CheckContext,
): { name: string; type: string; parsed: ExprType; description: string | null }[] {
  const fields: { name: string; type: string; parsed: ExprType; description: string | null }[] = [];
  for (const entry of c.limit(c.mapEntries("fields"), LIMITS.maxCustomFields, "custom fields")) {
    const { reader, value } = entry;
    let typeNode: YamlNode | undefined = value;
    let description: string | null = null;
    if (value.kind === "map") {
      const found = reader.fields(value, `field \`${entry.key}\``, ["type", "description"], ["type"]);
      typeNode = found.get("type");
      description = reader.optionalString(found.get("description"), "a description");
    }
    if (!typeNode) continue;
    const typeText = reader.string(typeNode, "a field type");
    if (typeText === undefined) continue;
    const parsed = parseFieldType(typeText);
    if ("error" in parsed) {
      reader.fail(typeNode, "schema_violation", parsed.error);
      continue;
    }
    const unconvertible =
      parsed.kind === "money" && parsed.currency
        ? unconvertibleCurrency(c, parsed.currency, `field \`${entry.key}\` (${typeText})`)
        : undefined;
    if (unconvertible) reader.fail(typeNode, "no_exchange_rate", unconvertible.message, unconvertible.hint);
    fields.push({ name: entry.key, type: typeText, parsed, description });
  }
  return fields;
}

export function readSegments(c: CheckContext, entries: Entry[]): RulesetIR["segments"] {
  const parsed = new Map<string, { entry: Entry; node: YamlScalar; ast: Expr; description: string | null }>();
  for (const entry of entries) {
    const { reader, value } = entry;
    let whenNode: YamlNode | undefined = value;
    let description: string | null = null;
    if (value.kind === "map") {
      const fields = reader.fields(value, `segment \`${entry.key}\``, ["when", "description"], ["when"]);
      whenNode = fields.get("when");
      description = reader.optionalString(fields.get("description"), "a description");
    }
    if (!whenNode) continue;
    if (whenNode.kind !== "scalar" || typeof whenNode.value !== "string") {
      reader.fail(
        whenNode,
        "schema_violation",
        `segment \`${entry.key}\` must be an expression, found ${reader.describe(whenNode)}`,
      );
      continue;
    }
    const result = parseExpression(whenNode.value);
    if (!result.ast || result.diagnostics.length > 0) {
      c.exprDiagnostics(whenNode, reader, result.diagnostics);
      continue;
    }
    parsed.set(entry.key, { entry, node: whenNode, ast: result.ast, description });
  }
  // Dependency order; a reference that closes a cycle is reported where it is written.
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (key: string, path: string[]): void => {
    const segment = parsed.get(key);
    if (!segment || state.get(key) === "done") return;
    state.set(key, "visiting");
    for (const ref of segmentRefs(segment.ast, parsed)) {
      if (state.get(ref.name) === "visiting") {
        const cycle = [...path.slice(path.indexOf(ref.name)), key, ref.name].join(" → ");
        segment.entry.reader.inside(
          segment.node,
          ref.span,
          "segment_cycle",
          `segments refer to each other in a cycle: ${cycle}`,
        );
        state.set(ref.name, "done");
        continue;
      }
      if (path.length >= LIMITS.maxSegmentDepth) {
        segment.entry.reader.inside(
          segment.node,
          ref.span,
          "limit_exceeded",
          `segments may build on each other at most ${LIMITS.maxSegmentDepth} deep`,
        );
        continue;
      }
      visit(ref.name, [...path, key]);
    }
    state.set(key, "done");
    order.push(key);
  };
  for (const key of parsed.keys()) visit(key, []);
  const segments: RulesetIR["segments"] = [];
  const cyclic = new Set(
    c.report.diagnostics.filter((d) => d.code === "segment_cycle").length > 0 ? parsed.keys() : [],
  );
  for (const key of order) {
    const segment = parsed.get(key)!;
    if (cyclic.size > 0) continue;
    const when = c.expression(segment.node, segment.entry.reader);
    if (!when) {
      // Known but broken: later references are not "unknown", they just cannot run in SQL.
      c.segmentInfo.set(key, { name: key, sqlTranslatable: false });
      continue;
    }
    c.segmentInfo.set(key, { name: key, sqlTranslatable: when.sqlTranslatable });
    if (when.sqlTranslatable)
      c.translate(when, segment.node, segment.entry.reader, (sql) => c.segmentSql.set(key, sql), true);
    segments.push({ key, description: segment.description, when });
  }
  // Later expressions must still see every declared segment, so a broken one is not "unknown".
  for (const key of parsed.keys())
    if (!c.segmentInfo.has(key)) c.segmentInfo.set(key, { name: key, sqlTranslatable: false });
  for (const entry of entries)
    if (!c.segmentInfo.has(entry.key))
      c.segmentInfo.set(entry.key, { name: entry.key, sqlTranslatable: false });
  return segments;
}

/** Segment names an expression refers to (bare names that are segments, outside call arguments). */
export function segmentRefs(
  ast: Expr,
  segments: ReadonlyMap<string, unknown>,
): { name: string; span: { start: number; end: number } }[] {
  const refs: { name: string; span: { start: number; end: number } }[] = [];
  walk(ast, (node) => {
    if (node.kind === "name" && segments.has(node.name)) refs.push({ name: node.name, span: node.span });
    // Event paths in aggregates are not segment references; other arguments may be.
    if (node.kind === "call") return node.name === "days_since";
  });
  return refs;
}
