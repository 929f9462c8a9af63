/**
 * Campaign schedules, written: 5-field cron expressions (minute hour day-of-month month
 * day-of-week) parsed and validated with located diagnostics into a `CronSchedule`, plain data
 * that lives in the ruleset IR.
 *
 * Stage: the ruleset checker calls `parseCron` on every campaign `schedule` (stage: check); the
 * schedule it returns is evaluated in a zone by dsl/time/cron-occurrences.ts (stage: run).
 *
 * The language, by example: `0 9 * * MON-FRI`, `*\/15 8-18 * * *`, `0 10 1,15 JAN-JUN *`.
 * - Fields: `*`, values, ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n` (= `a-<max>/n`), lists `a,b-c`.
 * - A step must be smaller than its field's span (`*\/60` in minutes, `*\/24` in hours are refused):
 *   such a step could only ever name the field's first value, which is rarely what was meant.
 * - Names, case-insensitive: months JAN-DEC, days SUN-SAT. A range may end at SUN (`FRI-SUN`).
 * - Day-of-week numbers follow POSIX cron: 0-6 = SUN-SAT, and 7 is SUN too. Cloudflare's own Cron
 *   Triggers count 1 = Sunday, so the same digit means different days in wrangler.toml and in a
 *   rule file; rule files should use names (see `CRON_DAY_OF_WEEK_NOTE`).
 * - Day-of-month and day-of-week, as in standard cron (Vixie cron, croner, cron-parser): a field
 *   written as `*` does not restrict; any other spelling does, even one that names every value
 *   (`1-31`, `0-6`, `*\/1`). When both restrict, a day matches if EITHER matches: `0 9 13 * FRI`
 *   runs on every 13th and on every Friday, and `0 9 15 * 0-6` runs every day.
 * - Macros: `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
 * - Not supported, with a clear error: seconds or year fields, `?`, `L`, `W`, `#`.
 */

import type { ExprDiagnostic, Span } from "../errors";
import { daysInMonth } from "./calendar";

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
  /**
   * True unless day-of-month was written as `*`, even when it names every day (`1-31`): as in
   * standard cron, when both day fields are restricted a day matches if either matches.
   */
  dayOfMonthRestricted: boolean;
  /** True unless day-of-week was written as `*` (`0-6` and `*\/1` restrict). */
  dayOfWeekRestricted: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  example: string;
  /** How to write "once per <next field>", offered when a step as large as the field is refused. */
  once: string;
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, example: "0-59", once: "for once an hour write `0 * * * *`" },
  { name: "hour", min: 0, max: 23, example: "0-23", once: "for once a day write one hour: `0 9 * * *`" },
  {
    name: "day-of-month",
    min: 1,
    max: 31,
    example: "1-31",
    once: "for once a month write one day: `0 9 1 * *`",
  },
  {
    name: "month",
    min: 1,
    max: 12,
    names: MONTH_NAMES,
    example: "1-12 or JAN-DEC",
    once: "for once a year write one month: `0 9 1 JAN *`",
  },
  // 7 is accepted as Sunday and folded into 0 after expansion.
  {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: DAY_NAMES,
    example: "SUN-SAT (or 0-6, 0 = Sunday)",
    once: "for once a week write one day: `0 9 * * MON`",
  },
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
    dayOfMonthRestricted: !isWildcard(words[2]!),
    dayOfWeekRestricted: !isWildcard(words[4]!),
  };
  checkDayExists(schedule, words[2]!, diagnostics);
  return diagnostics.length > 0 ? { diagnostics } : { schedule, diagnostics };
}

interface Word {
  text: string;
  start: number;
  end: number;
}

/**
 * Standard cron's test for an unrestricted day field: the field is literally `*`. A field that
 * merely names every value (`0-6`, `1-31`, `*\/1`) restricts, so `0 9 15 * 0-6` runs daily, as it
 * does in Vixie cron, croner and cron-parser.
 */
function isWildcard(field: Word): boolean {
  return field.text === "*";
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
    // Day-of-week spans 0-6: 7 is only another name for Sunday.
    const limit = Math.min(spec.max, spec.name === "day-of-week" ? 6 : spec.max) - spec.min;
    if (!/^\d+$/.test(stepText)) {
      badCron(diagnostics, `step "${stepText}" must be a whole number`, stepStart, stepEnd);
      return;
    }
    step = Number(stepText);
    if (step === 0) {
      badCron(diagnostics, `step 0 never advances: use a step of 1-${limit}`, stepStart, stepEnd);
      return;
    }
    // Standard cron accepts `*\/60` and runs it at minute 0 only; a step that can never reach a
    // second value is almost always a mistake (every 60 minutes is not "at :00 once an hour" to
    // everyone), so it is refused with the spelling that says what it does.
    if (step > limit) {
      badCron(
        diagnostics,
        `step ${stepText} is as large as the ${spec.name} field (${spec.min}-${spec.min + limit}), so it could only ever name its first value: use a step of 1-${limit}`,
        stepStart,
        stepEnd,
        spec.once,
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
