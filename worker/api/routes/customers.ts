/**
 * `GET /v1/customers/:id`: a customer's profile with its aggregates, as ingest keeps it, read from
 * the customer's shard (worker/db/shards.ts).
 */
import type { Context } from "hono";
import { type CustomerRecord, loadCustomerRecord } from "../../db/customer-record";
import { customerShard } from "../../db/shards";
import { ApiError, validationFailed } from "../../errors";
import type { AppEnv, RouteDef } from "../app-env";
import { getCustomerDoc } from "../docs/customers";
import { pathId } from "../identifiers";

/** Timestamp columns, shown as ISO 8601 strings in the API (stored as epoch ms). */
const TIMESTAMP_COLUMNS = [
  "signed_up_at",
  "canceled_at",
  "reactivated_at",
  "last_active_at",
  "payment_failed_at",
  "card_expires_at",
  "first_seen_at",
  "last_event_at",
] as const satisfies readonly (keyof CustomerRecord)[];

async function getCustomer(c: Context<AppEnv>): Promise<Response> {
  const { id: customerId, problems } = pathId(c);
  if (problems.length > 0) throw validationFailed(problems);
  const record = await loadCustomerRecord((await customerShard(c.env, customerId)).db, customerId);
  if (!record) {
    throw new ApiError(
      404,
      "customer_not_found",
      `No events have been received for customer "${customerId}".`,
    );
  }
  return c.json({ customer: profileView(record) });
}

/** The API view of a profile: the data-model record with ISO 8601 timestamps. */
export function profileView(record: CustomerRecord): Record<string, unknown> {
  const view: Record<string, unknown> = { ...record };
  for (const column of TIMESTAMP_COLUMNS) {
    const value = record[column];
    view[column] = value === null ? null : new Date(value).toISOString();
  }
  return view;
}

export const customerRoutes: readonly RouteDef[] = [
  {
    method: "GET",
    path: "/v1/customers/:id",
    scope: "decisions:read",
    handler: getCustomer,
    doc: getCustomerDoc,
  },
];
