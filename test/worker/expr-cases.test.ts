// The expression case files (test/dsl/expr/*.yaml) inside workerd, against both back ends: the
// closures and the SQL fragment run on real D1 against the case's customer row and events.
// One suite, two implementations: any disagreement with the written expectation fails here.

import { env } from "cloudflare:workers";
import type { Expr } from "../../dsl/expr/ast";
import { parseExpression } from "../../dsl/expr/parser";
import { bindSql, membershipSql, valueToSql } from "../../dsl/expr/sql";
import type { EvalContext, ExprType, SqlFragment, Value } from "../../dsl/expr/types";
import errorsCases from "../dsl/expr/errors.yaml?raw";
import functionsCases from "../dsl/expr/functions.yaml?raw";
import limitsCases from "../dsl/expr/limits.yaml?raw";
import literalsCases from "../dsl/expr/literals.yaml?raw";
import missingCases from "../dsl/expr/missing.yaml?raw";
import operatorsCases from "../dsl/expr/operators.yaml?raw";
import segmentsCases from "../dsl/expr/segments.yaml?raw";
import { type Backend, caseScope, closureBackend, exprSuite, SEGMENT_SOURCES } from "../dsl/expr-suite";

// Every file in test/dsl/expr/ is listed here (test/dsl/expr.test.ts fails when one is missing).
const caseFiles: Record<string, string> = {
  "expr/errors.yaml": errorsCases,
  "expr/functions.yaml": functionsCases,
  "expr/limits.yaml": limitsCases,
  "expr/literals.yaml": literalsCases,
  "expr/missing.yaml": missingCases,
  "expr/operators.yaml": operatorsCases,
  "expr/segments.yaml": segmentsCases,
};

const scope = caseScope();
const segmentSql = new Map<string, SqlFragment>();
for (const [name, source] of Object.entries(SEGMENT_SOURCES)) {
  const ast = parseExpression(source).ast!;
  segmentSql.set(name, membershipSql(valueToSql(ast, { scope, segment: (n) => segmentSql.get(n)! }).value));
}

async function store(ctx: EvalContext): Promise<void> {
  const db = env.DB;
  const row: Record<string, unknown> = {
    ...ctx.customer,
    attributes: JSON.stringify(ctx.customer.attributes ?? {}),
  };
  const columns = Object.keys(row);
  await db.batch([
    db.prepare("DELETE FROM events"),
    db.prepare("DELETE FROM customers"),
    db
      .prepare(`INSERT INTO customers (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`)
      .bind(...columns.map((k) => row[k] ?? null)),
    ...ctx.events.map((e) =>
      db
        .prepare(
          "INSERT INTO events (id, customer_id, type, occurred_at, received_at, properties) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(e.id, row.id as string, e.type, e.occurred_at, ctx.now, JSON.stringify(e.properties)),
    ),
  ]);
}

const sqlBackend: Backend = async (ast: Expr, type: ExprType, ctx: EvalContext): Promise<Value | null> => {
  await store(ctx);
  const { value, currency } = valueToSql(ast, { scope, segment: (name) => segmentSql.get(name)! });
  const select = currency
    ? `SELECT (${value.sql}) AS v, (${currency.sql}) AS cur FROM customers c`
    : `SELECT (${value.sql}) AS v FROM customers c`;
  const params = [...bindSql(value, ctx.now), ...(currency ? bindSql(currency, ctx.now) : [])];
  const row = await env.DB.prepare(select)
    .bind(...params)
    .first<{ v: number | string | null; cur?: string | null }>();
  const v = row?.v ?? null;
  if (v === null) return null;
  if (type.kind === "boolean") return v === 1;
  if (type.kind === "money") return row?.cur == null ? null : { amount: v as number, currency: row.cur };
  return v;
};

for (const [file, text] of Object.entries(caseFiles)) {
  exprSuite(file, text, { closures: closureBackend(scope), sql: sqlBackend });
}
