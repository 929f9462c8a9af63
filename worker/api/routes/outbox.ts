/**
 * `GET /v1/outbox`: the messages the outbox channel (the local default) has "delivered", newest
 * first, so `npm start` shows what customers would have received. Filter with `?customer_id=`;
 * page with `?limit=` and `?cursor=`. On a sharded deployment every shard's page is merged on the send
 * id and the answer adds `meta: { shards, queries, rows_read }`.
 */
import type { Context } from "hono";
import { isSharded } from "../../db/shards";
import { validationFailed } from "../../errors";
import { listOutbox, listOutboxAcrossShards, type OutboxRow } from "../../sends/list";
import type { AppEnv, RouteDef } from "../app-env";
import { listOutboxDoc } from "../docs/outbox";
import { customerFilter } from "../identifiers";
import { readPageQuery } from "./page-query";

async function listOutboxRoute(c: Context<AppEnv>): Promise<Response> {
  const { page, problems } = readPageQuery(c);
  const customerId = customerFilter(c, problems);
  if (problems.length > 0) throw validationFailed(problems);
  if (isSharded(c.env)) {
    const result = await listOutboxAcrossShards(c.env, { ...page, customerId });
    return c.json({
      messages: result.items.map(outboxView),
      next_cursor: result.nextCursor,
      meta: result.cost,
    });
  }
  const result = await listOutbox(c.env.DB, { ...page, customerId });
  return c.json({ messages: result.items.map(outboxView), next_cursor: result.nextCursor });
}

function outboxView(row: OutboxRow): Record<string, unknown> {
  return {
    send_id: row.id,
    customer_id: row.customer_id,
    recipient: row.recipient,
    message_key: row.message_key,
    subject: row.subject,
    text: row.text,
    html: row.html,
    programme: {
      kind: row.programme_kind,
      key: row.programme_key,
      occurrence: row.occurrence,
      step: row.step,
    },
    delivered_at: new Date(row.delivered_at).toISOString(),
  };
}

export const outboxRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/v1/outbox", scope: "admin", handler: listOutboxRoute, doc: listOutboxDoc },
];
