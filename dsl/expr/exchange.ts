/**
 * Exchange rates: how money in another currency is brought into the ruleset's currency
 * (`settings.exchange_rates`), identically in the closures and in D1's SQL.
 *
 * Stage: built from the checked settings (dsl/rules/check-catalog.ts), carried in the expression
 * scope (dsl/expr/fields.ts `buildScope`), read by compile.ts, column-tests.ts, first-match.ts and
 * sql.ts, and by the runtime for per-currency rewards and the metrics' reporting currency.
 *
 * A rate is kept as an exact fraction of two integers, `scale / divisor`, that turns minor units of
 * its currency into minor units of the ruleset currency (the minor-unit digits folded in: 1 JPY at
 * 0.0067 USD is `amount * 67 / 100` US cents). Converting is always `amount * scale / divisor`,
 * two IEEE double operations in that order: JavaScript computes it on numbers and SQLite on REALs
 * (`CAST(amount AS REAL) * scale / divisor`) with the integers written out as literals, which
 * SQLite reads exactly. So both back ends produce the same bits, and no decimal fraction is ever
 * parsed by SQLite (its text-to-double conversion need not round like JavaScript's).
 */

import { currencyDigits } from "./currencies";
import type { Exchange, ExchangeRate, SqlFragment } from "./types";

export type { Exchange, ExchangeRate } from "./types";

/** The most decimal places a rate may have, so its fraction's integers stay exact doubles. */
export const MAX_RATE_DECIMALS = 10;
const MAX_RATE_DIGITS = 15;

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/**
 * A rate as an exact decimal fraction `numerator / 10^places`, or an error message. 1.08 is
 * 108 / 100; a rate with more than ten decimal places or fifteen significant digits is refused.
 */
export function rateFraction(rate: number): { numerator: number; places: number } | { error: string } {
  if (!Number.isFinite(rate) || rate <= 0) return { error: "a rate must be a positive number" };
  const match = DECIMAL_RE.exec(String(rate));
  if (!match) return { error: "a rate must be a positive number" };
  const [, whole, fraction = "", exponent = "0"] = match;
  let digits = `${whole}${fraction}`;
  let places = fraction.length - Number(exponent);
  if (places < 0) {
    digits += "0".repeat(-places);
    places = 0;
  }
  digits = digits.replace(/^0+(?=\d)/, "");
  if (places > MAX_RATE_DECIMALS || digits.length > MAX_RATE_DIGITS) {
    return {
      error: `a rate has at most ${MAX_RATE_DECIMALS} decimal places and ${MAX_RATE_DIGITS} significant digits`,
    };
  }
  return { numerator: Number(digits), places };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The exchange for a ruleset currency and its declared rates (1 unit of the key = rate units of
 * the ruleset currency). Rates must have passed `rateFraction`; the checker reports those that do not.
 *
 * @example buildExchange("USD", { EUR: 1.08, JPY: 0.0067 }).rates.get("JPY") // { scale: 67, divisor: 100 }
 */
export function buildExchange(currency: string, rates: Readonly<Record<string, number>>): Exchange {
  const table = new Map<string, ExchangeRate>([[currency, { scale: 1, divisor: 1 }]]);
  const digits = currencyDigits(currency);
  for (const [code, rate] of Object.entries(rates)) {
    const fraction = rateFraction(rate);
    if ("error" in fraction || code === currency) continue;
    const shift = digits - currencyDigits(code);
    let scale = fraction.numerator * 10 ** Math.max(0, shift);
    let divisor = 10 ** (fraction.places + Math.max(0, -shift));
    const common = gcd(scale, divisor);
    scale /= common;
    divisor /= common;
    table.set(code, { scale, divisor });
  }
  return { currency, rates: table };
}

/** An exchange with no rates: only the ruleset currency converts (into itself). */
export function noExchange(currency: string): Exchange {
  return { currency, rates: new Map([[currency, { scale: 1, divisor: 1 }]]) };
}

/**
 * The scope's exchange when it converts some other currency, else undefined: rules without rates
 * compile exactly as before (another currency is unknown) with no conversion in their SQL.
 */
export function converting(exchange: Exchange | undefined): Exchange | undefined {
  return exchange !== undefined && exchange.rates.size > 1 ? exchange : undefined;
}

/** Whether amounts in `code` can be brought into the ruleset currency. */
export function converts(exchange: Exchange, code: string): boolean {
  return exchange.rates.has(code);
}

/**
 * `amount` minor units of `currency` in minor units of the ruleset currency (a double, not
 * rounded), or null when the currency has no rate. The same operations as `toRulesetCurrencySql`.
 */
export function toRulesetCurrency(exchange: Exchange, amount: number, currency: string): number | null {
  const rate = exchange.rates.get(currency);
  return rate === undefined ? null : (amount * rate.scale) / rate.divisor;
}

/**
 * `toRulesetCurrency` in SQL: `CAST(amount AS REAL) * scale / divisor`, the same operations in the
 * same order, NULL for a currency without a rate. A literal currency's integers are written out;
 * otherwise each comes from a CASE over the declared rates. Codes and integers are inlined: they
 * come from checked rules (three capital letters, safe integers), and inlining spends none of
 * D1's 100 bound parameters.
 */
export function toRulesetCurrencySql(
  exchange: Exchange,
  amount: SqlFragment,
  currency: SqlFragment,
): SqlFragment {
  const literal = /^'([A-Z]{3})'$/.exec(currency.sql);
  if (literal && currency.params.length === 0) {
    const rate = exchange.rates.get(literal[1]!);
    if (rate === undefined) return { sql: "NULL", params: [] };
    return { sql: `(CAST(${amount.sql} AS REAL) * ${rate.scale} / ${rate.divisor})`, params: amount.params };
  }
  const scale: string[] = [];
  const divisor: string[] = [];
  for (const [code, rate] of exchange.rates) {
    scale.push(`WHEN '${code}' THEN ${rate.scale}`);
    divisor.push(`WHEN '${code}' THEN ${rate.divisor}`);
  }
  return {
    sql: `(CAST(${amount.sql} AS REAL) * (CASE ${currency.sql} ${scale.join(" ")} END) / (CASE ${currency.sql} ${divisor.join(" ")} END))`,
    params: [...amount.params, ...currency.params, ...currency.params],
  };
}

/**
 * An amount in the ruleset currency (minor units, possibly fractional) expressed in `currency`,
 * rounded to its minor unit (half away from zero), or null without a rate. For rewards given in a
 * currency the rules list no amount for.
 */
export function fromRulesetCurrency(exchange: Exchange, amount: number, currency: string): number | null {
  const rate = exchange.rates.get(currency);
  if (rate === undefined) return null;
  const exact = (amount * rate.divisor) / rate.scale;
  return Math.sign(exact) * Math.round(Math.abs(exact));
}
