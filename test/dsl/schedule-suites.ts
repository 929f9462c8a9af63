// The schedule and time-zone specification as one shared suite: the YAML case files run through
// these functions in Node (test/dsl/*.test.ts) and inside workerd (test/worker/timezone.test.ts),
// so the two runtimes' Intl time zones are held to the same expectations.

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  latestOccurrences,
  nextOccurrence,
  occurrencesBetween,
  previousOccurrence,
} from "../../dsl/time/cron-occurrences";
import { type CronSchedule, parseCron } from "../../dsl/time/cron-parse";
import { isQuiet, nextAllowedTime, parseQuietHours } from "../../dsl/time/quiet-hours";
import {
  type Disambiguation,
  type LocalDateTime,
  type LocalParts,
  localParts,
  zonedTimeToInstant,
} from "../../dsl/time/wall-clock";
import { checkTimeZone, isValidTimeZone } from "../../dsl/time/zones";

interface CronCases {
  parse: { note: string; cron: string; want: Partial<CronSchedule> }[];
  errors: { note: string; cron: string; want_errors: { span: [number, number]; token: string }[] }[];
  occurrences: {
    note: string;
    cron: string;
    tz: string;
    from: string;
    to: string;
    limit: number;
    want?: string[];
    want_count?: number;
    want_first?: string;
    want_last?: string;
  }[];
  next: { note: string; cron: string; tz: string; after: string; want: string }[];
  latest: {
    note: string;
    cron: string;
    tz: string;
    from: string;
    to: string;
    limit: number;
    want: string[];
  }[];
  previous: { note: string; cron: string; tz: string; at: string; want: string }[];
}

interface TimezoneCases {
  valid: string[];
  invalid: { tz: string; hint?: string }[];
  local_parts: { at: string; tz: string; want: LocalParts }[];
  zoned_time: {
    note: string;
    local: LocalDateTime;
    tz: string;
    disambiguation?: Disambiguation;
    want?: string;
    want_error?: "RangeError";
  }[];
  quiet_hours_parse: {
    text: string;
    want?: { start: number; end: number };
    want_errors?: [number, number][];
  }[];
  quiet_hours: { note: string; tz: string; window: string; now: string; quiet: boolean; next: string }[];
}

function instant(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`bad instant in a case file: ${text}`);
  return ms;
}

const iso = (ms: number) => new Date(ms).toISOString();

function scheduleOf(cron: string): CronSchedule {
  const { schedule, diagnostics } = parseCron(cron);
  expect(diagnostics).toEqual([]);
  if (!schedule) throw new Error(`case cron did not parse: ${cron}`);
  return schedule;
}

/** Registers the cron specification from the text of test/dsl/cron.cases.yaml. */
export function cronSuite(yamlText: string): void {
  const cases = parse(yamlText) as CronCases;

  describe("parsing a cron expression", () => {
    it.each(cases.parse)("$note: $cron", ({ cron, want }) => {
      expect(scheduleOf(cron)).toMatchObject(want);
    });
  });

  describe("rejecting a bad cron expression with the offending field located", () => {
    it.each(cases.errors)("$note: $cron", ({ cron, want_errors }) => {
      const { schedule, diagnostics } = parseCron(cron);
      expect(schedule).toBeUndefined();
      expect(diagnostics.map((d) => ({ code: d.code, span: [d.span.start, d.span.end] }))).toEqual(
        want_errors.map((w) => ({ code: "bad_cron", span: w.span })),
      );
      expect(diagnostics.map((d) => cron.slice(d.span.start, d.span.end))).toEqual(
        want_errors.map((w) => w.token),
      );
      for (const diagnostic of diagnostics) expect(diagnostic.message).not.toBe("");
    });
  });

  describe("occurrences between two instants, in the schedule's time zone", () => {
    it.each(cases.occurrences)("$note", (c) => {
      const found = occurrencesBetween(scheduleOf(c.cron), c.tz, instant(c.from), instant(c.to), c.limit).map(
        iso,
      );
      if (c.want) expect(found).toEqual(c.want.map((w) => iso(instant(w))));
      if (c.want_count !== undefined) expect(found).toHaveLength(c.want_count);
      if (c.want_first) expect(found[0]).toBe(iso(instant(c.want_first)));
      if (c.want_last) expect(found[found.length - 1]).toBe(iso(instant(c.want_last)));
      expect([...new Set(found)].sort()).toEqual(found);
    });

    it.each(cases.occurrences)("walking back gives the same instants: $note", (c) => {
      const schedule = scheduleOf(c.cron);
      const all = occurrencesBetween(
        schedule,
        c.tz,
        instant(c.from),
        instant(c.to),
        Number.POSITIVE_INFINITY,
      );
      const latest = latestOccurrences(schedule, c.tz, instant(c.from), instant(c.to), c.limit);
      expect(latest.map(iso)).toEqual(all.slice(-c.limit).map(iso));
    });
  });

  describe("the latest occurrences (catch-up that keeps only the newest)", () => {
    it.each(cases.latest)("$note", (c) => {
      const found = latestOccurrences(scheduleOf(c.cron), c.tz, instant(c.from), instant(c.to), c.limit);
      expect(found.map(iso)).toEqual(c.want.map((w) => iso(instant(w))));
    });
  });

  describe("the previous occurrence", () => {
    it.each(cases.previous)("$note", ({ cron, tz, at, want }) => {
      const previous = previousOccurrence(scheduleOf(cron), tz, instant(at));
      expect(previous === undefined ? undefined : iso(previous)).toBe(iso(instant(want)));
    });
  });

  describe("the next occurrence", () => {
    it.each(cases.next)("$note", ({ cron, tz, after, want }) => {
      const next = nextOccurrence(scheduleOf(cron), tz, instant(after));
      expect(next === undefined ? undefined : iso(next)).toBe(iso(instant(want)));
    });
  });
}

/** Registers the time-zone and quiet-hours specification from test/dsl/timezone.cases.yaml. */
export function timezoneSuite(yamlText: string): void {
  const cases = parse(yamlText) as TimezoneCases;

  describe("time zone names", () => {
    it.each(cases.valid)("%s is valid", (tz) => {
      expect(isValidTimeZone(tz)).toBe(true);
      expect(checkTimeZone(tz)).toEqual([]);
    });
    it.each(cases.invalid)("$tz is rejected", ({ tz, hint }) => {
      expect(isValidTimeZone(tz)).toBe(false);
      const diagnostics = checkTimeZone(tz);
      expect(diagnostics.map((d) => ({ code: d.code, span: d.span }))).toEqual([
        { code: "unknown_timezone", span: { start: 0, end: tz.length } },
      ]);
      if (hint) expect(diagnostics[0]?.hint).toContain(hint);
    });
  });

  describe("the wall clock of an instant", () => {
    it.each(cases.local_parts)("$at in $tz", ({ at, tz, want }) => {
      expect(localParts(instant(at), tz)).toEqual(want);
    });
  });

  describe("the instant of a wall-clock time", () => {
    it.each(cases.zoned_time)("$note", ({ local, tz, disambiguation, want, want_error }) => {
      if (want_error) {
        expect(() => zonedTimeToInstant(local, tz, disambiguation)).toThrow(RangeError);
        return;
      }
      expect(iso(zonedTimeToInstant(local, tz, disambiguation))).toBe(iso(instant(want ?? "")));
    });
  });

  describe("parsing quiet hours", () => {
    it.each(cases.quiet_hours_parse)("'$text'", ({ text, want, want_errors }) => {
      const { quietHours, diagnostics } = parseQuietHours(text);
      if (want) {
        expect(diagnostics).toEqual([]);
        expect(quietHours).toEqual(want);
        return;
      }
      expect(quietHours).toBeUndefined();
      expect(diagnostics.map((d) => ({ code: d.code, span: [d.span.start, d.span.end] }))).toEqual(
        (want_errors ?? []).map((span) => ({ code: "bad_quiet_hours", span })),
      );
    });
  });

  describe("quiet hours in the customer's time zone", () => {
    it.each(cases.quiet_hours)("$note", ({ tz, window, now, quiet, next }) => {
      const { quietHours } = parseQuietHours(window);
      if (!quietHours) throw new Error(`case window did not parse: ${window}`);
      expect(isQuiet(tz, instant(now), quietHours)).toBe(quiet);
      expect(iso(nextAllowedTime(tz, instant(now), quietHours))).toBe(iso(instant(next)));
    });
  });
}
