// Property test: `nextAllowedTime` against a brute-force reference that walks every minute and reads
// the wall clock through its own Intl.DateTimeFormat (formatToParts, not dsl/time/wall-clock.ts), on
// random quiet-hour windows and instants around real DST changes: gaps and repeats of an hour, Lord
// Howe's 30 minutes, Chatham's +12:45/+13:45, Troll's two hours, Havana's and Santiago's at midnight.

import { describe, expect, it } from "vitest";
import { isQuiet, nextAllowedTime, parseQuietHours, type QuietHours } from "../../dsl/time/quiet-hours";
import { prng } from "../prng";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** Zones with an instant near one of their 2026 offset changes (approximate: cases span ±36h). */
const ZONES_AND_MOMENTS: readonly [string, string][] = [
  ["America/New_York", "2026-03-08T07:00:00Z"],
  ["America/New_York", "2026-11-01T06:00:00Z"],
  ["Europe/London", "2026-03-29T01:00:00Z"],
  ["Europe/London", "2026-10-25T01:00:00Z"],
  ["Australia/Lord_Howe", "2026-04-04T15:00:00Z"],
  ["Australia/Lord_Howe", "2026-10-03T15:30:00Z"],
  ["Pacific/Chatham", "2026-04-04T14:00:00Z"],
  ["Pacific/Chatham", "2026-09-26T14:00:00Z"],
  ["Antarctica/Troll", "2026-03-29T01:00:00Z"],
  ["Antarctica/Troll", "2026-10-25T01:00:00Z"],
  ["America/Havana", "2026-03-08T05:00:00Z"],
  ["America/Havana", "2026-11-01T05:00:00Z"],
  ["America/Santiago", "2026-04-05T03:00:00Z"],
  ["America/Santiago", "2026-09-06T04:00:00Z"],
  ["Asia/Kolkata", "2026-06-01T00:00:00Z"],
];

const formatters = new Map<string, Intl.DateTimeFormat>();
const wallMinutes = new Map<string, number>();

/** The reference wall clock: minute of the local day at an instant, read through formatToParts. */
function referenceMinuteOfDay(timeZone: string, instant: number): number {
  const key = `${timeZone} ${Math.floor(instant / MINUTE_MS)}`;
  const cached = wallMinutes.get(key);
  if (cached !== undefined) return cached;
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hourCycle: "h23",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(instant);
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const minuteOfDay = (value("hour") % 24) * 60 + value("minute");
  wallMinutes.set(key, minuteOfDay);
  return minuteOfDay;
}

function referenceQuiet(timeZone: string, instant: number, window: QuietHours): boolean {
  const minute = referenceMinuteOfDay(timeZone, instant);
  return window.start < window.end
    ? minute >= window.start && minute < window.end
    : minute >= window.start || minute < window.end;
}

/** The asked instant if allowed, else the first whole UTC minute after it whose wall clock is allowed. */
function referenceNextAllowed(timeZone: string, now: number, window: QuietHours): number {
  if (!referenceQuiet(timeZone, now, window)) return now;
  for (let instant = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS; ; instant += MINUTE_MS) {
    if (!referenceQuiet(timeZone, instant, window)) return instant;
    if (instant - now > 4 * 24 * HOUR_MS) throw new Error(`no allowed minute within 4 days of ${now}`);
  }
}

const random = prng(20260308);
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const pick = <T>(items: readonly T[]): T => items[between(0, items.length - 1)] as T;
const clock = (minuteOfDay: number) =>
  `${String(Math.floor(minuteOfDay / 60)).padStart(2, "0")}:${String(minuteOfDay % 60).padStart(2, "0")}`;

/**
 * A window text. Most windows have an edge near `localMoment` (the wall clock at the offset change,
 * minutes of the day): short allowed slots there are what a gap can swallow, and windows starting
 * there are what a fall-back can leave early; the rest are anywhere in the day.
 */
function randomWindow(localMoment: number): string {
  const near = () => (localMoment + between(-18, 18) * 5 + 1440) % 1440;
  for (;;) {
    let start: number;
    let end: number;
    const shape = random();
    if (shape < 0.35) {
      // A short allowed slot [end, start) near the change.
      end = near();
      start = (end + between(1, 12) * 5) % 1440;
    } else if (shape < 0.7) {
      start = near();
      end = (start + between(2, 48) * 5) % 1440;
    } else {
      start = between(0, 24 * 6 - 1) * 10;
      end = random() < 0.15 ? 1440 : between(0, 24 * 6 - 1) * 10;
    }
    const text = `${clock(start)}-${end === 1440 ? "24:00" : clock(end)}`;
    if (parseQuietHours(text).quietHours) return text;
  }
}

const CASES = Array.from({ length: 600 }, (_, index) => {
  const [timeZone, moment] = pick(ZONES_AND_MOMENTS);
  const change = Date.parse(moment);
  // Mostly asked in the day and a half before the change, so the deferral runs into it.
  const offset = random() < 0.7 ? between(-36 * 60, 0) : between(-36 * 60, 36 * 60);
  const seconds = random() < 0.2 ? between(1, 59) * 1000 : 0;
  const now = change + offset * MINUTE_MS + seconds;
  return { index, timeZone, now, window: randomWindow(referenceMinuteOfDay(timeZone, change)) };
});

const iso = (ms: number) => new Date(ms).toISOString();

describe("nextAllowedTime agrees with a minute-by-minute reference", () => {
  it("defers to the next day's slot when the whole allowed slot falls in the spring gap", () => {
    const window = parseQuietHours("02:40-02:10").quietHours!;
    const next = nextAllowedTime("America/New_York", Date.parse("2026-03-07T12:00:00Z"), window);
    // 02:10-02:40 never happens on March 8 in New York; 03:00 EDT is still quiet.
    expect(iso(next)).toBe("2026-03-09T06:10:00.000Z");
    expect(isQuiet("America/New_York", next, window)).toBe(false);
  });

  it.each(CASES)("case $index: quiet $window in $timeZone", ({ timeZone, now, window: text }) => {
    const window = parseQuietHours(text).quietHours!;
    const found = nextAllowedTime(timeZone, now, window);
    expect(referenceQuiet(timeZone, found, window)).toBe(false);
    expect(isQuiet(timeZone, found, window)).toBe(false);
    expect(iso(found)).toBe(iso(referenceNextAllowed(timeZone, now, window)));
  });

  it("exercises deferrals across offset changes and skipped slots", () => {
    const offsetOf = (timeZone: string, instant: number) =>
      new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" }).format(instant);
    const results = CASES.map(({ timeZone, now, window }) => ({
      timeZone,
      now,
      next: referenceNextAllowed(timeZone, now, parseQuietHours(window).quietHours!),
    }));
    const deferred = results.filter(({ now, next }) => next > now);
    expect(deferred.length).toBeGreaterThan(CASES.length / 3);
    const acrossChange = deferred.filter(
      ({ timeZone, now, next }) => offsetOf(timeZone, now) !== offsetOf(timeZone, next),
    );
    expect(acrossChange.length).toBeGreaterThan(30);
    // A deferral past a whole day: the day's allowed slot was swallowed by a gap.
    expect(deferred.some(({ now, next }) => next - now > 24 * HOUR_MS)).toBe(true);
  });
});
