/**
 * Reporting days: the calendar the metrics count in. A metric day is a local date in the reporting
 * zone (`settings.metrics.timezone`), or in each customer's own zone when that setting is
 * `customer`, numbered as days since 1970-01-01 of that calendar (so day numbers of different zones
 * line up by date, not by instant). Months and years number the same calendar: month = year × 12 +
 * (month − 1).
 */
import {
  civilFromDays,
  DAY_MS,
  daysFromCivil,
  isValidTimeZone,
  utcOffsetMs,
  zonedTimeToInstant,
} from "../../dsl";

/** The local date of an instant in a zone, as a day number. */
export function localDay(instantMs: number, timeZone: string): number {
  return Math.floor((instantMs + utcOffsetMs(instantMs, timeZone)) / DAY_MS);
}

/** The first instant of a local day in a zone (midnight, or the first instant after a DST gap). */
export function dayStart(day: number, timeZone: string): number {
  const { year, month, day: date } = civilFromDays(day);
  return zonedTimeToInstant({ year, month, day: date, hour: 0, minute: 0 }, timeZone);
}

/** The month number (year × 12 + month − 1) of a day number. */
export function monthOfDay(day: number): number {
  const { year, month } = civilFromDays(day);
  return year * 12 + (month - 1);
}

/** The year of a day number. */
export function yearOfDay(day: number): number {
  return civilFromDays(day).year;
}

/** The day number of the first day of a month number. */
export function firstDayOfMonth(monthNumber: number): number {
  return daysFromCivil(Math.floor(monthNumber / 12), (monthNumber % 12) + 1, 1);
}

/** `YYYY-MM-DD` of a day number. */
export function dayIso(day: number): string {
  const { year, month, day: date } = civilFromDays(day);
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(date).padStart(2, "0")}`;
}

/** The day number of `YYYY-MM-DD`, or null when it is not a real date. */
export function parseDayIso(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || date < 1) return null;
  const day = daysFromCivil(year, month, date);
  return civilFromDays(day).day === date ? day : null;
}

/** ISO weekday of a day number: 1 = Monday … 7 = Sunday (day 0, 1970-01-01, was a Thursday). */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** What decides the reporting zone: the rules' settings (dsl `Ruleset` has both fields). */
export interface ReportingZoneSettings {
  /** An IANA zone, or `customer`: each customer's own zone. */
  readonly metricsTimezone: string;
  readonly defaultTimezone: string;
}

/**
 * The zone a customer's figures are counted in: the reporting zone, or in `customer` mode the
 * customer's own zone when it is a real one, else the rules' default zone.
 */
export function reportingZone(settings: ReportingZoneSettings, customerTimezone: unknown): string {
  if (settings.metricsTimezone !== "customer") return settings.metricsTimezone;
  return typeof customerTimezone === "string" && isValidTimeZone(customerTimezone)
    ? customerTimezone
    : settings.defaultTimezone;
}

/**
 * The zone for boundaries read at request time (a period's first and last instant): the reporting
 * zone, or the default zone in `customer` mode, where each customer's days are already local.
 */
export function periodZone(settings: ReportingZoneSettings): string {
  return settings.metricsTimezone === "customer" ? settings.defaultTimezone : settings.metricsTimezone;
}
