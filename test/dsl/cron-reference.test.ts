// Differential test: the field-jumping scan in dsl/time/cron-occurrences.ts against a brute-force
// reference that walks every UTC minute and applies Rebound's DST rules and standard cron's day rule
// directly, on random schedules around real DST transitions (including 30- and 45-minute offsets and
// midnight changes).

import { describe, expect, it } from "vitest";
import { civilFromDays, DAY_MS, MINUTE_MS, weekdayOf } from "../../dsl/time/calendar";
import { latestOccurrences, occurrencesBetween } from "../../dsl/time/cron-occurrences";
import { type CronSchedule, parseCron } from "../../dsl/time/cron-parse";
import { localParts, utcOffsetMs } from "../../dsl/time/wall-clock";
import { prng as mulberry32 } from "../prng";

/** Zones with a moment near one of their 2026 transitions (approximate: windows span ±30h). */
const ZONES_AND_MOMENTS: readonly [string, string][] = [
  ["America/New_York", "2026-03-08T07:00:00Z"],
  ["America/New_York", "2026-11-01T06:00:00Z"],
  ["Europe/Berlin", "2026-03-29T01:00:00Z"],
  ["Europe/Berlin", "2026-10-25T01:00:00Z"],
  ["Australia/Lord_Howe", "2026-04-04T15:00:00Z"],
  ["Australia/Lord_Howe", "2026-10-03T15:30:00Z"],
  ["Pacific/Chatham", "2026-04-04T14:00:00Z"],
  ["Pacific/Chatham", "2026-09-26T14:00:00Z"],
  ["America/Havana", "2026-03-08T05:00:00Z"],
  ["America/Havana", "2026-11-01T05:00:00Z"],
  ["Asia/Kolkata", "2026-06-01T00:00:00Z"],
  ["UTC", "2028-02-29T00:00:00Z"],
];

const random = mulberry32(20261122);
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const pick = <T>(items: readonly T[]): T => items[between(0, items.length - 1)] as T;

function randomField(min: number, max: number, names?: readonly string[]): string {
  const value = () => {
    const n = between(min, max);
    return names && random() < 0.5 ? (names[n - min] ?? String(n)) : String(n);
  };
  switch (between(0, 5)) {
    case 0:
      return "*";
    case 1:
      return `*/${between(1, Math.max(1, Math.floor((max - min) / 2)))}`;
    case 2:
      return value();
    case 3: {
      const low = between(min, max);
      return `${low}-${between(low, max)}`;
    }
    case 4: {
      const low = between(min, max);
      return `${low}-${between(low, max)}/${between(1, 4)}`;
    }
    default:
      return Array.from({ length: between(2, 4) }, value).join(",");
  }
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function randomSchedule(): CronSchedule {
  for (;;) {
    // Dense minutes and hours so that short windows around a transition see many runs.
    const minute = pick(["*", "*/5", "*/15", "0,30", "15,45", "0", "*/7", randomField(0, 59)]);
    const hour = pick(["*", "*", "0-3", "1,2,3", "*/2", randomField(0, 23)]);
    // Fields that name every day but are not literally `*` restrict, as in standard cron.
    const dayOfMonth = pick(["*", "*", "*", "1-31", "*/1", randomField(1, 31)]);
    const month = pick(["*", "*", "*", randomField(1, 12, MONTHS)]);
    const dayOfWeek = pick(["*", "*", "0-6", "SUN-SAT", "*/1", randomField(0, 6, DAYS)]);
    const { schedule } = parseCron(`${minute} ${hour} ${dayOfMonth} ${month} ${dayOfWeek}`);
    if (schedule) return schedule;
  }
}

/**
 * Standard cron's day rule, read from the source rather than from the parsed flags: a day field is
 * unrestricted only when written as `*`; when both are restricted a day matches if either matches.
 */
function dayMatches(schedule: CronSchedule, year: number, month: number, day: number): boolean {
  const [, , dayOfMonthText, , dayOfWeekText] = schedule.source.split(/\s+/);
  const byDate = schedule.daysOfMonth.includes(day);
  const byWeekday = schedule.daysOfWeek.includes(weekdayOf(year, month, day));
  if (dayOfMonthText !== "*" && dayOfWeekText !== "*") return byDate || byWeekday;
  if (dayOfMonthText !== "*") return byDate;
  if (dayOfWeekText !== "*") return byWeekday;
  return true;
}

function matchesWallClock(schedule: CronSchedule, wall: number): boolean {
  const days = Math.floor(wall / DAY_MS);
  const { year, month, day } = civilFromDays(days);
  const minuteOfDay = Math.floor((wall - days * DAY_MS) / MINUTE_MS);
  if (!schedule.minutes.includes(minuteOfDay % 60)) return false;
  if (!schedule.hours.includes(Math.floor(minuteOfDay / 60))) return false;
  if (!schedule.months.includes(month)) return false;
  return dayMatches(schedule, year, month, day);
}

function wallMinute(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
}

/**
 * Every UTC minute in (from, to]: it runs if its wall-clock time matches and was not shown earlier
 * (fall-back repeats run once), or if it ends a gap that swallowed a matching time.
 */
function referenceOccurrences(schedule: CronSchedule, timeZone: string, from: number, to: number): number[] {
  const found: number[] = [];
  let instant = Math.floor(from / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  let previousWall = wallMinute(instant - MINUTE_MS, timeZone);
  for (; instant <= to; instant += MINUTE_MS) {
    const wall = wallMinute(instant, timeZone);
    let due = false;
    for (let skipped = previousWall + MINUTE_MS; skipped < wall; skipped += MINUTE_MS) {
      if (matchesWallClock(schedule, skipped)) due = true;
    }
    if (matchesWallClock(schedule, wall)) {
      const shownBefore = [30, 45, 60, 90, 120].some(
        (minutes) => wallMinute(instant - minutes * MINUTE_MS, timeZone) === wall,
      );
      if (!shownBefore) due = true;
    }
    if (due) found.push(instant);
    previousWall = wall;
  }
  return found;
}

const CASES = Array.from({ length: 160 }, (_, index) => {
  const [timeZone, moment] = pick(ZONES_AND_MOMENTS);
  const center = Date.parse(moment);
  const from = center - between(0, 30 * 60) * MINUTE_MS - between(0, 59) * 1000;
  const to = center + between(1, 30 * 60) * MINUTE_MS;
  return { index, timeZone, from, to, schedule: randomSchedule(), limit: between(1, 20) };
});

describe("the field-jumping scan agrees with a minute-by-minute reference", () => {
  it.each(CASES)("case $index: $schedule.source in $timeZone", ({ schedule, timeZone, from, to, limit }) => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const expected = referenceOccurrences(schedule, timeZone, from, to).map(iso);
    expect(occurrencesBetween(schedule, timeZone, from, to, Number.POSITIVE_INFINITY).map(iso)).toEqual(
      expected,
    );
    expect(occurrencesBetween(schedule, timeZone, from, to, limit).map(iso)).toEqual(
      expected.slice(0, limit),
    );
    expect(latestOccurrences(schedule, timeZone, from, to, limit).map(iso)).toEqual(expected.slice(-limit));
  });

  it("includes day fields that name every day without being `*` (they restrict)", () => {
    const covering = CASES.filter(({ schedule }) => {
      const [, , dayOfMonth, , dayOfWeek] = schedule.source.split(/\s+/);
      return (
        ["1-31", "*/1"].includes(dayOfMonth ?? "") || ["0-6", "SUN-SAT", "*/1"].includes(dayOfWeek ?? "")
      );
    });
    expect(covering.length).toBeGreaterThan(10);
  });

  it("crosses real transitions in many of its cases", () => {
    const crossing = CASES.filter(
      ({ timeZone, from, to }) => utcOffsetMs(from, timeZone) !== utcOffsetMs(to, timeZone),
    );
    expect(crossing.length).toBeGreaterThan(CASES.length / 3);
  });
});
