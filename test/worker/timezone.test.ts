// Time zones inside workerd: the same case files as the Node tests, proving the Worker's Intl
// (its own ICU and tz database) resolves wall clocks, DST gaps and repeats exactly as Node does.

import { describe, expect, it } from "vitest";
import { nextOccurrence } from "../../dsl/time/cron-occurrences";
import { parseCron } from "../../dsl/time/cron-parse";
import { isQuiet, parseQuietHours } from "../../dsl/time/quiet-hours";
import { localParts } from "../../dsl/time/wall-clock";
import { sendTimeOutsideQuietHours } from "../../worker/tick/step-send";
import cronCases from "../dsl/cron.cases.yaml?raw";
import { cronSuite, timezoneSuite } from "../dsl/schedule-suites";
import timezoneCases from "../dsl/timezone.cases.yaml?raw";

describe("inside workerd", () => {
  it("has a real tz database, not UTC only", () => {
    expect(localParts(Date.parse("2026-07-01T12:00:00Z"), "Australia/Lord_Howe").hour).toBe(22);
    const tuesday9am = parseCron("0 9 * * TUE").schedule!;
    const next = nextOccurrence(tuesday9am, "America/New_York", Date.parse("2026-07-01T00:00:00Z"));
    expect(next === undefined ? undefined : new Date(next).toISOString()).toBe("2026-07-07T13:00:00.000Z");
  });

  it("never schedules a send inside quiet hours, even when a DST gap swallows the allowed slot", () => {
    const quietHours = parseQuietHours("02:40-02:10").quietHours!;
    const notBefore = sendTimeOutsideQuietHours(
      "America/New_York",
      Date.parse("2026-03-07T12:00:00Z"),
      quietHours,
    );
    // 02:10-02:40 never happens on March 8 in New York, so the send waits for March 9's slot.
    expect(new Date(notBefore).toISOString()).toBe("2026-03-09T06:10:00.000Z");
    expect(isQuiet("America/New_York", notBefore, quietHours)).toBe(false);
  });

  timezoneSuite(timezoneCases);
  cronSuite(cronCases);
});
