/**
 * How the dashboard writes numbers: money from minor units in its own currency, counts, rates as
 * percentages. A missing rate (its denominator was 0) shows as an em dash, never as 0%.
 */

const digitsCache = new Map<string, number>();

/** The number of minor-unit digits of `currency` (2 for USD, 0 for JPY), as Intl knows it. */
export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions()
        .maximumFractionDigits;
    } catch {
      digits = 2;
    }
    digitsCache.set(currency, digits ?? 2);
  }
  return digits ?? 2;
}

/** `4900` USD → "$49.00". */
export function money(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  try {
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(minor / 10 ** digits);
  } catch {
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

/** A compact money label for chart axes: "$1.2K". */
export function moneyShort(minor: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en-US", {
      style: "currency",
      currency,
      notation: "compact",
      maximumFractionDigits: 1,
    }).format(minor / 10 ** minorDigits(currency));
  } catch {
    return money(minor, currency);
  }
}

export function count(value: number): string {
  return new Intl.NumberFormat("en-US").format(value);
}

/** `0.125` → "12.5%"; null → "—". */
export function rate(value: number | null): string {
  return value === null ? "—" : `${(value * 100).toFixed(1)}%`;
}

/** A lift in rate units as signed percentage points: `0.041` → "+4.1 pp". */
export function points(value: number): string {
  const sign = value > 0 ? "+" : value < 0 ? "−" : "±";
  return `${sign}${Math.abs(value * 100).toFixed(1)} pp`;
}

/** An instant (ISO text or epoch ms) as a short UTC date and time: "2026-03-01 14:05". */
export function instant(value: string | number): string {
  const iso = typeof value === "number" ? new Date(value).toISOString() : value;
  return iso.replace("T", " ").slice(0, 16);
}
