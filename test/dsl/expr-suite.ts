// The expression language's specification as one shared suite: the YAML case files in
// test/dsl/expr/ run through `exprSuite` in Node against the closures (test/dsl/expr.test.ts) and
// inside workerd against the closures AND the SQL back end on real D1 (test/worker/expr-cases.test.ts).
//
// A case: `note`, `expr`, optional `input` ({ now, customer, events }), and either `want` (the
// value: true / false / null for unknown, a number, text, a timestamp as ISO text, money as
// { amount, currency }) or `want_error` ({ code, column (1-based, in the expression), hint? }).

import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Expr } from "../../dsl/expr/ast";
import { compileExpression } from "../../dsl/expr/compile";
import { buildScope, parseFieldType } from "../../dsl/expr/fields";
import { parseExpression } from "../../dsl/expr/parser";
import { holds } from "../../dsl/expr/three-valued";
import { checkExpression } from "../../dsl/expr/typecheck";
import type { Closure, EvalContext, EventRecord, ExprType, Scope, Value } from "../../dsl/expr/types";

export const SEGMENT_SOURCES: Readonly<Record<string, string>> = {
  high_value: "ltv >= $500 or referrals >= 1",
  engaged: "count(activity, 30d) >= 3",
  price_churner: 'status == "canceled" and churn_reason == "too_expensive"',
  valuable_price_churner: "high_value and price_churner",
};

function declared(text: string): ExprType {
  const type = parseFieldType(text);
  if ("error" in type) throw new Error(type.error);
  return type;
}

/** The scope every case file is checked in: built-ins, a few custom attributes, plans and segments. */
export function caseScope(): Scope {
  return buildScope({
    defaultCurrency: "USD",
    plans: ["basic", "pro", "team"],
    customFields: [
      { name: "seats", type: declared("number") },
      { name: "vip", type: declared("boolean") },
      { name: "company_size", type: declared("enum(small, medium, large)") },
      { name: "renewal_at", type: declared("timestamp") },
      { name: "budget", type: declared("money(EUR)") },
      { name: "trial_length", type: declared("duration") },
    ],
    segments: Object.keys(SEGMENT_SOURCES).map((name) => ({ name, sqlTranslatable: true })),
  });
}

/** Compiles the case scope's segments (in dependency order) for the closure back end, as membership tests. */
export function segmentClosures(scope: Scope): Map<string, Closure> {
  const closures = new Map<string, Closure>();
  for (const [name, source] of Object.entries(SEGMENT_SOURCES)) {
    const ast = parseExpression(source).ast!;
    const condition = compileExpression(ast, { scope, segment: (n) => closures.get(n)! });
    // Segment references are membership, as in dsl/runtime/ruleset.ts: unknown means "not a member".
    closures.set(name, (ctx) => holds(condition(ctx)));
  }
  return closures;
}

interface CaseEvent {
  id?: string;
  type: string;
  at?: string;
  /** How long before `now` it happened: a duration like 3d or 1d12h (negative: after now). */
  ago?: string;
  properties?: Record<string, unknown>;
}

export interface ExprCase {
  note: string;
  expr: string;
  input?: { now?: string; customer?: Record<string, unknown>; events?: CaseEvent[] };
  want?: unknown;
  want_error?: { code: string; column: number; hint?: string };
}

export const DEFAULT_NOW = "2026-01-15T09:30:00Z";

/** The `customers` row a case starts from: NOT NULL columns filled, everything else NULL. */
export const BASE_CUSTOMER: Readonly<Record<string, unknown>> = {
  id: "cust_1",
  status: "active",
  ltv: 0,
  order_count: 0,
  order_total: 0,
  referrals: 0,
  open_tickets: 0,
  attributes: {},
  first_seen_at: Date.parse("2025-01-01T00:00:00Z"),
  last_event_at: Date.parse("2025-01-01T00:00:00Z"),
};

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

function durationMs(text: string): number {
  const sign = text.startsWith("-") ? -1 : 1;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([wdhms])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return sign * ms;
}

/** The evaluation context of a case: ISO text in `*_at` columns becomes epoch ms, as D1 stores it. */
export function caseContext(c: ExprCase): EvalContext {
  const now = Date.parse(c.input?.now ?? DEFAULT_NOW);
  const customer: Record<string, unknown> = { ...BASE_CUSTOMER };
  for (const [key, value] of Object.entries(c.input?.customer ?? {})) {
    customer[key] = key.endsWith("_at") && typeof value === "string" ? Date.parse(value) : value;
  }
  const events: EventRecord[] = (c.input?.events ?? []).map((e, i) => ({
    id: e.id ?? `evt_${String(i).padStart(3, "0")}`,
    type: e.type,
    occurred_at: e.at ? Date.parse(e.at) : now - durationMs(e.ago ?? "0s"),
    properties: e.properties ?? {},
  }));
  return { now, customer, events };
}

/** Normalises a value for comparison with `want`: timestamps stay numbers, so wants may be ISO text. */
function expected(want: unknown): unknown {
  if (typeof want === "string" && /^\d{4}-\d{2}-\d{2}T/.test(want)) return Date.parse(want);
  return want;
}

/** Evaluates a checked expression for a case's context; returns the value (null = missing/unknown). */
export type Backend = (ast: Expr, type: ExprType, ctx: EvalContext) => Promise<Value | null> | Value | null;

export function loadCases(text: string): ExprCase[] {
  const doc = parse(text) as { cases: ExprCase[] };
  return doc.cases;
}

/** Registers one `describe` per case file: every case runs through each named back end. */
export function exprSuite(file: string, text: string, backends: Readonly<Record<string, Backend>>): void {
  const scope = caseScope();
  describe(file, () => {
    for (const c of loadCases(text)) {
      it(c.note, async () => {
        const parsed = parseExpression(String(c.expr));
        const diagnostics = parsed.ast ? checkExpression(parsed.ast, scope).diagnostics : parsed.diagnostics;
        if (c.want_error) {
          expect(diagnostics.length, `expected ${c.want_error.code} in ${c.expr}`).toBeGreaterThan(0);
          const first = diagnostics[0]!;
          expect({ code: first.code, column: first.span.start + 1 }).toEqual({
            code: c.want_error.code,
            column: c.want_error.column,
          });
          if (c.want_error.hint) expect(first.hint ?? "").toContain(c.want_error.hint);
          return;
        }
        expect(diagnostics, c.expr).toEqual([]);
        const ast = parsed.ast!;
        const type = checkExpression(ast, scope).type!;
        const ctx = caseContext(c);
        for (const [name, backend] of Object.entries(backends)) {
          const value = await backend(ast, type, ctx);
          expect(value, `${name}: ${c.expr}`).toEqual(expected(c.want ?? null));
        }
      });
    }
  });
}

/** The closure back end, as the Worker uses it. */
export function closureBackend(scope: Scope = caseScope()): Backend {
  const segments = segmentClosures(scope);
  return (ast, _type, ctx) => compileExpression(ast, { scope, segment: (name) => segments.get(name)! })(ctx);
}
