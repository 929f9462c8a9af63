/**
 * `GET /v1/sends` and `GET /v1/sends/:id`: every message the programmes decided to send, with its
 * status, attempts and last error, so a failure is visible instead of silent. Filter with
 * `?status=failed,dead` and `?customer_id=`; page with `?limit=` and `?cursor=` (the `next_cursor`
 * of the previous page). `POST /v1/sends/:id/retry` gives a dead send a fresh set of attempts.
 * On a sharded deployment the list merges every shard's page (worker/db/shard-reads.ts) and adds
 * `meta: { shards, queries, rows_read }`; a send by id is read on its customer's shard.
 */
import type { Context } from "hono";
import { wallClock } from "../../clock";
import { isSharded } from "../../db/shards";
import { ApiError, validationFailed } from "../../errors";
import { findSend, getSend, listSends, listSendsAcrossShards } from "../../sends/list";
import { retryDeadSend } from "../../sends/retry-dead";
import { SEND_STATUSES, type SendRow, type SendStatus } from "../../sends/types";
import type { AppEnv, RouteDef } from "../app-env";
import { getSendDoc, listSendsDoc, retrySendDoc } from "../docs/sends";
import { customerFilter } from "../identifiers";
import { readPageQuery } from "./page-query";

async function listSendsRoute(c: Context<AppEnv>): Promise<Response> {
  const { page, problems } = readPageQuery(c);
  const statuses: SendStatus[] = [];
  for (const status of (c.req.query("status") ?? "").split(",").filter((part) => part !== "")) {
    if ((SEND_STATUSES as readonly string[]).includes(status)) statuses.push(status as SendStatus);
    else problems.push({ path: "?status", message: `"${status}" is not one of ${SEND_STATUSES.join(", ")}` });
  }
  const customerId = customerFilter(c, problems);
  if (problems.length > 0) throw validationFailed(problems);
  const filter = { ...page, statuses: [...new Set(statuses)], customerId };
  if (isSharded(c.env)) {
    const result = await listSendsAcrossShards(c.env, filter);
    return c.json({ sends: result.items.map(sendView), next_cursor: result.nextCursor, meta: result.cost });
  }
  const result = await listSends(c.env.DB, filter);
  return c.json({ sends: result.items.map(sendView), next_cursor: result.nextCursor });
}

async function getSendRoute(c: Context<AppEnv>): Promise<Response> {
  const sendId = c.req.param("id") ?? "";
  const row = isSharded(c.env)
    ? ((await findSend(c.env, sendId))?.row ?? null)
    : await getSend(c.env.DB, sendId);
  if (!row) throw new ApiError(404, "send_not_found", `No send "${sendId}".`);
  return c.json({ send: sendView(row) });
}

async function retrySendRoute(c: Context<AppEnv>): Promise<Response> {
  const sendId = c.req.param("id") ?? "";
  const result = await retryDeadSend(c.env, sendId, wallClock());
  switch (result.kind) {
    case "missing":
      throw new ApiError(404, "send_not_found", `No send "${sendId}".`);
    case "not_dead":
      throw new ApiError(
        409,
        "send_not_dead",
        `Send "${sendId}" is ${result.row.status}; only a dead send can be retried.`,
      );
    case "requeued":
      return c.json({ send: sendView(result.row) });
  }
}

/** The API view of a send: nested programme, parsed variables, ISO 8601 timestamps. */
export function sendView(row: SendRow): Record<string, unknown> {
  return {
    id: row.id,
    status: row.status,
    programme: {
      kind: row.programme_kind,
      key: row.programme_key,
      occurrence: row.occurrence,
      step: row.step,
    },
    customer_id: row.customer_id,
    channel: row.channel,
    message_key: row.message_key,
    recipient: row.recipient,
    variables: JSON.parse(row.variables) as unknown,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    last_error: row.last_error,
    provider_message_id: row.provider_message_id,
    not_before: iso(row.not_before),
    created_at: iso(row.created_at),
    enqueued_at: iso(row.enqueued_at),
    next_attempt_at: iso(row.next_attempt_at),
    sent_at: iso(row.sent_at),
    updated_at: iso(row.updated_at),
  };
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

export const sendRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/v1/sends", scope: "admin", handler: listSendsRoute, doc: listSendsDoc },
  { method: "GET", path: "/v1/sends/:id", scope: "admin", handler: getSendRoute, doc: getSendDoc },
  { method: "POST", path: "/v1/sends/:id/retry", scope: "admin", handler: retrySendRoute, doc: retrySendDoc },
];
