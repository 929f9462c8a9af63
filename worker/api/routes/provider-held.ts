/**
 * Held provider deliveries (worker/providers/held.ts, docs/providers.md), admin scope:
 *
 * - `GET /v1/admin/provider-events/held?provider=&limit=&cursor=`: the held deliveries, oldest first,
 *   keyset-paged, without their raw bodies.
 * - `POST /v1/admin/provider-events/replay` with an optional body `{"provider", "limit", "cursor"}`:
 *   maps up to `limit` held deliveries again under the current rules and ingests them
 *   (worker/providers/replay.ts); answers the counts per outcome and where to go on.
 *
 * On a sharded deployment the listing merges every shard's page on (received_at, provider, provider
 * event id), `total` adds up the shards, a replay replays each delivery on its shard, and both add
 * `meta: { shards, queries, rows_read }`.
 */
import type { Context } from "hono";
import { wallClock } from "../../clock";
import { mergePages, readEveryShard } from "../../db/shard-reads";
import { isSharded } from "../../db/shards";
import { type ErrorDetail, validationFailed } from "../../errors";
import { REQUEST_LIMITS } from "../../limits";
import {
  countHeld,
  decodeCursor,
  encodeCursor,
  HELD_LIMITS,
  type HeldPosition,
  heldView,
  positionOf,
  readHeld,
} from "../../providers/held";
import { PROVIDERS, type Provider } from "../../providers/mapping";
import { replayHeld, replayHeldAcrossShards } from "../../providers/replay";
import type { AppEnv } from "../app-env";
import { readJsonBody } from "../json-body";
import { queryParameterProblems } from "../query-parameters";

function providerProblem(value: unknown, path: string): ErrorDetail | null {
  return (PROVIDERS as readonly unknown[]).includes(value)
    ? null
    : { path, message: `must be one of ${PROVIDERS.join(", ")}` };
}

function limitProblem(value: number, max: number, path: string): ErrorDetail | null {
  return Number.isInteger(value) && value >= 1 && value <= max
    ? null
    : { path, message: `must be a whole number from 1 to ${max}` };
}

const CURSOR_MESSAGE = "must be the next_cursor of a previous answer";

export async function listHeldDeliveries(c: Context<AppEnv>): Promise<Response> {
  const problems = queryParameterProblems(c.req.url, ["provider", "limit", "cursor"]);
  const providerText = c.req.query("provider");
  const provider = providerText === undefined ? null : (providerText as Provider);
  if (providerText !== undefined) {
    const problem = providerProblem(providerText, "?provider");
    if (problem) problems.push(problem);
  }
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? HELD_LIMITS.defaultPageSize : Number(limitText);
  const limitIssue = limitProblem(
    limitText !== undefined && !/^\d+$/.test(limitText) ? Number.NaN : limit,
    HELD_LIMITS.maxPageSize,
    "?limit",
  );
  if (limitIssue) problems.push(limitIssue);
  const cursorText = c.req.query("cursor") || null;
  const after = cursorText === null ? null : decodeCursor(cursorText);
  if (cursorText !== null && after === null) problems.push({ path: "?cursor", message: CURSOR_MESSAGE });
  if (problems.length > 0) throw validationFailed(problems);
  if (isSharded(c.env)) {
    const { values, cost } = await readEveryShard(c.env, async (db) => {
      const rows = await readHeld(db, provider, after, limit + 1, false);
      return { rows: rows.slice(0, limit), more: rows.length > limit, total: await countHeld(db, provider) };
    });
    const merged = mergePages(
      values,
      limit,
      (row) => [row.received_at, row.provider, row.provider_event_id],
      "asc",
    );
    const last = merged.rows.at(-1);
    return c.json({
      held: merged.rows.map(heldView),
      next_cursor: merged.more && last ? encodeCursor(positionOf(last)) : null,
      total: values.reduce((sum, value) => sum + value.total, 0),
      meta: cost,
    });
  }
  const db = c.env.DB;
  // One row more than asked tells whether there is a next page without a count.
  const rows = await readHeld(db, provider, after, limit + 1, false);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return c.json({
    held: page.map(heldView),
    next_cursor: rows.length > limit && last ? encodeCursor(positionOf(last)) : null,
    total: await countHeld(db, provider),
  });
}

/** The replay request of a body (`{}` when there is none), or 400 with every problem located. */
function readReplayRequest(body: unknown): {
  provider: Provider | null;
  after: HeldPosition | null;
  limit: number;
} {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw validationFailed([{ path: "", message: "must be an object" }]);
  }
  const fields = body as Record<string, unknown>;
  const problems: ErrorDetail[] = [];
  for (const key of Object.keys(fields)) {
    if (!["provider", "limit", "cursor"].includes(key)) {
      problems.push({ path: `/${key}`, message: "is not a field of a replay; use provider, limit, cursor" });
    }
  }
  const provider = fields.provider === undefined ? null : (fields.provider as Provider);
  if (fields.provider !== undefined) {
    const problem = providerProblem(fields.provider, "/provider");
    if (problem) problems.push(problem);
  }
  const limit = fields.limit === undefined ? HELD_LIMITS.replayDefault : fields.limit;
  const limitIssue = limitProblem(
    typeof limit === "number" ? limit : Number.NaN,
    HELD_LIMITS.replayMax,
    "/limit",
  );
  if (limitIssue) problems.push(limitIssue);
  let after: HeldPosition | null = null;
  if (fields.cursor !== undefined && fields.cursor !== null) {
    after = typeof fields.cursor === "string" ? decodeCursor(fields.cursor) : null;
    if (after === null) problems.push({ path: "/cursor", message: CURSOR_MESSAGE });
  }
  if (problems.length > 0) throw validationFailed(problems);
  return { provider, after, limit: limit as number };
}

export async function replayHeldDeliveries(c: Context<AppEnv>): Promise<Response> {
  const hasBody =
    (c.req.header("content-length") ?? "0") !== "0" || c.req.header("content-type") !== undefined;
  const body = hasBody ? await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes) : {};
  const request = readReplayRequest(body);
  if (isSharded(c.env)) {
    return c.json(await replayHeldAcrossShards(c.env, c.get("ruleset"), request, wallClock()));
  }
  const report = await replayHeld(c.env.DB, c.get("ruleset"), request, wallClock());
  return c.json(report);
}
