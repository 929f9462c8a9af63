/**
 * Campaign schedules, evaluated: the instants at which a `CronSchedule` (dsl/time/cron-parse.ts)
 * runs in an IANA time zone.
 *
 * Stage: the Worker's tick calls `occurrencesBetween` (the earliest N) or `latestOccurrences` (the
 * newest N, for a catch-up that runs only the most recent missed ones) to find the occurrences due
 * since its last run, and `nextOccurrence` / `previousOccurrence` to report them (stage: run).
 *
 * Evaluation walks the local calendar field by field (never minute by minute) and maps each
 * matching wall-clock time to an instant with the DST rules of dsl/time/wall-clock.ts: a time
 * skipped by a spring-forward gap runs once, at the first instant after the gap (02:30 on the
 * March change in New York runs at 03:00 EDT; several skipped times collapse into that one run); a
 * time repeated by fall-back runs once, at its first occurrence. Every wall-clock time the schedule
 * names therefore runs exactly once.
 */

import { civilFromDays, civilToMs, DAY_MS, daysInMonth, MINUTE_MS, weekdayOf } from "./calendar";
import type { CronSchedule } from "./cron-parse";
import { localParts, resolveWallClock, utcOffsetMs } from "./wall-clock";

/** How far ahead `nextOccurrence` looks: a full 28-year Gregorian weekday cycle. */
const MAX_SEARCH_YEARS = 28;

interface CompiledSchedule {
  /** Smallest allowed value ≥ index, or a sentinel past the field's maximum. */
  nextMinute: Int8Array;
  nextHour: Int8Array;
  nextMonth: Int8Array;
  /** Largest allowed value ≤ index, or -1. */
  previousMinute: Int8Array;
  previousHour: Int8Array;
  previousMonth: Int8Array;
  dayOfMonth: Uint8Array;
  dayOfWeek: Uint8Array;
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

// Compiled per schedule object, so a ruleset loaded from JSON pays the table cost once.
const compiledSchedules = new WeakMap<CronSchedule, CompiledSchedule>();

function nextTable(values: readonly number[], max: number): Int8Array {
  const table = new Int8Array(max + 2).fill(max + 1);
  for (let index = max; index >= 0; index--) {
    table[index] = values.includes(index) ? index : (table[index + 1] ?? max + 1);
  }
  return table;
}

function previousTable(values: readonly number[], max: number): Int8Array {
  const table = new Int8Array(max + 1).fill(-1);
  for (let index = 0; index <= max; index++) {
    table[index] = values.includes(index) ? index : (table[index - 1] ?? -1);
  }
  return table;
}

function membership(values: readonly number[], size: number): Uint8Array {
  const table = new Uint8Array(size);
  for (const value of values) table[value] = 1;
  return table;
}

function compile(schedule: CronSchedule): CompiledSchedule {
  const cached = compiledSchedules.get(schedule);
  if (cached) return cached;
  const inRange = (values: readonly number[], min: number, max: number) =>
    values.length > 0 && values.every((value) => Number.isInteger(value) && value >= min && value <= max);
  if (
    !inRange(schedule.minutes, 0, 59) ||
    !inRange(schedule.hours, 0, 23) ||
    !inRange(schedule.daysOfMonth, 1, 31) ||
    !inRange(schedule.months, 1, 12) ||
    !inRange(schedule.daysOfWeek, 0, 6)
  ) {
    throw new RangeError(`not a valid cron schedule: ${JSON.stringify(schedule)}`);
  }
  const compiled: CompiledSchedule = {
    nextMinute: nextTable(schedule.minutes, 59),
    nextHour: nextTable(schedule.hours, 23),
    nextMonth: nextTable(schedule.months, 12),
    previousMinute: previousTable(schedule.minutes, 59),
    previousHour: previousTable(schedule.hours, 23),
    previousMonth: previousTable(schedule.months, 12),
    dayOfMonth: membership(schedule.daysOfMonth, 32),
    dayOfWeek: membership(schedule.daysOfWeek, 7),
    dayOfMonthRestricted: schedule.dayOfMonthRestricted,
    dayOfWeekRestricted: schedule.dayOfWeekRestricted,
  };
  compiledSchedules.set(schedule, compiled);
  return compiled;
}

function dayMatches(schedule: CompiledSchedule, year: number, month: number, day: number): boolean {
  const byDate = schedule.dayOfMonth[day] === 1;
  if (!schedule.dayOfWeekRestricted) return byDate;
  const byWeekday = schedule.dayOfWeek[weekdayOf(year, month, day)] === 1;
  if (!schedule.dayOfMonthRestricted) return byWeekday;
  return byDate || byWeekday;
}

/**
 * The first wall-clock minute at or after `wall` (civil ms) that the schedule names, jumping by
 * month, day and hour; undefined past `maxYear`.
 */
function nextMatchingWallClock(
  schedule: CompiledSchedule,
  wall: number,
  maxYear: number,
): number | undefined {
  const days = Math.floor(wall / DAY_MS);
  let { year, month, day } = civilFromDays(days);
  const minuteOfDay = Math.floor((wall - days * DAY_MS) / MINUTE_MS);
  let hour = Math.floor(minuteOfDay / 60);
  let minute = minuteOfDay % 60;
  while (year <= maxYear) {
    const month2 = schedule.nextMonth[month]!;
    if (month2 > 12) {
      year += 1;
      month = 1;
      day = 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (month2 !== month) {
      month = month2;
      day = 1;
      hour = 0;
      minute = 0;
    }
    if (day > daysInMonth(year, month)) {
      month += 1;
      day = 1;
      hour = 0;
      minute = 0;
      if (month > 12) {
        year += 1;
        month = 1;
      }
      continue;
    }
    if (!dayMatches(schedule, year, month, day)) {
      day += 1;
      hour = 0;
      minute = 0;
      continue;
    }
    const hour2 = schedule.nextHour[hour]!;
    if (hour2 > 23) {
      day += 1;
      hour = 0;
      minute = 0;
      continue;
    }
    if (hour2 !== hour) {
      hour = hour2;
      minute = 0;
    }
    const minute2 = schedule.nextMinute[minute]!;
    if (minute2 > 59) {
      hour += 1;
      minute = 0;
      continue;
    }
    return civilToMs(year, month, day, hour, minute2);
  }
  return undefined;
}

/** The last wall-clock minute at or before `wall` (civil ms) that the schedule names; undefined before `minYear`. */
function previousMatchingWallClock(
  schedule: CompiledSchedule,
  wall: number,
  minYear: number,
): number | undefined {
  const days = Math.floor(wall / DAY_MS);
  let { year, month, day } = civilFromDays(days);
  const minuteOfDay = Math.floor((wall - days * DAY_MS) / MINUTE_MS);
  let hour = Math.floor(minuteOfDay / 60);
  let minute = minuteOfDay % 60;
  while (year >= minYear) {
    const month2 = schedule.previousMonth[month]!;
    if (month2 < 1) {
      year -= 1;
      month = 12;
      day = 31;
      hour = 23;
      minute = 59;
      continue;
    }
    if (month2 !== month) {
      month = month2;
      day = daysInMonth(year, month);
      hour = 23;
      minute = 59;
    }
    if (day < 1) {
      month -= 1;
      if (month < 1) {
        year -= 1;
        month = 12;
      }
      day = daysInMonth(year, month);
      hour = 23;
      minute = 59;
      continue;
    }
    if (!dayMatches(schedule, year, month, day)) {
      day -= 1;
      hour = 23;
      minute = 59;
      continue;
    }
    const hour2 = hour < 0 ? -1 : schedule.previousHour[hour]!;
    if (hour2 < 0) {
      day -= 1;
      hour = 23;
      minute = 59;
      continue;
    }
    if (hour2 !== hour) {
      hour = hour2;
      minute = 59;
    }
    const minute2 = schedule.previousMinute[minute]!;
    if (minute2 < 0) {
      hour -= 1;
      minute = 59;
      continue;
    }
    return civilToMs(year, month, day, hour, minute2);
  }
  return undefined;
}

/**
 * The instants (epoch ms, ascending, no duplicates) at which the schedule runs in `timeZone`,
 * after `fromMs` (exclusive) and up to `toMs` (inclusive; may be Infinity), at most `limit` of
 * them, earliest first. Use it for a tick's catch-up: `fromMs` is the last tick that ran,
 * `toMs` the tick's scheduledTime, and a result of length `limit` means more may be due.
 * Cost grows with the number of occurrences returned, not with the length of the range.
 *
 * @throws RangeError for an unknown zone, a non-finite `fromMs`, or a malformed schedule object.
 * @example occurrencesBetween(parseCron("0 9 * * MON").schedule!, "Europe/Berlin",
 *   Date.parse("2026-03-01T00:00:00Z"), Date.parse("2026-03-31T00:00:00Z"), 10)
 *   // the five Mondays of March 2026 at 09:00 Berlin (08:00Z, then 07:00Z after the DST change on the 29th)
 */
export function occurrencesBetween(
  schedule: CronSchedule,
  timeZone: string,
  fromMs: number,
  toMs: number,
  limit: number,
): number[] {
  if (!Number.isFinite(fromMs)) throw new RangeError(`fromMs must be a finite instant, not ${fromMs}`);
  if (Number.isNaN(toMs)) throw new RangeError("toMs must be an instant or Infinity, not NaN");
  const compiled = compile(schedule);
  const occurrences: number[] = [];
  if (!(limit >= 1) || toMs <= fromMs) return occurrences;
  const start = localParts(fromMs, timeZone);
  // A wall-clock time before the one showing at `fromMs` can only map to an instant at or before
  // it (the wall-clock → instant mapping is monotonic under our DST rules), so start there.
  let wall = civilToMs(start.year, start.month, start.day, start.hour, start.minute);
  const maxYear = Number.isFinite(toMs) ? localParts(toMs, timeZone).year + 1 : start.year + MAX_SEARCH_YEARS;
  while (occurrences.length < limit) {
    const match = nextMatchingWallClock(compiled, wall, maxYear);
    if (match === undefined) break;
    const instant = resolveWallClock(match, timeZone, "earlier");
    if (instant > toMs) break;
    // Several skipped times collapse onto the end of a DST gap; run once.
    if (instant > fromMs && instant !== occurrences[occurrences.length - 1]) occurrences.push(instant);
    wall = match + MINUTE_MS;
  }
  return occurrences;
}

/**
 * The first instant after `afterMs` at which the schedule runs in `timeZone`, or undefined if it
 * does not run within 28 years (impossible for a schedule that `parseCron` accepted).
 *
 * @example nextOccurrence(parseCron("30 2 * * *").schedule!, "America/New_York",
 *   Date.parse("2026-03-08T05:00:00Z")) // 2026-03-08T07:00:00Z: 02:30 is skipped, runs at 03:00 EDT
 */
export function nextOccurrence(
  schedule: CronSchedule,
  timeZone: string,
  afterMs: number,
): number | undefined {
  return occurrencesBetween(schedule, timeZone, afterMs, Number.POSITIVE_INFINITY, 1)[0];
}

/**
 * The LAST `limit` occurrences after `fromMs` (exclusive; may be -Infinity) and up to `toMs`
 * (inclusive), ascending: the same instants as the tail of `occurrencesBetween`, found by walking
 * back from `toMs`. For a catch-up policy that runs only the most recent missed occurrence(s).
 *
 * @example latestOccurrences(daily9am, "Europe/Berlin", lastTickMs, nowMs, 1) // today's 09:00 if due
 */
export function latestOccurrences(
  schedule: CronSchedule,
  timeZone: string,
  fromMs: number,
  toMs: number,
  limit: number,
): number[] {
  if (!Number.isFinite(toMs)) throw new RangeError(`toMs must be a finite instant, not ${toMs}`);
  if (Number.isNaN(fromMs)) throw new RangeError("fromMs must be an instant or -Infinity, not NaN");
  const compiled = compile(schedule);
  const occurrences: number[] = [];
  if (!(limit >= 1) || toMs <= fromMs) return occurrences;
  const end = localParts(toMs, timeZone);
  // After a fall-back within the last day, the wall clock already showed times later than it shows
  // at `toMs` (01:30 EDT happened before 01:10 EST), so the walk back starts that much later.
  const fallBack = Math.max(0, utcOffsetMs(toMs - DAY_MS, timeZone) - utcOffsetMs(toMs, timeZone));
  let wall = civilToMs(end.year, end.month, end.day, end.hour, end.minute) + fallBack;
  const minYear = Number.isFinite(fromMs)
    ? localParts(fromMs, timeZone).year - 1
    : end.year - MAX_SEARCH_YEARS;
  while (occurrences.length < limit) {
    const match = previousMatchingWallClock(compiled, wall, minYear);
    if (match === undefined) break;
    const instant = resolveWallClock(match, timeZone, "earlier");
    if (instant <= fromMs) break;
    if (instant <= toMs && instant !== occurrences[occurrences.length - 1]) occurrences.push(instant);
    wall = match - MINUTE_MS;
  }
  return occurrences.reverse();
}

/**
 * The last instant at or before `atMs` (inclusive) at which the schedule runs in `timeZone`, or
 * undefined if none in the previous 28 years: the occurrence a tick at `atMs` is running for.
 *
 * @example previousOccurrence(parseCron("0 9 * * MON").schedule!, "Europe/Berlin",
 *   Date.parse("2026-03-04T12:00:00Z")) // 2026-03-02T08:00:00Z (Monday 09:00 in Berlin)
 */
export function previousOccurrence(
  schedule: CronSchedule,
  timeZone: string,
  atMs: number,
): number | undefined {
  return latestOccurrences(schedule, timeZone, Number.NEGATIVE_INFINITY, atMs, 1)[0];
}
