// Time zones inside workerd: the same case files as the Node tests, proving the Worker's Intl
// (its own ICU and tz database) resolves wall clocks, DST gaps and repeats exactly as Node does.

import { describe, expect, it } from "vitest";
import { nextOccurrence, parseCron } from "../../dsl/time/cron";
import { localParts } from "../../dsl/time/timezone";
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

  timezoneSuite(timezoneCases);
  cronSuite(cronCases);
});
