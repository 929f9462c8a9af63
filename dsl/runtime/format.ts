/**
 * Values shown to people: a runtime value in a trace (`missing`, `$20`, `14d`, an ISO instant) and
 * money in the currency's own format. Shared by condition traces (explain.ts) and messages
 * (messages.ts), which is why it is neither of them.
 *
 * Stage: runtime, off the hot path.
 */
import type { ExprType, Money, Value } from "../expr/types";

/** A runtime value for people, using its static type when known. */
export function formatValue(value: Value | null, type?: ExprType): string {
  if (value === null) return "missing";
  if (typeof value === "object" && !Array.isArray(value)) return formatMoney(value as Money);
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v)).join(", ")}]`;
  if (typeof value === "number" && type?.kind === "timestamp") return new Date(value).toISOString();
  if (typeof value === "number" && type?.kind === "duration") return formatDuration(value);
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** `$20`, `$19.99`, `€5`, `¥500`: minor units shown in the currency's own format. */
export function formatMoney(money: Money): string {
  const format = new Intl.NumberFormat("en-US", { style: "currency", currency: money.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const major = money.amount / 10 ** digits;
  const whole = Number.isInteger(major);
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: money.currency,
    minimumFractionDigits: whole ? 0 : digits,
    maximumFractionDigits: digits,
  }).format(major);
}

function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ];
  for (const [unit, size] of units) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
