/**
 * IANA time zones: the wall clock of an instant, the instant of a wall-clock time (DST-aware), and
 * quiet hours ("21:00-08:00" in the customer's zone).
 *
 * Stage: runtime support shared by the checker (valid zone names, quiet-hours syntax), dsl/time/cron.ts
 * (campaign schedules evaluated in their zone) and the Worker's send path (a message due inside a
 * customer's quiet hours is deferred to `nextAllowedTime`). Built on Intl.DateTimeFormat only, so
 * Node (the CLI) and workerd (the Worker) share one implementation and one tz database (ICU's).
 *
 * DST rules, applied everywhere in Rebound:
 * - A wall-clock time that does not exist (skipped by a spring-forward gap, e.g. 02:30 on the
 *   March change in New York) resolves to the first instant after the gap (03:00 EDT).
 * - A wall-clock time that happens twice (fall-back, e.g. 01:30 in November in New York) resolves
 *   to the earlier instant unless the caller asks for the later one.
 */

import type { ExprDiagnostic } from "../errors";
import { civilFromDays, civilToMs, DAY_MS, daysInMonth, MINUTE_MS, weekdayOf } from "./calendar";

/** A wall-clock reading: month 1-12, day 1-31, hour 0-23, minute 0-59, second 0-59 (default 0). */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
}

/** The wall clock of an instant in a zone; `weekday` is 0 = Sunday … 6 = Saturday. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

/** Which instant a repeated wall-clock time (fall-back) means. */
export type Disambiguation = "earlier" | "later";

// One formatter per zone: building one costs ~100x a format() call and this path is hot.
const formatters = new Map<string, Intl.DateTimeFormat>();
// Offset-style names ("+05:30") are accepted by some newer Intl engines but are not IANA zones and
// carry no DST rules; rejecting them keeps Node and workerd in agreement.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;
const WALL_CLOCK = /(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)/;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
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
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The runtime's canonical spelling of a valid zone ("america/new_york" → "America/New_York"). */
export function canonicalTimeZone(timeZone: string): string {
  return formatterFor(timeZone).resolvedOptions().timeZone;
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
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(wanted.length / 4)) + 1;
  for (const zone of zones) {
    const distance = editDistance(wanted, zone.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = zone;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `cap`) once every path costs at least `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= cap) return cap;
    previous = current;
  }
  return Math.min(previous[b.length] ?? cap, cap);
}

function assertInstant(instantMs: number): void {
  if (!Number.isFinite(instantMs)) throw new RangeError(`not a finite instant: ${instantMs}`);
}

/** The wall clock of an instant (to the second) as civil milliseconds. */
function wallClockMs(instantMs: number, timeZone: string): number {
  const match = WALL_CLOCK.exec(formatterFor(timeZone).format(instantMs));
  if (!match) throw new RangeError(`cannot read the wall clock of ${instantMs} in "${timeZone}"`);
  const [, month, day, year, hour, minute, second] = match.map(Number) as number[];
  // Some ICU builds print midnight as 24 even with h23.
  return civilToMs(year!, month!, day!, hour! % 24, minute!, second!);
}

/** UTC offset in ms at an instant (wall clock minus instant, both at whole seconds). */
function offsetAt(instantMs: number, timeZone: string): number {
  const second = Math.floor(instantMs / 1000) * 1000;
  return wallClockMs(second, timeZone) - second;
}

/**
 * The zone's UTC offset at an instant, in ms (east positive: Asia/Kolkata is +19,800,000).
 *
 * @throws RangeError for an unknown zone or a non-finite instant.
 */
export function utcOffsetMs(instantMs: number, timeZone: string): number {
  assertInstant(instantMs);
  return offsetAt(instantMs, timeZone);
}

/**
 * The wall clock of an instant in a zone.
 *
 * @throws RangeError for an unknown zone or a non-finite instant.
 * @example localParts(Date.parse("2026-07-01T12:00:00Z"), "Asia/Kolkata") // 17:30, weekday 3
 */
export function localParts(instantMs: number, timeZone: string): LocalParts {
  assertInstant(instantMs);
  const wall = wallClockMs(instantMs, timeZone);
  const days = Math.floor(wall / DAY_MS);
  const { year, month, day } = civilFromDays(days);
  const secondOfDay = Math.floor((wall - days * DAY_MS) / 1000);
  return {
    year,
    month,
    day,
    hour: Math.floor(secondOfDay / 3600),
    minute: Math.floor(secondOfDay / 60) % 60,
    second: secondOfDay % 60,
    weekday: weekdayOf(year, month, day),
  };
}

// Offsets at sample instants aligned to SAMPLE_STEP_MS, per zone: neighbouring wall-clock times
// (a cron scan, a batch of quiet-hour checks) share their samples, saving most Intl calls.
const SAMPLE_STEP_MS = 6 * 3_600_000;
const MAX_SAMPLES_PER_ZONE = 4096;
const sampledOffsets = new Map<string, Map<number, number>>();

function sampledOffsetAt(sample: number, timeZone: string): number {
  let samples = sampledOffsets.get(timeZone);
  if (!samples) {
    samples = new Map();
    sampledOffsets.set(timeZone, samples);
  }
  const cached = samples.get(sample);
  if (cached !== undefined) return cached;
  if (samples.size >= MAX_SAMPLES_PER_ZONE) samples.clear();
  const offset = offsetAt(sample, timeZone);
  samples.set(sample, offset);
  return offset;
}

/**
 * The offsets in force a day before and a day after civil time `wall` (sampled at aligned instants
 * 24-30 hours away): every real transition (DST, a zone changing its standard offset, even Samoa
 * skipping a whole day) near `wall` lies between the two samples, and no zone has two that close.
 */
function offsetsAround(wall: number, timeZone: string): { before: number; after: number } {
  const before = Math.floor((wall - DAY_MS) / SAMPLE_STEP_MS) * SAMPLE_STEP_MS;
  const after = Math.ceil((wall + DAY_MS) / SAMPLE_STEP_MS) * SAMPLE_STEP_MS;
  return { before: sampledOffsetAt(before, timeZone), after: sampledOffsetAt(after, timeZone) };
}

/** The instants that show civil time `wall` in the zone: none (gap), one, or two (fall-back). */
function instantsShowing(wall: number, timeZone: string): number[] {
  const { before, after } = offsetsAround(wall, timeZone);
  // No transition near `wall` (the common case, answered from cached samples without calling Intl).
  if (before === after) return [wall - before];
  const instants: number[] = [];
  for (const offset of [before, after]) {
    const instant = wall - offset;
    if (offsetAt(instant, timeZone) === offset) instants.push(instant);
  }
  return instants.sort((a, b) => a - b);
}

/** The first instant after a gap that swallowed civil time `wall` (the transition itself). */
function endOfGap(wall: number, timeZone: string): number {
  const { before, after } = offsetsAround(wall, timeZone);
  // Inside the gap `wall - after` is still on the old offset and `wall - before` on the new one;
  // tz transitions fall on whole seconds, so bisect in seconds.
  let old = Math.floor((wall - after) / 1000);
  let changed = Math.ceil((wall - before) / 1000);
  while (changed - old > 1) {
    const middle = Math.floor((old + changed) / 2);
    if (offsetAt(middle * 1000, timeZone) === before) old = middle;
    else changed = middle;
  }
  return changed * 1000;
}

function assertLocal(local: LocalDateTime): void {
  const { year, month, day, hour, minute, second = 0 } = local;
  const ok =
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    month >= 1 &&
    month <= 12 &&
    Number.isInteger(day) &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    Number.isInteger(hour) &&
    hour >= 0 &&
    hour <= 23 &&
    Number.isInteger(minute) &&
    minute >= 0 &&
    minute <= 59 &&
    Number.isInteger(second) &&
    second >= 0 &&
    second <= 59;
  if (!ok) throw new RangeError(`not a valid wall-clock time: ${JSON.stringify(local)}`);
}

/**
 * The instant at which the zone's wall clock shows `local`.
 * A time skipped by a spring-forward gap resolves to the first instant after the gap; a time shown
 * twice (fall-back) resolves to the earlier instant, or the later one with `"later"`.
 *
 * @throws RangeError for an unknown zone or an impossible date (Feb 30, hour 24).
 * @example zonedTimeToInstant({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, "America/New_York")
 *   // 2026-03-08T07:00:00Z (03:00 EDT: 02:30 never happened)
 */
export function zonedTimeToInstant(
  local: LocalDateTime,
  timeZone: string,
  disambiguation: Disambiguation = "earlier",
): number {
  assertLocal(local);
  const wall = civilToMs(local.year, local.month, local.day, local.hour, local.minute, local.second ?? 0);
  return resolveWallClock(wall, timeZone, disambiguation);
}

/**
 * Civil milliseconds → instant with Rebound's DST rules. Exported for dsl/time/cron.ts, which walks the
 * calendar as civil milliseconds; others should call `zonedTimeToInstant`.
 */
export function resolveWallClock(wall: number, timeZone: string, disambiguation: Disambiguation): number {
  const instants = instantsShowing(wall, timeZone);
  if (instants.length === 0) return endOfGap(wall, timeZone);
  return (disambiguation === "later" ? instants[instants.length - 1] : instants[0]) as number;
}

/** Quiet hours as minutes after local midnight; `start > end` means the window spans midnight. */
export interface QuietHours {
  /** First quiet minute of the day, 0-1439. */
  start: number;
  /** First minute after the window, 1-1440 (1440 = midnight at the end of the day). */
  end: number;
}

const QUIET_HOURS = /^(\s*)(\S*?)(\s*-\s*)(\S*?)\s*$/;
const CLOCK = /^(\d{1,2}):(\d{2})$/;

/**
 * Parses quiet hours written as local `HH:MM-HH:MM` ("21:00-08:00" wraps midnight; "24:00" may
 * end a window). Diagnostics (`bad_quiet_hours`) span the offending time within `text`.
 *
 * @example parseQuietHours("21:30-08:00").quietHours // { start: 1290, end: 480 }
 */
export function parseQuietHours(text: string): { quietHours?: QuietHours; diagnostics: ExprDiagnostic[] } {
  const whole = { start: 0, end: text.length };
  const shape = QUIET_HOURS.exec(text);
  if (!shape || shape[2] === "" || shape[4] === "") {
    return {
      diagnostics: [
        {
          code: "bad_quiet_hours",
          message: `quiet hours must look like "21:00-08:00" (local start-end), not "${text}"`,
          span: whole,
        },
      ],
    };
  }
  const [, lead = "", startText = "", dash = "", endText = ""] = shape;
  const startAt = lead.length;
  const endAt = startAt + startText.length + dash.length;
  const diagnostics: ExprDiagnostic[] = [];
  const start = readClock(startText, startAt, false, diagnostics);
  const end = readClock(endText, endAt, true, diagnostics);
  if (start === undefined || end === undefined) return { diagnostics };
  if (start === end || (start === 0 && end === 1440)) {
    diagnostics.push({
      code: "bad_quiet_hours",
      message: `quiet hours "${text}" ${start === end ? "are empty" : "cover the whole day"}: nothing could ever be sent`,
      span: whole,
      hint: "leave quiet hours out to allow sending at any time",
    });
    return { diagnostics };
  }
  return { quietHours: { start, end }, diagnostics };
}

function readClock(
  text: string,
  offset: number,
  isEnd: boolean,
  diagnostics: ExprDiagnostic[],
): number | undefined {
  const span = { start: offset, end: offset + text.length };
  const match = CLOCK.exec(text);
  if (!match) {
    diagnostics.push({ code: "bad_quiet_hours", message: `"${text}" is not a time of day (HH:MM)`, span });
    return undefined;
  }
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  if (isEnd && hour === 24 && minute === 0) return 1440;
  if (hour > 23 || minute > 59) {
    diagnostics.push({
      code: "bad_quiet_hours",
      message: `"${text}" is not a time of day: hours run 00-23 and minutes 00-59`,
      span,
      hint: isEnd ? 'use "24:00" or "00:00" for midnight' : 'use "00:00" for midnight',
    });
    return undefined;
  }
  return hour * 60 + minute;
}

function insideWindow(minuteOfDay: number, window: QuietHours): boolean {
  return window.start < window.end
    ? minuteOfDay >= window.start && minuteOfDay < window.end
    : minuteOfDay >= window.start || minuteOfDay < window.end;
}

/**
 * True when the zone's wall clock at `nowMs` is inside the quiet window (start inclusive, end
 * exclusive, to the minute).
 */
export function isQuiet(timeZone: string, nowMs: number, window: QuietHours): boolean {
  const local = localParts(nowMs, timeZone);
  return insideWindow(local.hour * 60 + local.minute, window);
}

/**
 * The earliest instant at or after `nowMs` outside the quiet window: `nowMs` itself when not
 * quiet, otherwise the instant the window ends in the zone (a deferred send goes out then). If the
 * window's end falls in a DST gap, that is the end of the gap; if it is a repeated time, the first
 * occurrence after `nowMs`.
 *
 * @example nextAllowedTime("Europe/Berlin", Date.parse("2026-01-10T22:00:00Z"), { start: 1260, end: 480 })
 *   // 2026-01-11T07:00:00Z (08:00 in Berlin)
 */
export function nextAllowedTime(timeZone: string, nowMs: number, window: QuietHours): number {
  const local = localParts(nowMs, timeZone);
  const minuteOfDay = local.hour * 60 + local.minute;
  if (!insideWindow(minuteOfDay, window)) return nowMs;
  // The window ends later today unless it wraps midnight and we are in its evening part.
  const endsTomorrow = minuteOfDay >= window.end;
  const endDay = civilToMs(local.year, local.month, local.day, 0, 0) + (endsTomorrow ? DAY_MS : 0);
  const wall = endDay + window.end * MINUTE_MS;
  const instants = instantsShowing(wall, timeZone);
  if (instants.length === 0) return endOfGap(wall, timeZone);
  return instants.find((instant) => instant > nowMs) ?? (instants[instants.length - 1] as number);
}
