// Cron schedules in Node: the shared specification in cron.cases.yaml, plus the API's edge cases.

import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { nextOccurrence, occurrencesBetween } from "../../dsl/time/cron-occurrences";
import { CRON_DAY_OF_WEEK_NOTE, parseCron } from "../../dsl/time/cron-parse";
import { cronSuite } from "./schedule-suites";

cronSuite(readFileSync(new URL("./cron.cases.yaml", import.meta.url), "utf8"));

const weekdays9am = parseCron("0 9 * * MON-FRI").schedule!;
const jan1 = Date.parse("2026-01-01T00:00:00Z");

describe("the cron API", () => {
  it("explains the day-of-week numbering for the docs", () => {
    expect(CRON_DAY_OF_WEEK_NOTE).toMatch(/0 or 7 = Sunday/);
    expect(CRON_DAY_OF_WEEK_NOTE).toMatch(/1 = Sunday/);
  });

  it("gives every diagnostic a message and, where useful, a hint", () => {
    const [diagnostic] = parseCron("0 9 * * MONDAY").diagnostics;
    expect(diagnostic?.hint).toContain("MON");
    expect(parseCron("0 9 * * FRI-MON").diagnostics[0]?.hint).toContain("FRI-SAT,SUN-MON");
  });

  it("says why a step as large as its field is refused, and how to write what was meant", () => {
    const [minutes] = parseCron("*/60 * * * *").diagnostics;
    expect(minutes?.message).toMatch(/first value/);
    expect(minutes?.hint).toContain("0 * * * *");
    expect(parseCron("0 */24 * * *").diagnostics[0]?.hint).toContain("0 9 * * *");
    expect(parseCron("0 9 * * */7").diagnostics[0]?.message).toMatch(/0-6/);
  });

  it("runs `0 9 15 * 0-6` every day, as standard cron does: only `*` leaves a day field open", () => {
    const everyDay = parseCron("0 9 15 * 0-6").schedule!;
    const week = occurrencesBetween(everyDay, "UTC", jan1, jan1 + 7 * 86_400_000, 100);
    expect(week).toHaveLength(7);
    const fifteenth = parseCron("0 9 15 * *").schedule!;
    expect(occurrencesBetween(fifteenth, "UTC", jan1, jan1 + 31 * 86_400_000, 100)).toEqual([
      Date.parse("2026-01-15T09:00:00Z"),
    ]);
  });

  it("round-trips a schedule through JSON (it lives in the ruleset IR)", () => {
    const copy = JSON.parse(JSON.stringify(weekdays9am));
    const until = jan1 + 14 * 86_400_000;
    expect(occurrencesBetween(copy, "Europe/Berlin", jan1, until, 100)).toEqual(
      occurrencesBetween(weekdays9am, "Europe/Berlin", jan1, until, 100),
    );
  });

  it("returns nothing for a limit of zero or a range that runs backwards", () => {
    expect(occurrencesBetween(weekdays9am, "UTC", jan1, jan1 + 86_400_000 * 7, 0)).toEqual([]);
    expect(occurrencesBetween(weekdays9am, "UTC", jan1, jan1 - 86_400_000 * 7, 10)).toEqual([]);
  });

  it("rejects an unknown time zone, a non-finite start and a malformed schedule object", () => {
    expect(() => occurrencesBetween(weekdays9am, "Mars/Base", jan1, jan1 + 1, 1)).toThrow(RangeError);
    expect(() => occurrencesBetween(weekdays9am, "UTC", Number.NaN, jan1, 1)).toThrow(RangeError);
    expect(() => nextOccurrence({ ...weekdays9am, hours: [24] }, "UTC", jan1)).toThrow(RangeError);
    expect(() => nextOccurrence({ ...weekdays9am, minutes: [] }, "UTC", jan1)).toThrow(RangeError);
  });

  it("scans ten years of a once-a-year schedule without walking every minute", () => {
    const newYear = parseCron("0 0 1 1 *").schedule!;
    // Count wall-clock lookups (each reads the bound `format` getter) rather than time them:
    // a count is the same on a busy CI machine.
    // `format` is an accessor returning a bound function; vitest's getter overload wants a data-typed key.
    const formatterPrototype = Intl.DateTimeFormat.prototype as unknown as { format: unknown };
    const lookups = vi.spyOn(formatterPrototype, "format", "get");
    try {
      const found = occurrencesBetween(
        newYear,
        "Asia/Kolkata",
        jan1,
        Date.parse("2036-01-01T00:00:00Z"),
        100,
      );
      expect(found).toHaveLength(10);
      // Ten years minute by minute would be ~5 million lookups; jumping by fields needs a few per run.
      expect(lookups).toHaveBeenCalled();
      expect(lookups.mock.calls.length).toBeLessThan(1000);
    } finally {
      lookups.mockRestore();
    }
  });
});
