/**
 * The wall clock of a zone: the local time an instant shows, and the instant a local time means,
 * with Rebound's DST rules.
 *
 * Stage: runtime support for dsl/time/cron-occurrences.ts (campaign schedules evaluated in their
 * zone), dsl/time/quiet-hours.ts and the runtime's formatting of local times. Zone names and their
 * formatters come from dsl/time/zones.ts; calendar arithmetic from dsl/time/calendar.ts.
 *
 * DST rules, applied everywhere in Rebound:
 * - A wall-clock time that does not exist (skipped by a spring-forward gap, e.g. 02:30 on the
 *   March change in New York) resolves to the first instant after the gap (03:00 EDT).
 * - A wall-clock time that happens twice (fall-back, e.g. 01:30 in November in New York) resolves
 *   to the earlier instant unless the caller asks for the later one.
 */

import { civilFromDays, civilToMs, DAY_MS, daysInMonth, weekdayOf } from "./calendar";
import { zoneFormatter } from "./zones";

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

const WALL_CLOCK = /(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)\D+(\d+)/;

function assertInstant(instantMs: number): void {
  if (!Number.isFinite(instantMs)) throw new RangeError(`not a finite instant: ${instantMs}`);
}

/** The wall clock of an instant (to the second) as civil milliseconds. */
function wallClockMs(instantMs: number, timeZone: string): number {
  const match = WALL_CLOCK.exec(zoneFormatter(timeZone).format(instantMs));
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
  // Inside the gap `wall - after` is still on the old offset and `wall - before` on the new one.
  return transitionBetween(
    Math.floor((wall - after) / 1000),
    Math.ceil((wall - before) / 1000),
    before,
    timeZone,
  );
}

/**
 * The transition between two whole seconds: `oldSecond` shows `oldOffset` and `changedSecond` does
 * not. tz transitions fall on whole seconds, so bisecting in seconds finds the exact instant.
 */
function transitionBetween(
  oldSecond: number,
  changedSecond: number,
  oldOffset: number,
  timeZone: string,
): number {
  let old = oldSecond;
  let changed = changedSecond;
  while (changed - old > 1) {
    const middle = Math.floor((old + changed) / 2);
    if (offsetAt(middle * 1000, timeZone) === oldOffset) old = middle;
    else changed = middle;
  }
  return changed * 1000;
}

/**
 * The first instant in (`fromMs`, `toMs`] at which the zone's UTC offset differs from the one in
 * force at `fromMs` (a DST change or a change of standard offset), or undefined when the offset at
 * `toMs` is still the same. Meant for spans shorter than about a day: no zone changes its offset
 * twice within one, so an unchanged offset at `toMs` means no change in between.
 *
 * @throws RangeError for an unknown zone or a non-finite instant.
 * @example nextOffsetChange(Date.parse("2026-03-08T05:00:00Z"), Date.parse("2026-03-08T09:00:00Z"),
 *   "America/New_York") // 2026-03-08T07:00:00Z (02:00 EST became 03:00 EDT)
 */
export function nextOffsetChange(fromMs: number, toMs: number, timeZone: string): number | undefined {
  assertInstant(fromMs);
  assertInstant(toMs);
  const from = offsetAt(fromMs, timeZone);
  if (toMs <= fromMs || offsetAt(toMs, timeZone) === from) return undefined;
  return transitionBetween(Math.floor(fromMs / 1000), Math.floor(toMs / 1000), from, timeZone);
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
 * Civil milliseconds → instant with Rebound's DST rules. Exported for dsl/time/cron-occurrences.ts,
 * which walks the calendar as civil milliseconds; others should call `zonedTimeToInstant`.
 */
export function resolveWallClock(wall: number, timeZone: string, disambiguation: Disambiguation): number {
  const instants = instantsShowing(wall, timeZone);
  if (instants.length === 0) return endOfGap(wall, timeZone);
  return (disambiguation === "later" ? instants[instants.length - 1] : instants[0]) as number;
}
