/**
 * Strict ISO 8601 timestamps from callers: parsed to epoch milliseconds, rejected when they do not
 * name a real instant (month 13, 30 February, no UTC offset). Shared below the folders that read
 * them: ingest (event times), attributes (timestamp attributes) and the routes (`X-Rebound-Now`,
 * `POST /v1/admin/tick`).
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses an ISO 8601 date-time that carries a UTC offset (`Z` or `±hh:mm`). A time without an offset
 * is ambiguous and rejected.
 *
 * @example parseInstant("2026-03-01T09:30:00+01:00") // 1772353800000
 * @returns epoch milliseconds, or null when the text is not a valid instant
 */
export function parseInstant(text: string): number | null {
  const match = DATE_TIME.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, offH, offM] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (!isRealDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (!zulu) {
    const offsetHours = Number(offH);
    const offsetMins = Number(offM);
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

/**
 * Parses a date-time with offset, or a plain calendar date (`2027-04-30`, taken as midnight UTC),
 * as used by `card.expiring.expires_at`.
 */
export function parseInstantOrDate(text: string): number | null {
  const match = DATE_ONLY.exec(text);
  if (!match) return parseInstant(text);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  return isRealDate(year, month, day) ? Date.UTC(year, month - 1, day) : null;
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1970 || month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}
