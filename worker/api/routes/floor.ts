/**
 * `GET /v1/admin/floor/:id`: the benchmark baseline. It does the least a D1-backed route can do (one
 * primary-key read of a customer row) behind the same authentication as every route, so
 * `npm run bench:decide` can show what a decision costs on top of the platform's floor.
 */
import type { Context } from "hono";
import { customerShard } from "../../db/shards";
import { validationFailed } from "../../errors";
import type { AppEnv, RouteDef } from "../app-env";
import { floorDoc } from "../docs/floor";
import { pathId } from "../identifiers";

async function floor(c: Context<AppEnv>): Promise<Response> {
  // The same check as the decision routes, so the baseline pays for it too.
  const { id: customerId, problems } = pathId(c);
  if (problems.length > 0) throw validationFailed(problems);
  // On the customer's shard, as a decision reads it (arithmetic alone unless shards are being added).
  const { db } = await customerShard(c.env, customerId);
  const result = await db
    .prepare("SELECT id, status FROM customers WHERE id = ?1")
    .bind(customerId)
    .run<{ id: string; status: string }>();
  c.header("X-Rebound-Rows-Read", String(result.meta.rows_read ?? 0));
  return c.json({ customer: result.results[0] ?? null, meta: { rows_read: result.meta.rows_read ?? 0 } });
}

export const floorRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/v1/admin/floor/:id", scope: "admin", handler: floor, doc: floorDoc },
];
