/**
 * Quiet hours: a daily window of local time ("21:00-08:00" in the customer's zone) in which no
 * message goes out; a send due inside it is deferred to the window's end.
 *
 * Stage: the checker calls `parseQuietHours` on every campaign's `quiet_hours` (stage: check); the
 * Worker's send path (worker/tick/step-send.ts) calls `nextAllowedTime` for each send (stage: run).
 * The wall clock and its DST rules come from dsl/time/wall-clock.ts.
 */

import type { ExprDiagnostic } from "../errors";
import { civilToMs, DAY_MS, MINUTE_MS } from "./calendar";
import { localParts, nextOffsetChange, utcOffsetMs } from "./wall-clock";

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

/** Far more offset changes than any zone has in the ~2 days one search can span. */
const MAX_ROUNDS = 16;

/**
 * The earliest instant at or after `nowMs` outside the quiet window: `nowMs` itself when not
 * quiet, otherwise the first instant at which the zone's wall clock leaves the window, so the
 * result is never quiet. Usually that is where the window ends; across a DST change it can be the
 * change itself (a gap that swallows the window's end ends it; a fall-back that turns the clock
 * back out of the window ends it early). When the whole allowed slot of a day falls in a gap, the
 * slot does not exist that day and the next day's is used. A repeated end time counts at its
 * first occurrence after `nowMs`.
 *
 * @example nextAllowedTime("Europe/Berlin", Date.parse("2026-01-10T22:00:00Z"), { start: 1260, end: 480 })
 *   // 2026-01-11T07:00:00Z (08:00 in Berlin)
 * @example nextAllowedTime("America/New_York", Date.parse("2026-03-07T12:00:00Z"), { start: 160, end: 130 })
 *   // 2026-03-09T06:10:00Z: 02:10-02:40 never happens on March 8, so the slot of March 9
 */
export function nextAllowedTime(timeZone: string, nowMs: number, window: QuietHours): number {
  let at = nowMs;
  // Within one UTC offset the wall clock runs evenly, so it leaves the window where the window
  // ends; if the offset changes first, look again from the change. Each round crosses one change
  // and zones change offset at most a few times a year, so this ends in a few rounds.
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const local = localParts(at, timeZone);
    const minuteOfDay = local.hour * 60 + local.minute;
    if (!insideWindow(minuteOfDay, window)) return at;
    // The window ends later today unless it wraps midnight and we are in its evening part.
    const endsTomorrow = minuteOfDay >= window.end;
    const wallEnd = civilToMs(local.year, local.month, local.day, 0, 0) + (endsTomorrow ? DAY_MS : 0);
    const end = wallEnd + window.end * MINUTE_MS - utcOffsetMs(at, timeZone);
    const change = nextOffsetChange(at, end, timeZone);
    if (change === undefined) return end;
    at = change;
  }
  throw new RangeError(`no time outside quiet hours found in "${timeZone}" after ${nowMs}`);
}
