/**
 * Campaign schedules: 5-field cron expressions (minute hour day-of-month month day-of-week),
 * parsed and validated with located diagnostics, then evaluated in an IANA time zone.
 *
 * Stage: the ruleset checker calls `parseCron` on every campaign `schedule` (stage: check); the
 * Worker's tick calls `occurrencesBetween` (the earliest N) or `latestOccurrences` (the newest N,
 * for a catch-up that runs only the most recent missed ones) to find the occurrences due since its
 * last run, and `nextOccurrence` / `previousOccurrence` to report them (stage: run).
 *
 * The language, by example: `0 9 * * MON-FRI`, `*\/15 8-18 * * *`, `0 10 1,15 JAN-JUN *`.
 * - Fields: `*`, values, ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n` (= `a-<max>/n`), lists `a,b-c`.
 * - Names, case-insensitive: months JAN-DEC, days SUN-SAT. A range may end at SUN (`FRI-SUN`).
 * - Day-of-week numbers follow POSIX cron: 0-6 = SUN-SAT, and 7 is SUN too. Cloudflare's own Cron
 *   Triggers count 1 = Sunday, so the same digit means different days in wrangler.toml and in a
 *   rule file; rule files should use names (see `CRON_DAY_OF_WEEK_NOTE`).
 * - Day-of-month and day-of-week: when both are restricted, a day matches if EITHER matches
 *   (POSIX): `0 9 13 * FRI` runs on every 13th and on every Friday. A field counts as restricted
 *   when it leaves out at least one value, so `*\/2` restricts (unlike Vixie cron, which looks at
 *   the leading `*`).
 * - Macros: `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
 * - Not supported, with a clear error: seconds or year fields, `?`, `L`, `W`, `#`.
 *
 * Evaluation walks the local calendar field by field (never minute by minute) and maps each
 * matching wall-clock time to an instant with the DST rules of dsl/time/timezone.ts: a time skipped by a
 * spring-forward gap runs once, at the first instant after the gap (02:30 on the March change in
 * New York runs at 03:00 EDT; several skipped times collapse into that one run); a time repeated by
 * fall-back runs once, at its first occurrence. Every wall-clock time the schedule names therefore
 * runs exactly once.
 */

import type { ExprDiagnostic, Span } from "../errors";
import { civilFromDays, civilToMs, DAY_MS, daysInMonth, MINUTE_MS, weekdayOf } from "./calendar";
import { localParts, resolveWallClock, utcOffsetMs } from "./timezone";

/** The day-of-week convention, in words the docs and CLI can show next to a schedule. */
export const CRON_DAY_OF_WEEK_NOTE =
  "Rebound schedules run in the campaign's time zone and count day-of-week numbers the POSIX way: " +
  "0 or 7 = Sunday, 1 = Monday … 6 = Saturday. Cloudflare's Cron Triggers (wrangler.toml) count " +
  "1 = Sunday instead, so prefer day names (SUN, MON-FRI): they mean the same everywhere.";

/**
 * A validated schedule as plain, JSON-serialisable data (it can live in the ruleset IR).
 * Value lists are sorted and de-duplicated; day-of-week uses 0 = Sunday … 6 = Saturday.
 */
export interface CronSchedule {
  /** The expression as written, trimmed. */
  source: string;
  minutes: number[];
  hours: number[];
  daysOfMonth: number[];
  months: number[];
  daysOfWeek: number[];
  /** True when day-of-month leaves out some day (then POSIX OR applies if day-of-week does too). */
  dayOfMonthRestricted: boolean;
  dayOfWeekRestricted: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  example: string;
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, example: "0-59" },
  { name: "hour", min: 0, max: 23, example: "0-23" },
  { name: "day-of-month", min: 1, max: 31, example: "1-31" },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES, example: "1-12 or JAN-DEC" },
  // 7 is accepted as Sunday and folded into 0 after expansion.
  { name: "day-of-week", min: 0, max: 7, names: DAY_NAMES, example: "SUN-SAT (or 0-6, 0 = Sunday)" },
];

const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * SUN",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** How far ahead `nextOccurrence` looks: a full 28-year Gregorian weekday cycle. */
const MAX_SEARCH_YEARS = 28;

type Diagnostics = ExprDiagnostic[];

function badCron(diagnostics: Diagnostics, message: string, start: number, end: number, hint?: string): void {
  const diagnostic: ExprDiagnostic = { code: "bad_cron", message, span: { start, end } };
  if (hint) diagnostic.hint = hint;
  diagnostics.push(diagnostic);
}

/**
 * Parses and validates a cron expression. Diagnostics carry code `bad_cron` and a span (UTF-16
 * offsets into `text`, untrimmed) on the offending token, so the checker can point at file:line:col.
 * All problems are reported, not just the first; `schedule` is present only when there are none.
 *
 * @example parseCron("0 9 * * MON-FRI").schedule?.daysOfWeek // [1, 2, 3, 4, 5]
 * @example parseCron("0 25 * * *").diagnostics[0]?.span     // { start: 2, end: 4 }
 */
export function parseCron(text: string): { schedule?: CronSchedule; diagnostics: ExprDiagnostic[] } {
  const diagnostics: Diagnostics = [];
  const words = splitWords(text);
  const first = words[0];
  if (!first) {
    badCron(diagnostics, "the schedule is empty", 0, text.length, 'write 5 fields, e.g. "0 9 * * MON"');
    return { diagnostics };
  }
  if (first.text.startsWith("@")) return parseMacro(text, words, diagnostics);
  if (words.length !== FIELDS.length) {
    const extra = words[FIELDS.length];
    const lastWord = words[words.length - 1] ?? first;
    const hint =
      words.length === 6
        ? "Rebound schedules have no seconds or year field: minute hour day-of-month month day-of-week"
        : "minute hour day-of-month month day-of-week, e.g. 0 9 * * MON";
    if (extra)
      badCron(diagnostics, `expected 5 fields, found ${words.length}`, extra.start, lastWord.end, hint);
    else badCron(diagnostics, `expected 5 fields, found ${words.length}`, first.start, lastWord.end, hint);
    return { diagnostics };
  }
  const sets = FIELDS.map((spec, i) => parseField(words[i]!, spec, diagnostics));
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = sets;
  if (!minutes || !hours || !daysOfMonth || !months || !daysOfWeek) return { diagnostics };
  const weekdays = [...new Set(daysOfWeek.map((day) => day % 7))].sort((a, b) => a - b);
  const schedule: CronSchedule = {
    source: text.trim(),
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek: weekdays,
    dayOfMonthRestricted: daysOfMonth.length < 31,
    dayOfWeekRestricted: weekdays.length < 7,
  };
  checkDayExists(schedule, words[2]!, diagnostics);
  return diagnostics.length > 0 ? { diagnostics } : { schedule, diagnostics };
}

interface Word {
  text: string;
  start: number;
  end: number;
}

function splitWords(text: string): Word[] {
  const words: Word[] = [];
  for (const match of text.matchAll(/\S+/g)) {
    const start = match.index ?? 0;
    words.push({ text: match[0], start, end: start + match[0].length });
  }
  return words;
}

function parseMacro(
  text: string,
  words: Word[],
  diagnostics: Diagnostics,
): { schedule?: CronSchedule; diagnostics: ExprDiagnostic[] } {
  const macro = words[0]!;
  const expansion = MACROS[macro.text.toLowerCase()];
  if (!expansion) {
    badCron(
      diagnostics,
      `unknown schedule macro "${macro.text}"`,
      macro.start,
      macro.end,
      `use one of ${Object.keys(MACROS).join(", ")}, or 5 fields`,
    );
    return { diagnostics };
  }
  if (words.length > 1) {
    badCron(
      diagnostics,
      `"${macro.text}" stands alone: nothing may follow it`,
      words[1]!.start,
      words[words.length - 1]!.end,
    );
    return { diagnostics };
  }
  const parsed = parseCron(expansion);
  if (!parsed.schedule) return parsed;
  return { schedule: { ...parsed.schedule, source: text.trim() }, diagnostics };
}

/** Expands one field into its sorted values, or reports every bad item and returns undefined. */
function parseField(word: Word, spec: FieldSpec, diagnostics: Diagnostics): number[] | undefined {
  const values = new Set<number>();
  const before = diagnostics.length;
  let offset = word.start;
  for (const item of word.text.split(",")) {
    const span = { start: offset, end: offset + item.length };
    offset = span.end + 1;
    if (item === "") {
      // Point at the stray comma: the empty item itself has no width.
      const comma = span.start < word.end ? span.start : span.start - 1;
      badCron(diagnostics, `empty item in the ${spec.name} list`, comma, comma + 1);
      continue;
    }
    parseItem(item, span, spec, values, diagnostics);
  }
  if (diagnostics.length > before) return undefined;
  return [...values].sort((a, b) => a - b);
}

function parseItem(
  item: string,
  span: Span,
  spec: FieldSpec,
  into: Set<number>,
  diagnostics: Diagnostics,
): void {
  const slash = item.indexOf("/");
  const base = slash < 0 ? item : item.slice(0, slash);
  let step = 1;
  if (slash >= 0) {
    const stepText = item.slice(slash + 1);
    const stepStart = span.start + slash + 1;
    const stepEnd = span.end;
    const limit = Math.min(spec.max, spec.name === "day-of-week" ? 6 : spec.max) - spec.min;
    if (!/^\d+$/.test(stepText)) {
      badCron(diagnostics, `step "${stepText}" must be a whole number`, stepStart, stepEnd);
      return;
    }
    step = Number(stepText);
    if (step === 0 || step > limit) {
      badCron(
        diagnostics,
        `step ${stepText} is out of range for ${spec.name}: use 1-${limit}`,
        stepStart,
        stepEnd,
        step > limit && spec.name === "minute" ? "for once an hour write `0 * * * *`" : undefined,
      );
      return;
    }
  }
  let low: number;
  let high: number;
  if (base === "*") {
    low = spec.min;
    high = spec.name === "day-of-week" ? 6 : spec.max;
  } else {
    const dash = base.indexOf("-", 1);
    const lowText = dash < 0 ? base : base.slice(0, dash);
    const lowValue = parseValue(lowText, span.start, spec, diagnostics);
    if (dash < 0) {
      if (lowValue === undefined) return;
      low = lowValue;
      high = slash >= 0 ? (spec.name === "day-of-week" ? 6 : spec.max) : lowValue;
      if (low > high) {
        badCron(
          diagnostics,
          `a step cannot start at ${lowText}, past the end of ${spec.name}`,
          span.start,
          span.start + base.length,
          "start from SUN (0) or use a list",
        );
        return;
      }
    } else {
      const highText = base.slice(dash + 1);
      const highValue = parseValue(highText, span.start + dash + 1, spec, diagnostics);
      if (lowValue === undefined || highValue === undefined) return;
      low = lowValue;
      // A day range may run up to Sunday written by name: FRI-SUN = 5-7.
      high =
        spec.name === "day-of-week" && highValue === 0 && lowValue > 0 && /^sun$/i.test(highText)
          ? 7
          : highValue;
      if (low > high) {
        badCron(
          diagnostics,
          `range ${base} runs backwards`,
          span.start,
          span.start + base.length,
          `write it as two parts: ${lowText}-${spec.names?.[spec.names.length - 1] ?? spec.max},${spec.names?.[0] ?? spec.min}-${highText}`,
        );
        return;
      }
    }
  }
  for (let value = low; value <= high; value += step) into.add(value);
}

function parseValue(
  text: string,
  start: number,
  spec: FieldSpec,
  diagnostics: Diagnostics,
): number | undefined {
  const end = start + text.length;
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      badCron(diagnostics, `${spec.name} ${text} is out of range: use ${spec.example}`, start, end);
      return undefined;
    }
    return value;
  }
  const names = spec.names;
  const index = names ? names.indexOf(text.toUpperCase()) : -1;
  if (index >= 0) return spec.name === "month" ? index + 1 : index;
  if (/[?#]/.test(text) || /^(\d*L|\d+W|LW)$/i.test(text)) {
    badCron(
      diagnostics,
      `"${text}" uses cron syntax Rebound does not support (? L W #)`,
      start,
      end,
      text === "?" ? "use * for any value" : "list the days or weekdays you mean instead",
    );
    return undefined;
  }
  const prefix = names?.find((name) => text.length > 3 && text.toUpperCase().startsWith(name));
  badCron(
    diagnostics,
    text === "" ? `missing value in the ${spec.name} field` : `"${text}" is not a valid ${spec.name}`,
    text === "" ? Math.max(0, start - 1) : start,
    text === "" ? start : end,
    prefix ? `use the three-letter name: ${prefix}` : `use ${spec.example}`,
  );
  return undefined;
}

/** Rejects a day-of-month that no chosen month has (`0 9 31 APR *`, `0 9 30 2 *`): it would never run. */
function checkDayExists(schedule: CronSchedule, field: Word, diagnostics: Diagnostics): void {
  if (!schedule.dayOfMonthRestricted || schedule.dayOfWeekRestricted) return;
  // February counts as 29 days: a Feb 29 schedule runs in leap years.
  const possible = schedule.months.some((month) =>
    schedule.daysOfMonth.some((day) => day <= daysInMonth(2000, month)),
  );
  if (!possible) {
    badCron(
      diagnostics,
      `day-of-month ${field.text} never occurs in the chosen month(s), so the schedule would never run`,
      field.start,
      field.end,
    );
  }
}

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
