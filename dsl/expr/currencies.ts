/**
 * ISO 4217 currencies as the language knows them: which codes exist and how many minor-unit digits
 * each has, from the runtime's Intl data (Node and workerd alike).
 *
 * Stage: shared by the checker (money literals, `money(XXX)` fields, settings), fields.ts and
 * exchange.ts. Kept apart so that exchange rates and the field catalog need not import each other.
 */

const CURRENCY_CODE_RE = /^[A-Z]{3}$/;

/** Whether `code` is an ISO 4217 currency this runtime knows (Intl, available in Node and workerd). */
export function isKnownCurrency(code: string): boolean {
  if (!CURRENCY_CODE_RE.test(code)) return false;
  knownCurrencies ??= new Set(Intl.supportedValuesOf("currency"));
  return knownCurrencies.has(code);
}

// Intl lookups are slow (a formatter per call); a ruleset checks the same few currencies often.
let knownCurrencies: Set<string> | undefined;
const digitsByCurrency = new Map<string, number>();

/** Minor-unit digits of a currency: 2 for USD and EUR, 0 for JPY, 3 for KWD. */
export function currencyDigits(code: string): number {
  let digits = digitsByCurrency.get(code);
  if (digits === undefined) {
    digits =
      new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions()
        .maximumFractionDigits ?? 2;
    digitsByCurrency.set(code, digits);
  }
  return digits;
}
