/**
 * A customer's data on request (docs/privacy.md), for the operator (admin scope):
 * - `GET /v1/admin/customers/:id/export`: everything Rebound holds about the customer as one JSON
 *   document, archived events included;
 * - `POST /v1/admin/customers/:id/erase`: deletes all of it, the archive included, keeping only a
 *   pseudonym that refuses the customer's events from then on. Idempotent: repeat it until `status`
 *   is `erased` (a large archive is rewritten a bounded slice per call; the tick continues it too).
 *
 * Both work on the customer's shard (worker/db/shards.ts), where every row of the customer and the
 * erasure's pseudonym live; the archive (R2) is shared by all shards.
 */
import type { Context } from "hono";
import { wallClock } from "../../clock";
import { customerShard } from "../../db/shards";
import { validationFailed } from "../../errors";
import { eraseCustomer, exportCustomer } from "../../privacy/customer-data";
import type { AppEnv, RouteDef } from "../app-env";
import { eraseDoc, exportDoc } from "../docs/privacy";
import { pathId } from "../identifiers";

async function getExport(c: Context<AppEnv>): Promise<Response> {
  const { id, problems } = pathId(c);
  if (problems.length > 0) throw validationFailed(problems);
  const { db } = await customerShard(c.env, id);
  const document = await exportCustomer(db, c.env.ARCHIVE, id, wallClock());
  return c.json(document, 200, {
    "content-disposition": `attachment; filename="rebound-customer-export.json"`,
  });
}

async function postErase(c: Context<AppEnv>): Promise<Response> {
  const { id, problems } = pathId(c);
  if (problems.length > 0) throw validationFailed(problems);
  const { db } = await customerShard(c.env, id);
  return c.json(await eraseCustomer(db, c.env.ARCHIVE, id, wallClock(), c.get("ruleset")));
}

export const privacyRoutes: readonly RouteDef[] = [
  {
    method: "GET",
    path: "/v1/admin/customers/:id/export",
    scope: "admin",
    handler: getExport,
    doc: exportDoc,
  },
  {
    method: "POST",
    path: "/v1/admin/customers/:id/erase",
    scope: "admin",
    handler: postErase,
    doc: eraseDoc,
  },
];
