// Ingest's timestamp parser: only real instants with a UTC offset get through.
import { describe, expect, it } from "vitest";
import { parseInstant, parseInstantOrDate } from "../../worker/timestamps";

describe("parseInstant", () => {
  it.each([
    ["2026-03-01T09:30:00Z", Date.UTC(2026, 2, 1, 9, 30)],
    ["2026-03-01T09:30Z", Date.UTC(2026, 2, 1, 9, 30)],
    ["2026-03-01t09:30:00z", Date.UTC(2026, 2, 1, 9, 30)],
    ["2026-03-01 09:30:00+01:00", Date.UTC(2026, 2, 1, 8, 30)],
    ["2026-03-01T09:30:00-0530", Date.UTC(2026, 2, 1, 15, 0)],
    ["2026-03-01T09:30:00.123456789Z", Date.UTC(2026, 2, 1, 9, 30, 0, 123)],
    ["2028-02-29T00:00:00Z", Date.UTC(2028, 1, 29)],
  ])("reads %s", (text, expected) => {
    expect(parseInstant(text)).toBe(expected);
  });

  it.each([
    "2026-03-01T09:30:00",
    "2026-03-01",
    "2026-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-03-01T24:00:00Z",
    "2026-03-01T09:60:00Z",
    "2026-03-01T09:30:00+25:00",
    "1969-12-31T23:59:59Z",
    "March 1, 2026",
    "1772353800000",
  ])("rejects %s", (text) => {
    expect(parseInstant(text)).toBeNull();
  });
});

describe("parseInstantOrDate", () => {
  it("reads a calendar date as midnight UTC and still reads date-times", () => {
    expect(parseInstantOrDate("2027-04-30")).toBe(Date.UTC(2027, 3, 30));
    expect(parseInstantOrDate("2027-04-30T12:00:00Z")).toBe(Date.UTC(2027, 3, 30, 12));
    expect(parseInstantOrDate("2027-04-31")).toBeNull();
    expect(parseInstantOrDate("04/27")).toBeNull();
  });
});
