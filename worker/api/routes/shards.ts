/**
 * Adding shards (worker/shards/, docs/scaling.md), admin scope:
 *
 * - `GET /v1/admin/shards?from=`: the shard count, the customers on each shard and those still to move.
 * - `POST /v1/admin/shards/move` with an optional body `{"limit", "cursor", "from", "shard"}`: moves
 *   up to `limit` customers the growth in progress places on a new shard (of the old shard `shard`
 *   only, when given), and answers what moved, what was skipped and why, and where the next call
 *   goes on. `npm run shards:move` loops over it.
 * - `POST /v1/admin/shards/finish` with an optional body `{"shard"}`: once the growth is over
 *   (`SHARDS_FROM` removed), drops the fence triggers, the `moved` tombstones and the placements,
 *   and answers what it removed per shard (409 `growth_in_progress` before). `--finish` of the tool.
 */
import type { Context } from "hono";
import { wallClock } from "../../clock";
import { type ErrorDetail, validationFailed } from "../../errors";
import { REQUEST_LIMITS } from "../../limits";
import { finishGrowth } from "../../shards/finish";
import { decodeMoveCursor, encodeMoveCursor, type MoveCursor, movePass } from "../../shards/move-pass";
import { growthOf, growthReport, MOVE_LIMITS } from "../../shards/plan";
import type { AppEnv, RouteDef } from "../app-env";
import { shardsFinishDoc, shardsMoveDoc, shardsPlanDoc } from "../docs/shards";
import { readJsonBody } from "../json-body";
import { queryParameterProblems } from "../query-parameters";

async function getShards(c: Context<AppEnv>): Promise<Response> {
  const problems = queryParameterProblems(c.req.url, ["from"]);
  const fromText = c.req.query("from");
  const from = fromText === undefined ? undefined : Number(fromText);
  if (fromText !== undefined && !(/^\d+$/.test(fromText) && (from ?? 0) >= 1))
    problems.push({ path: "?from", message: "must be a whole number from 1" });
  if (problems.length > 0) throw validationFailed(problems);
  return c.json(await growthReport(c.env, from));
}

async function postMove(c: Context<AppEnv>): Promise<Response> {
  const body = hasBody(c) ? await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes) : {};
  const request = readMoveRequest(body);
  const growth = growthOf(c.env, request.from);
  if (request.shard !== undefined && request.shard >= growth.from)
    throw validationFailed([{ path: "/shard", message: `must be an old shard: 0 to ${growth.from - 1}` }]);
  const report = await movePass(c.env, growth, {
    limit: request.limit,
    cursor: request.cursor,
    now: wallClock(),
    ...(request.shard === undefined ? {} : { shard: request.shard }),
  });
  return c.json({ ...report, next_cursor: report.next_cursor ? encodeMoveCursor(report.next_cursor) : null });
}

async function postFinish(c: Context<AppEnv>): Promise<Response> {
  const body = hasBody(c) ? await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes) : {};
  return c.json(await finishGrowth(c.env, readFinishStart(body)));
}

function hasBody(c: Context<AppEnv>): boolean {
  return (c.req.header("content-length") ?? "0") !== "0" || c.req.header("content-type") !== undefined;
}

/** The shard a finish request starts at (`shard`, default 0); every problem is a 400. */
function readFinishStart(body: unknown): number {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw validationFailed([{ path: "", message: 'must be an object such as {"shard": 0}' }]);
  const problems: ErrorDetail[] = [];
  for (const key of Object.keys(body))
    if (key !== "shard")
      problems.push({ path: `/${key}`, message: "is not a field of a finish request (only `shard`)" });
  const { shard } = body as { shard?: unknown };
  if (shard !== undefined && !(Number.isInteger(shard) && (shard as number) >= 0))
    problems.push({ path: "/shard", message: "must be the `next_shard` of a previous answer (0 or more)" });
  if (problems.length > 0) throw validationFailed(problems);
  return (shard as number | undefined) ?? 0;
}

const MOVE_FIELDS = new Set(["limit", "cursor", "from", "shard"]);

/** The move request of a body; every problem is a 400 with its JSON Pointer. */
function readMoveRequest(body: unknown): {
  limit: number;
  cursor: MoveCursor | null;
  from?: number;
  shard?: number;
} {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw validationFailed([{ path: "", message: 'must be an object such as {"limit": 10}' }]);
  const problems: ErrorDetail[] = [];
  for (const key of Object.keys(body))
    if (!MOVE_FIELDS.has(key))
      problems.push({
        path: `/${key}`,
        message: "is not a field of a move request (only `limit`, `cursor`, `from`, `shard`)",
      });
  const { limit, cursor, from, shard } = body as {
    limit?: unknown;
    cursor?: unknown;
    from?: unknown;
    shard?: unknown;
  };
  const max = MOVE_LIMITS.maxCustomersPerCall;
  if (limit !== undefined && !(Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= max))
    problems.push({ path: "/limit", message: `must be a whole number from 1 to ${max}` });
  const position = typeof cursor === "string" ? decodeMoveCursor(cursor) : null;
  if (cursor !== undefined && cursor !== null && position === null)
    problems.push({ path: "/cursor", message: "must be the next_cursor of a previous answer" });
  if (from !== undefined && !(Number.isInteger(from) && (from as number) >= 1))
    problems.push({ path: "/from", message: "must be a whole number from 1" });
  if (shard !== undefined && !(Number.isInteger(shard) && (shard as number) >= 0))
    problems.push({ path: "/shard", message: "must be the index of an old shard (0 or more)" });
  if (position !== null && shard !== undefined && position.shard !== shard)
    problems.push({ path: "/cursor", message: "belongs to a pass over another shard" });
  if (problems.length > 0) throw validationFailed(problems);
  return {
    limit: (limit as number | undefined) ?? MOVE_LIMITS.defaultCustomersPerCall,
    cursor: position,
    ...(from === undefined ? {} : { from: from as number }),
    ...(shard === undefined ? {} : { shard: shard as number }),
  };
}

export const shardRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/v1/admin/shards", scope: "admin", handler: getShards, doc: shardsPlanDoc },
  { method: "POST", path: "/v1/admin/shards/move", scope: "admin", handler: postMove, doc: shardsMoveDoc },
  {
    method: "POST",
    path: "/v1/admin/shards/finish",
    scope: "admin",
    handler: postFinish,
    doc: shardsFinishDoc,
  },
];
