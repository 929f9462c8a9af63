// The closure back end and the SQL back end must agree exactly, missing values included: random
// (profile, expression) pairs are evaluated by compiled closures and by the SQL fragment on real D1.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Expr } from "../../dsl/expr/ast";
import { compileExpression } from "../../dsl/expr/compile";
import { buildScope, DEFAULT_REASONS, parseFieldType } from "../../dsl/expr/fields";
import { compileFirstMatch } from "../../dsl/expr/first-match";
import { parseExpression } from "../../dsl/expr/parser";
import { bindSql, expressionToSql, membershipSql, valueToSql } from "../../dsl/expr/sql";
import { holds } from "../../dsl/expr/three-valued";
import { checkExpression } from "../../dsl/expr/typecheck";
import type {
  Closure,
  EvalContext,
  EventRecord,
  ExprType,
  Scope,
  SqlFragment,
  Value,
} from "../../dsl/expr/types";
import { prng } from "../prng";
import { ExpressionGenerator, PLANS, Random, randomCustomer, randomEvents } from "./random-expressions";

const SEEDS = [20_261_122, 7, 1_234_567];
const PROFILES = 150;
const EXPRESSIONS = 100;
const VALUE_EXPRESSIONS = 30;
const NOW = Date.UTC(2026, 0, 15, 9, 30);
const REASONS = DEFAULT_REASONS;

function declared(text: string): ExprType {
  const type = parseFieldType(text);
  if ("error" in type) throw new Error(type.error);
  return type;
}

const SEGMENTS: Record<string, string> = {
  high_value: "ltv >= $500 or referrals >= 2",
  engaged: "count(activity, 30d) >= 2",
};

/**
 * Rates into USD for the scope with exchange rates: 1.27 and 0.0067 are not exact doubles, so
 * closures and SQL agree only if both run the same IEEE operations (dsl/expr/exchange.ts).
 */
const EXCHANGE_RATES = { EUR: 1.08, GBP: 1.27, AUD: 0.66, JPY: 0.0067 };

function makeScope(exchangeRates?: Record<string, number>): Scope {
  return buildScope({
    defaultCurrency: "USD",
    ...(exchangeRates ? { exchangeRates } : {}),
    reasons: REASONS,
    plans: PLANS,
    customFields: [
      { name: "seats", type: declared("number") },
      { name: "vip", type: declared("boolean") },
      { name: "company_size", type: declared("enum(small, medium, large)") },
      { name: "renewal_at", type: declared("timestamp") },
      { name: "budget", type: declared("money(EUR)") },
      { name: "trial_length", type: declared("duration") },
    ],
    segments: Object.keys(SEGMENTS).map((name) => ({ name, sqlTranslatable: true })),
  });
}

interface Compiled {
  text: string;
  ast: Expr;
  closure: Closure;
  where: SqlFragment;
  /** The same condition with the audience scans' literal lists (`lists: "literal"`). */
  literalWhere: SqlFragment;
  segments: ReadonlyMap<string, Closure>;
}

function compileBoth(text: string, scope: Scope): Compiled | null {
  const parsed = parseExpression(text);
  if (!parsed.ast) throw new Error(`generator wrote unparsable ${text}: ${parsed.diagnostics[0]?.message}`);
  const checked = checkExpression(parsed.ast, scope, { kind: "boolean" });
  // The generator does not track every typing rule (enum values, currencies); ill-typed ones are skipped.
  if (checked.diagnostics.length > 0) return null;
  const segmentClosures = new Map<string, Closure>();
  const segmentSql = new Map<string, SqlFragment>();
  const literalSegmentSql = new Map<string, SqlFragment>();
  for (const [name, source] of Object.entries(SEGMENTS)) {
    const ast = parseExpression(source).ast!;
    // Segment references are membership (dsl/runtime/ruleset.ts): unknown means "not a member".
    const condition = compileExpression(ast, { scope, segment: () => () => null });
    segmentClosures.set(name, (ctx) => holds(condition(ctx)));
    segmentSql.set(
      name,
      membershipSql(expressionToSql(ast, { scope, segment: () => ({ sql: "NULL", params: [] }) })),
    );
    literalSegmentSql.set(
      name,
      membershipSql(
        expressionToSql(ast, { scope, segment: () => ({ sql: "NULL", params: [] }) }, { lists: "literal" }),
      ),
    );
  }
  return {
    text,
    ast: parsed.ast,
    segments: segmentClosures,
    closure: compileExpression(parsed.ast, { scope, segment: (name) => segmentClosures.get(name)! }),
    where: expressionToSql(parsed.ast, { scope, segment: (name) => segmentSql.get(name)! }),
    literalWhere: expressionToSql(
      parsed.ast,
      { scope, segment: (name) => literalSegmentSql.get(name)! },
      { lists: "literal" },
    ),
  };
}

/** A closure's value as the SQL row shows it: money as "amount currency". */
function describeValue(v: Value | null): number | string | null {
  if (v === null || typeof v === "number" || typeof v === "string") return v;
  if (typeof v === "object" && "amount" in v) return `${v.amount} ${v.currency}`;
  return String(v);
}

const asSql = (v: Value | null): number | null =>
  v === null ? null : v === true ? 1 : v === false ? 0 : Number.NaN;

// Every seed runs without exchange rates (money in two currencies is unknown) and with them (money
// compares and adds in USD across currencies that have a rate; CHF and no currency stay unknown).
const RUNS = SEEDS.flatMap((seed) => [
  [seed, "without exchange rates"] as const,
  [seed, "with exchange rates"] as const,
]);

describe("closures and D1 SQL agree", () => {
  it.each(
    RUNS,
  )(`on ${PROFILES * (EXPRESSIONS + VALUE_EXPRESSIONS)} random (profile, expression) pairs, seed %i, %s`, async (SEED, mode) => {
    const random = new Random(prng(SEED));
    const db = env.DB;
    await db.batch([db.prepare("DELETE FROM events"), db.prepare("DELETE FROM customers")]);
    const customers = Array.from({ length: PROFILES }, (_, i) =>
      randomCustomer(random, `c${String(i).padStart(3, "0")}`, NOW),
    );
    const events = customers.flatMap((c) => randomEvents(random, c.id as string, NOW));
    const columns = Object.keys(customers[0]!);
    const insertCustomer = `INSERT INTO customers (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
    await db.batch([
      ...customers.map((c) => db.prepare(insertCustomer).bind(...columns.map((k) => c[k] ?? null))),
      ...events.map((e) =>
        db
          .prepare(
            "INSERT INTO events (id, customer_id, type, occurred_at, received_at, properties) VALUES (?, ?, ?, ?, ?, ?)",
          )
          .bind(e.id, e.customer_id, e.type, e.occurred_at, e.received_at, JSON.stringify(e.properties)),
      ),
    ]);

    // Closures see exactly what D1 stored, as the Worker would load it.
    const rows = (await db.prepare("SELECT * FROM customers ORDER BY id").all<Record<string, unknown>>())
      .results;
    const storedEvents = (await db.prepare("SELECT * FROM events").all<Record<string, unknown>>()).results;
    const contexts = new Map<string, EvalContext>();
    for (const row of rows) {
      const own: EventRecord[] = storedEvents
        .filter((e) => e.customer_id === row.id)
        .map((e) => ({
          id: e.id as string,
          type: e.type as string,
          occurred_at: e.occurred_at as number,
          properties: JSON.parse(e.properties as string) as Record<string, unknown>,
        }));
      const customer = { ...row, attributes: JSON.parse(row.attributes as string) as unknown };
      contexts.set(row.id as string, { now: NOW, customer, events: own });
    }
    expect(contexts.size).toBe(PROFILES);

    const withRates = mode === "with exchange rates";
    const scope = makeScope(withRates ? EXCHANGE_RATES : undefined);
    const generator = new ExpressionGenerator(random);
    const expressions: Compiled[] = [];
    // With rates, the same expressions compiled without them: where those are unknown and the
    // converted ones are not, conversion decided (counted below, so the test proves it ran).
    const plainScope = makeScope();
    const noRates = new Map<string, Closure>();
    while (expressions.length < EXPRESSIONS) {
      const compiled = compileBoth(generator.boolean(random.int(1, 4)), scope);
      if (!compiled) continue;
      expressions.push(compiled);
      if (withRates) {
        const plain = compileBoth(compiled.text, plainScope);
        if (plain) noRates.set(compiled.text, plain.closure);
      }
    }

    const failures: string[] = [];
    let pairs = 0;
    let heldSomewhere = 0;
    // For each customer, the first expression (in list order) whose SQL is true: a first-match list.
    const sqlFirstMatch = new Map<string, number>();
    let unknownSomewhere = 0;
    let literalLists = 0;
    // Comparisons that hold for some customer only because amounts were converted across currencies.
    let convertedSomewhere = 0;
    for (let start = 0; start < expressions.length; start += 20) {
      const chunk = expressions.slice(start, start + 20);
      const results = await db.batch(
        chunk.map((e) =>
          db
            .prepare(`SELECT c.id AS id, (${e.where.sql}) AS v FROM customers c ORDER BY c.id`)
            .bind(...bindSql(e.where, NOW)),
        ),
      );
      chunk.forEach((expression, i) => {
        const sqlRows = results[i]!.results as { id: string; v: number | null }[];
        for (const row of sqlRows) {
          if (row.v === 1 && !sqlFirstMatch.has(row.id)) sqlFirstMatch.set(row.id, start + i);
        }
        expect(sqlRows.length).toBe(PROFILES);
        let held = false;
        let unknown = false;
        for (const row of sqlRows) {
          const ctx = contexts.get(row.id)!;
          const closureValue = asSql(expression.closure(ctx));
          pairs++;
          if (row.v === 1) held = true;
          if (row.v === null) unknown = true;
          if (closureValue !== row.v && failures.length < 5) {
            failures.push(
              [
                `seed ${SEED}: closures gave ${closureValue}, SQL gave ${row.v}`,
                `  expression: ${expression.text}`,
                `  sql: ${expression.where.sql}`,
                `  profile: ${JSON.stringify(ctx.customer)}`,
                `  events: ${JSON.stringify(ctx.events)}`,
              ].join("\n"),
            );
          }
        }
        if (held) heldSomewhere++;
        if (withRates && /[€£]|EUR|AUD|JPY|budget/.test(expression.text)) {
          const plain = noRates.get(expression.text);
          if (plain && sqlRows.some((row) => row.v !== null && plain(contexts.get(row.id)!) === null))
            convertedSomewhere++;
        }
        if (unknown) unknownSomewhere++;
      });
      // Where literal lists change the SQL, that SQL must agree with the closures too.
      const literal = chunk.filter((e) => e.literalWhere.sql !== e.where.sql);
      const literalResults =
        literal.length === 0
          ? []
          : await db.batch(
              literal.map((e) =>
                db
                  .prepare(`SELECT c.id AS id, (${e.literalWhere.sql}) AS v FROM customers c ORDER BY c.id`)
                  .bind(...bindSql(e.literalWhere, NOW)),
              ),
            );
      literal.forEach((expression, i) => {
        literalLists++;
        for (const row of literalResults[i]!.results as { id: string; v: number | null }[]) {
          const closureValue = asSql(expression.closure(contexts.get(row.id)!));
          if (closureValue !== row.v && failures.length < 5) {
            failures.push(
              `seed ${SEED}: closures gave ${closureValue}, literal-list SQL gave ${row.v}\n  expression: ${expression.text}\n  sql: ${expression.literalWhere.sql}`,
            );
          }
        }
      });
    }
    // The same expressions as one first-match program (how offer lists run) pick the same rule.
    const segments = expressions[0]!.segments;
    const firstMatch = compileFirstMatch(
      expressions.map((e) => e.ast),
      { scope, segment: (name) => segments.get(name)! },
    );
    for (const [id, ctx] of contexts) {
      const want = sqlFirstMatch.get(id) ?? -1;
      if (firstMatch(ctx) !== want && failures.length < 5) {
        failures.push(
          `seed ${SEED}: first match ${firstMatch(ctx)}, SQL ${want}: ${expressions[want]?.text}`,
        );
      }
      const later = firstMatch(ctx, want + 1);
      const wantLater = expressions.findIndex((e, i) => i > want && e.closure(ctx) === true);
      expect(later).toBe(wantLater);
    }

    // Values too, not only conditions: numbers, money and timestamps must come out identical.
    let valueExpressions = 0;
    let presentValues = 0;
    while (valueExpressions < VALUE_EXPRESSIONS) {
      const kind = random.int(0, 2);
      const depth = random.int(0, 3);
      const text =
        kind === 0
          ? generator.number(depth)
          : kind === 1
            ? generator.money(depth)
            : generator.timestamp(depth);
      const parsed = parseExpression(text);
      if (!parsed.ast || checkExpression(parsed.ast, scope).diagnostics.length > 0) continue;
      valueExpressions++;
      const closure = compileExpression(parsed.ast, { scope, segment: () => () => null });
      const { value, currency } = valueToSql(parsed.ast, {
        scope,
        segment: () => ({ sql: "NULL", params: [] }),
      });
      const select = `SELECT c.id AS id, (${value.sql}) AS v${currency ? `, (${currency.sql}) AS cur` : ""} FROM customers c ORDER BY c.id`;
      const params = [...bindSql(value, NOW), ...(currency ? bindSql(currency, NOW) : [])];
      const sqlRows = (
        await db
          .prepare(select)
          .bind(...params)
          .all<{ id: string; v: number | null; cur?: string | null }>()
      ).results;
      for (const row of sqlRows) {
        const ctx = contexts.get(row.id)!;
        const closureValue = describeValue(closure(ctx));
        const sqlValue = row.v === null || row.cur === null ? null : currency ? `${row.v} ${row.cur}` : row.v;
        pairs++;
        if (sqlValue !== null) presentValues++;
        if (closureValue !== sqlValue && failures.length < 5) {
          failures.push(
            [
              `seed ${SEED}: closures gave ${closureValue}, SQL gave ${sqlValue}`,
              `  expression: ${text}`,
              `  sql: ${value.sql}`,
              `  profile: ${JSON.stringify(ctx.customer)}`,
              `  events: ${JSON.stringify(ctx.events)}`,
            ].join("\n"),
          );
        }
      }
    }
    if (failures.length > 0) console.error(failures.join("\n\n"));
    expect(failures).toEqual([]);
    expect(pairs).toBeGreaterThanOrEqual(10_000);
    expect(presentValues).toBeGreaterThan((VALUE_EXPRESSIONS * PROFILES) / 4);
    // The generator must exercise all three outcomes, or agreement would prove little.
    expect(heldSomewhere).toBeGreaterThan(EXPRESSIONS / 5);
    expect(unknownSomewhere).toBeGreaterThan(EXPRESSIONS / 5);
    expect(literalLists).toBeGreaterThan(0);
    if (withRates) expect(convertedSomewhere).toBeGreaterThan(EXPRESSIONS / 20);
  });
});
