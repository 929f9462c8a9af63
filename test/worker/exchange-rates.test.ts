// Money across currencies with `settings.exchange_rates`: the closures and D1's SQL convert amounts
// into the ruleset currency with the same IEEE double operations, so they agree to the bit, and a
// threshold in dollars holds for a customer in pounds exactly when the converted amount meets it.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { compileExpression } from "../../dsl/expr/compile";
import { buildExchange, toRulesetCurrency, toRulesetCurrencySql } from "../../dsl/expr/exchange";
import { buildScope, parseFieldType } from "../../dsl/expr/fields";
import { parseExpression } from "../../dsl/expr/parser";
import { bindSql, expressionToSql } from "../../dsl/expr/sql";
import type { EvalContext, ExprType } from "../../dsl/expr/types";
import { prng } from "../prng";

const NOW = Date.UTC(2026, 0, 15, 9, 30);
// 1.27 and 0.0067 are not exact doubles; KWD has three decimals and JPY none.
const RATES = { EUR: 1.08, GBP: 1.27, AUD: 0.66, JPY: 0.0067, KWD: 3.2567, SEK: 0.0951234567 };
const CURRENCIES = ["USD", "EUR", "GBP", "AUD", "JPY", "KWD", "SEK", "CHF", null] as const;

function declared(text: string): ExprType {
  const type = parseFieldType(text);
  if ("error" in type) throw new Error(type.error);
  return type;
}

const scope = buildScope({
  defaultCurrency: "USD",
  exchangeRates: RATES,
  customFields: [{ name: "budget", type: declared("money(EUR)") }],
});

async function storeCustomers(rows: { id: string; ltv: number; currency: string | null; budget?: number }[]) {
  const db = env.DB;
  await db.batch([db.prepare("DELETE FROM events"), db.prepare("DELETE FROM customers")]);
  const insert =
    "INSERT INTO customers (id, status, ltv, order_count, order_total, referrals, open_tickets, currency, attributes, first_seen_at, last_event_at) VALUES (?, 'active', ?, 0, 0, 0, 0, ?, ?, 0, 0)";
  for (let i = 0; i < rows.length; i += 200) {
    await db.batch(
      rows
        .slice(i, i + 200)
        .map((row) =>
          db
            .prepare(insert)
            .bind(
              row.id,
              row.ltv,
              row.currency,
              JSON.stringify(row.budget === undefined ? {} : { budget: row.budget }),
            ),
        ),
    );
  }
}

function contextOf(row: { id: string; ltv: number; currency: string | null; budget?: number }): EvalContext {
  return {
    now: NOW,
    customer: { ...row, attributes: row.budget === undefined ? {} : { budget: row.budget } },
    events: [],
  };
}

describe("exchange rates in both back ends", () => {
  it("convert every amount to the same double in JavaScript and in D1", async () => {
    const random = prng(20_261_204);
    const rows = Array.from({ length: 1200 }, (_, i) => {
      const kind = i % 4;
      const ltv =
        kind === 0
          ? i
          : kind === 1
            ? Math.floor(random() * 1e9)
            : kind === 2
              ? Math.floor(random() * 1e7) + 0.5
              : -Math.floor(random() * 1e6);
      return { id: `c${String(i).padStart(4, "0")}`, ltv, currency: CURRENCIES[i % CURRENCIES.length]! };
    });
    await storeCustomers(rows);
    const exchange = buildExchange("USD", RATES);
    const column = toRulesetCurrencySql(
      exchange,
      { sql: "c.ltv", params: [] },
      { sql: "c.currency", params: [] },
    );
    const literal = toRulesetCurrencySql(
      exchange,
      { sql: "c.ltv", params: [] },
      { sql: "'GBP'", params: [] },
    );
    const result = await env.DB.prepare(
      `SELECT c.id AS id, ${column.sql} AS v, ${literal.sql} AS gbp FROM customers c ORDER BY c.id`,
    ).all<{ id: string; v: number | null; gbp: number }>();
    const byId = new Map(rows.map((row) => [row.id, row]));
    let converted = 0;
    let inexact = 0;
    for (const { id, v, gbp } of result.results) {
      const row = byId.get(id)!;
      const want = row.currency === null ? null : toRulesetCurrency(exchange, row.ltv, row.currency);
      expect(v, `${row.ltv} ${row.currency}`).toBe(want);
      expect(gbp).toBe(toRulesetCurrency(exchange, row.ltv, "GBP"));
      if (want !== null) converted++;
      if (want !== null && !Number.isInteger(want)) inexact++;
    }
    expect(result.results).toHaveLength(rows.length);
    // Most currencies convert (CHF and no currency do not), many to fractional cents.
    expect(converted).toBeGreaterThan(rows.length / 2);
    expect(inexact).toBeGreaterThan(rows.length / 10);
  });

  const cases: {
    expr: string;
    currency: string | null;
    ltv: number;
    budget?: number;
    want: boolean | null;
  }[] = [
    // 500 GBP is 635 USD at 1.27.
    { expr: "ltv >= $635", currency: "GBP", ltv: 50_000, want: true },
    { expr: "ltv >= $635", currency: "GBP", ltv: 49_999, want: false },
    { expr: "ltv < $635", currency: "GBP", ltv: 49_999, want: true },
    { expr: "ltv == £500", currency: "USD", ltv: 63_500, want: true },
    // 100,000 JPY (no minor unit) is 670 USD at 0.0067.
    { expr: "ltv >= $670", currency: "JPY", ltv: 100_000, want: true },
    { expr: "ltv > $670", currency: "JPY", ltv: 100_000, want: false },
    // Both sides converted: 300 EUR (324 USD) against 255.12 GBP (324.0024 USD).
    { expr: "ltv < €300", currency: "GBP", ltv: 25_512, want: false },
    { expr: "ltv between €300 and £300", currency: "AUD", ltv: 50_000, want: true },
    // Same currency: compared as written, no conversion.
    { expr: "ltv >= £500", currency: "GBP", ltv: 50_000, want: true },
    // No rate (CHF) or no currency: unknown, and so is its negation.
    { expr: "ltv >= $1", currency: "CHF", ltv: 50_000, want: null },
    { expr: "not (ltv >= $1)", currency: "CHF", ltv: 50_000, want: null },
    { expr: "ltv >= $1", currency: null, ltv: 50_000, want: null },
    // A fixed-currency field against dollars: 500 EUR is 540 USD.
    { expr: "budget >= $540", currency: "CHF", ltv: 0, budget: 50_000, want: true },
    { expr: "budget > $540", currency: null, ltv: 0, budget: 50_000, want: false },
    // A money total against dollars, in the customer's currency (here none was ordered: 0 GBP).
    { expr: "sum(order.completed.amount) < $1", currency: "GBP", ltv: 0, want: true },
    // Across currencies arithmetic stays unknown: only comparisons convert.
    { expr: "ltv - $100 >= $0", currency: "GBP", ltv: 50_000, want: null },
    { expr: "ltv - £100 >= $0", currency: "GBP", ltv: 50_000, want: true },
  ];

  it("hold at the converted threshold, identically in closures and SQL", async () => {
    const rows = cases.map((c, i) => ({
      id: `t${String(i).padStart(3, "0")}`,
      ltv: c.ltv,
      currency: c.currency,
      ...(c.budget === undefined ? {} : { budget: c.budget }),
    }));
    await storeCustomers(rows);
    for (const [i, c] of cases.entries()) {
      const ast = parseExpression(c.expr).ast!;
      const closure = compileExpression(ast, { scope, segment: () => () => null });
      const where = expressionToSql(ast, { scope, segment: () => ({ sql: "NULL", params: [] }) });
      const row = await env.DB.prepare(`SELECT (${where.sql}) AS v FROM customers c WHERE c.id = ?`)
        .bind(...bindSql(where, NOW), rows[i]!.id)
        .first<{ v: number | null }>();
      const sqlValue = row!.v === null ? null : row!.v === 1;
      expect({ expr: c.expr, closure: closure(contextOf(rows[i]!)) }).toEqual({
        expr: c.expr,
        closure: c.want,
      });
      expect({ expr: c.expr, sql: sqlValue }).toEqual({ expr: c.expr, sql: c.want });
    }
  });
});
