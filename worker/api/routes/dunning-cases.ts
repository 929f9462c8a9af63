/**
 * `GET /v1/admin/dunning-cases`: the dunning cases the tick opened, one per failed invoice, with
 * what became of them: `open`, `recovered` (when it was paid, the MRR kept and the step that
 * preceded recovery), `canceled` (the customer left on their own) or `final` (the final action
 * ran). Filter with `?status=` and `?customer_id=`; at most `?limit=` cases (default 50, up to
 * 200), oldest failure first within a status. On a sharded deployment every shard answers its first
 * `limit` cases in that order (the customer's shard alone with `?customer_id=`), the first `limit`
 * of their union are answered, and `meta: { shards, queries, rows_read }` says what that cost.
 */
import type { Context } from "hono";
import { DUNNING_CASE_STATUSES } from "../../db/schema/dunning-cases";
import { mergePages, readShards } from "../../db/shard-reads";
import { allShards, customerShard, isSharded } from "../../db/shards";
import { type ErrorDetail, validationFailed } from "../../errors";
import { SEND_LIMITS } from "../../sends/limits";
import type { AppEnv, RouteDef } from "../app-env";
import { dunningCasesDoc } from "../docs/dunning-cases";
import { customerFilter } from "../identifiers";

interface DunningCaseRow {
  customer_id: string;
  invoice_id: string;
  cadence: string;
  status: string;
  failed_at: number;
  amount: number | null;
  currency: string | null;
  opened_at: number;
  last_step: string | null;
  last_step_at: number | null;
  closed_at: number | null;
  recovered_at: number | null;
  mrr_saved: number | null;
  recovered_after_step: string | null;
  final_actions: string | null;
}

async function listDunningCases(c: Context<AppEnv>): Promise<Response> {
  const problems: ErrorDetail[] = [];
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? SEND_LIMITS.defaultPageSize : Number(limitText);
  if (limitText !== undefined && (!/^\d+$/.test(limitText) || limit < 1 || limit > SEND_LIMITS.maxPageSize)) {
    problems.push({ path: "?limit", message: `must be a whole number from 1 to ${SEND_LIMITS.maxPageSize}` });
  }
  const status = c.req.query("status") || null;
  if (status !== null && !(DUNNING_CASE_STATUSES as readonly string[]).includes(status)) {
    problems.push({ path: "?status", message: `must be one of ${DUNNING_CASE_STATUSES.join(", ")}` });
  }
  const customerId = customerFilter(c, problems);
  if (problems.length > 0) throw validationFailed(problems);
  const filter = { status, customerId, limit };
  if (!isSharded(c.env)) return c.json({ cases: (await readCases(c.env.DB, filter)).map(caseView) });
  const shards = customerId === null ? allShards(c.env) : [await customerShard(c.env, customerId)];
  const { values, cost } = await readShards(shards, (db) => readCases(db, filter));
  const merged = mergePages(
    values.map((rows) => ({ rows, more: false })),
    limit,
    (row) => [row.failed_at, row.customer_id, row.invoice_id],
    "asc",
  );
  return c.json({ cases: merged.rows.map(caseView), meta: cost });
}

/** The first `limit` cases of one database, oldest failure first. */
async function readCases(
  db: D1Database,
  { status, customerId, limit }: { status: string | null; customerId: string | null; limit: number },
): Promise<DunningCaseRow[]> {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (status !== null) {
    params.push(status);
    conditions.push(`status = ?${params.length}`);
  }
  if (customerId !== null) {
    params.push(customerId);
    conditions.push(`customer_id = ?${params.length}`);
  }
  params.push(limit);
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const { results } = await db
    .prepare(
      `SELECT * FROM dunning_cases ${where} ORDER BY failed_at, customer_id, invoice_id LIMIT ?${params.length}`,
    )
    .bind(...params)
    .all<DunningCaseRow>();
  return results;
}

function caseView(row: DunningCaseRow): Record<string, unknown> {
  return {
    customer_id: row.customer_id,
    invoice_id: row.invoice_id,
    cadence: row.cadence,
    status: row.status,
    failed_at: iso(row.failed_at),
    amount: row.amount,
    currency: row.currency,
    opened_at: iso(row.opened_at),
    last_step: row.last_step,
    last_step_at: iso(row.last_step_at),
    closed_at: iso(row.closed_at),
    recovered_at: iso(row.recovered_at),
    mrr_saved: row.mrr_saved,
    recovered_after_step: row.recovered_after_step,
    final_actions: row.final_actions === null ? null : (JSON.parse(row.final_actions) as unknown),
  };
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

export const dunningCaseRoutes: readonly RouteDef[] = [
  {
    method: "GET",
    path: "/v1/admin/dunning-cases",
    scope: "admin",
    handler: listDunningCases,
    doc: dunningCasesDoc,
  },
];
