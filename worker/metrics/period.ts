/**
 * The period a metrics answer covers: `?from`, `?to` (local dates, inclusive), `?interval` (day,
 * ISO week from Monday, month) and `?currency`, with their defaults, their limits and a located
 * problem for each bad value; and the intervals of a period, clipped to it.
 *
 * Stage: HTTP request parsing for the metrics routes (worker/api/routes/metrics-*.ts), before any
 * read. The readers (worker/metrics/read-*.ts) take the day numbers this produces.
 */
import type { Ruleset } from "../../dsl";
import type { ErrorDetail } from "../errors";
import { dayIso, firstDayOfMonth, isoWeekday, localDay, monthOfDay, parseDayIso, periodZone } from "./days";

export const INTERVALS = ["day", "week", "month"] as const;
export type Interval = (typeof INTERVALS)[number];

/** Limits of a metrics period: what one answer may span and split into. */
export const PERIOD_LIMITS = Object.freeze({
  /** Days `?to` defaults to covering, counting `?to` itself: 180. */
  defaultDays: 180,
  /** At most three years of days from `?from` to `?to` inclusive (two common years and a leap one). */
  maxDays: 3 * 365 + 1,
  /** At most this many intervals in one answer (a daily chart over more than 400 days reads nothing). */
  maxIntervals: 400,
});

/** The period asked for, as day numbers of the reporting calendar (worker/metrics/days.ts). */
export interface MetricsPeriod {
  /** `ruleset.metricsTimezone`: an IANA zone, or `customer`. */
  timezone: string;
  /** The zone that says where request-time days begin and end (the default zone in `customer` mode). */
  clockZone: string;
  /** First and last day, inclusive. */
  from: number;
  to: number;
  interval: Interval;
  currency: string;
  /** The reporting day the request was made on (in the default zone in `customer` mode). */
  today: number;
}

/** One interval of a period, clipped to it: first and last day, inclusive. */
export interface DaySpan {
  start: number;
  end: number;
}

/** The names of the common query parameters; a route allows these and its own. */
export const PERIOD_PARAMETERS = ["from", "to", "interval", "currency"] as const;

/**
 * Reads the common metrics parameters of `url` at `now`, with the ruleset's reporting zone and
 * currency as defaults. Checks values only: the route checks the parameter names.
 *
 * @example readPeriod("https://x/v1/metrics/retention?from=2026-01-01&to=2026-03-31", ruleset, now)
 *   // { period: { from: 20454, to: 20543, interval: "month", currency: "USD", ... }, problems: [] }
 */
export function readPeriod(
  url: string,
  ruleset: Ruleset,
  now: number,
): { period: MetricsPeriod; problems: ErrorDetail[] } {
  const query = new URL(url).searchParams;
  const problems: ErrorDetail[] = [];
  const timezone = ruleset.metricsTimezone;
  const clockZone = periodZone(ruleset);
  const today = localDay(now, clockZone);

  const to = readDay(query.get("to"), "to", problems) ?? today;
  const fromText = query.get("from");
  const from = readDay(fromText, "from", problems) ?? to - (PERIOD_LIMITS.defaultDays - 1);

  const intervalText = query.get("interval");
  let interval: Interval = "month";
  if (intervalText !== null) {
    if ((INTERVALS as readonly string[]).includes(intervalText)) interval = intervalText as Interval;
    else problems.push({ path: "?interval", message: `must be one of ${INTERVALS.join(", ")}` });
  }

  const currencyText = query.get("currency");
  if (currencyText !== null && !/^[A-Z]{3}$/.test(currencyText)) {
    problems.push({ path: "?currency", message: "must be an ISO 4217 code in capitals, such as USD" });
  }
  const currency = currencyText ?? ruleset.currency;

  if (problems.length === 0) problems.push(...spanProblems(from, to, interval, fromText !== null));
  return { period: { timezone, clockZone, from, to, interval, currency, today }, problems };
}

function readDay(text: string | null, name: string, problems: ErrorDetail[]): number | null {
  if (text === null) return null;
  const day = parseDayIso(text);
  if (day === null) problems.push({ path: `?${name}`, message: "must be a real date written YYYY-MM-DD" });
  return day;
}

function spanProblems(from: number, to: number, interval: Interval, fromGiven: boolean): ErrorDetail[] {
  // Blame the parameter the caller gave: a defaulted `from` follows `to` and is never the cause.
  const path = fromGiven ? "?from" : "?to";
  if (from > to) return [{ path, message: `must not be after ?to (${dayIso(to)})` }];
  const days = to - from + 1;
  if (days > PERIOD_LIMITS.maxDays) {
    return [
      {
        path,
        message: `makes a period of ${days} days; at most ${PERIOD_LIMITS.maxDays} (3 years) in one answer`,
      },
    ];
  }
  const count = intervalsOf(from, to, interval).length;
  if (count > PERIOD_LIMITS.maxIntervals) {
    return [
      {
        path: "?interval",
        message: `splits ${days} days into ${count} intervals; at most ${PERIOD_LIMITS.maxIntervals}: use week or month, or a shorter period`,
      },
    ];
  }
  return [];
}

/**
 * The intervals of [from, to], in order: each day, each ISO week (Monday to Sunday) or each calendar
 * month, the first and the last clipped to the period.
 *
 * @example intervalsOf(parseDayIso("2026-01-28")!, parseDayIso("2026-03-03")!, "month")
 *   // Jan 28–31, Feb 1–28, Mar 1–3
 */
export function intervalsOf(from: number, to: number, interval: Interval): DaySpan[] {
  const spans: DaySpan[] = [];
  let start = from;
  while (start <= to) {
    const end = Math.min(to, lastDayOfInterval(start, interval));
    spans.push({ start, end });
    start = end + 1;
  }
  return spans;
}

function lastDayOfInterval(day: number, interval: Interval): number {
  if (interval === "day") return day;
  if (interval === "week") return day + (7 - isoWeekday(day));
  return firstDayOfMonth(monthOfDay(day) + 1) - 1;
}

/**
 * The index in `spans` (as `intervalsOf` gives them) of the interval holding `day`, or -1 when the
 * day lies outside them.
 */
export function intervalLocator(spans: readonly DaySpan[]): (day: number) => number {
  const first = spans[0]?.start ?? 0;
  const index = new Int32Array(spans.length === 0 ? 0 : spans.at(-1)!.end - first + 1);
  for (const [n, span] of spans.entries()) index.fill(n, span.start - first, span.end - first + 1);
  return (day) => (day < first || day - first >= index.length ? -1 : index[day - first]!);
}

/** A rate that is null, not NaN or infinite, when there is nothing to divide by. */
export function rate(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** The fields every metrics answer starts with. */
export function periodHeader(period: MetricsPeriod): { timezone: string; from: string; to: string } {
  return { timezone: period.timezone, from: dayIso(period.from), to: dayIso(period.to) };
}
