/**
 * IANA time zone names: which names are valid, their canonical spelling, and a located
 * `unknown_timezone` diagnostic with a "did you mean" for a rule file's zone.
 *
 * Stage: support for the checker (rules/check-context.ts checks every zone a rule file names) and
 * for dsl/time/wall-clock.ts, which reads the wall clock through the formatter kept here. Built on
 * Intl.DateTimeFormat only, so Node (the CLI) and workerd (the Worker) share one tz database (ICU's).
 */

import type { ExprDiagnostic } from "../errors";
import { closest } from "../suggest";

// One formatter per zone: building one costs ~100x a format() call and this path is hot.
const formatters = new Map<string, Intl.DateTimeFormat>();
// Offset-style names ("+05:30") are accepted by some newer Intl engines but are not IANA zones and
// carry no DST rules; rejecting them keeps Node and workerd in agreement.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/**
 * The zone's wall-clock formatter (en-US, h23, to the second), built once per zone.
 *
 * @throws RangeError for a name that is not a zone the runtime knows.
 */
export function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  const cached = formatters.get(timeZone);
  if (cached) return cached;
  if (!IANA_NAME.test(timeZone)) throw new RangeError(`unknown time zone "${timeZone}"`);
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  } catch {
    throw new RangeError(`unknown time zone "${timeZone}"`);
  }
  formatters.set(timeZone, formatter);
  return formatter;
}

/**
 * True when `timeZone` is an IANA zone name the runtime knows ("Europe/Berlin", "UTC").
 * Offset strings such as "+05:30" are rejected. Matching is case-insensitive, as in Intl.
 */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    zoneFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The runtime's canonical spelling of a valid zone ("america/new_york" → "America/New_York"). */
export function canonicalTimeZone(timeZone: string): string {
  return zoneFormatter(timeZone).resolvedOptions().timeZone;
}

/**
 * Checks a zone name from a rule file: no diagnostics when valid, otherwise one `unknown_timezone`
 * spanning the whole name, with a "did you mean" when a known zone is close.
 *
 * @example checkTimeZone("America/New York") // hint: did you mean `America/New_York`?
 */
export function checkTimeZone(timeZone: string): ExprDiagnostic[] {
  if (isValidTimeZone(timeZone)) return [];
  const suggestion = suggestTimeZone(timeZone);
  const diagnostic: ExprDiagnostic = {
    code: "unknown_timezone",
    message: `unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin" or "UTC"`,
    span: { start: 0, end: timeZone.length },
  };
  if (suggestion) diagnostic.hint = `did you mean \`${suggestion}\`?`;
  return [diagnostic];
}

const REGIONS = [
  "America",
  "Europe",
  "Asia",
  "Africa",
  "Australia",
  "Pacific",
  "Atlantic",
  "Indian",
  "Antarctica",
];

function suggestTimeZone(text: string): string | undefined {
  const wanted = text.trim().replace(/\s+/g, "_").toLowerCase();
  if (wanted === "") return undefined;
  // A bare city ("Kolkata", "new york"): ICU knows some names it does not list (Asia/Kolkata is
  // listed as Asia/Calcutta), so try it under each region first.
  const city = wanted
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("_");
  if (!wanted.includes("/")) {
    for (const region of REGIONS) {
      if (isValidTimeZone(`${region}/${city}`)) return `${region}/${city}`;
    }
  }
  let zones: string[];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    return undefined;
  }
  for (const zone of zones) {
    const lower = zone.toLowerCase();
    if (lower === wanted || lower.endsWith(`/${wanted}`)) return zone;
  }
  return closest(wanted, zones);
}
