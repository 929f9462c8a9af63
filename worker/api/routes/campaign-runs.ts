/**
 * `GET /v1/admin/campaign-runs`: every campaign occurrence step the tick claimed, ran, skipped
 * (catch-up limit) or expired, newest first, with its counters (audience, sent, holdout,
 * frequency-capped, deferred, D1 rows read) and the keyset position of a run still in progress, so
 * nothing the scheduler did or did not do is invisible. Filter with `?status=` and `?campaign=`;
 * page with `?limit=` and `?cursor=` (the `next_cursor` of the previous page).
 *
 * On a sharded deployment each shard runs its part of an occurrence step and keeps its own row; the
 * rows of one (campaign, occurrence, step, offset) are ONE run in the answer: counters summed, status
 * `running` while any part runs, else `expired` if any part expired, else `skipped` if any was
 * skipped, else `done`. Runs are then ordered by (due_at, campaign, occurrence, step, offset) newest
 * first, a key every part of a run shares, so each shard pages its rows on it and the cursor (that
 * key, opaque) holds across shards. With `?status=` a shard's matching rows name the runs, whose
 * parts are then read on every shard; a run whose combined status differs is left out, so such a page
 * may hold fewer than `limit` runs. The answer adds `meta: { shards, queries, rows_read }`.
 */
import type { Context } from "hono";
import { CAMPAIGN_RUN_STATUSES } from "../../db/schema/campaign-runs";
import { addCosts, mergePages, readEveryShard, type ShardCost } from "../../db/shard-reads";
import { isSharded } from "../../db/shards";
import { type ErrorDetail, validationFailed } from "../../errors";
import { type CursorKey, decodeCursor, encodeCursor } from "../../metrics/lists";
import { SEND_LIMITS } from "../../sends/limits";
import type { CampaignRunRow } from "../../tick/claims";
import type { AppEnv, RouteDef } from "../app-env";
import { campaignRunsDoc } from "../docs/campaign-runs";

const RUN_ID = /^run_[0-9a-f]{28}$/;

async function listCampaignRuns(c: Context<AppEnv>): Promise<Response> {
  const problems: ErrorDetail[] = [];
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? SEND_LIMITS.defaultPageSize : Number(limitText);
  if (limitText !== undefined && (!/^\d+$/.test(limitText) || limit < 1 || limit > SEND_LIMITS.maxPageSize)) {
    problems.push({ path: "?limit", message: `must be a whole number from 1 to ${SEND_LIMITS.maxPageSize}` });
  }
  const cursor = c.req.query("cursor") || null;
  const sharded = isSharded(c.env);
  const runKeyCursor = sharded && cursor !== null ? decodeCursor(cursor, RUN_KEY_SHAPE) : null;
  if (cursor !== null && (sharded ? runKeyCursor === null : !RUN_ID.test(cursor))) {
    problems.push({ path: "?cursor", message: "must be the next_cursor of a previous page" });
  }
  const status = c.req.query("status") || null;
  if (status !== null && !(CAMPAIGN_RUN_STATUSES as readonly string[]).includes(status)) {
    problems.push({ path: "?status", message: `must be one of ${CAMPAIGN_RUN_STATUSES.join(", ")}` });
  }
  if (problems.length > 0) throw validationFailed(problems);
  const campaign = c.req.query("campaign") || null;
  if (sharded) {
    const page = await mergedRuns(c.env, { status, campaign, after: runKeyCursor, limit });
    return c.json({
      runs: page.runs.map((run) => ({ ...runView(run.row), shards: run.parts })),
      next_cursor: page.nextCursor,
      meta: page.cost,
    });
  }

  const conditions: string[] = [];
  const params: (string | number)[] = [];
  for (const [column, value] of [
    ["status", status],
    ["campaign", campaign],
  ] as const) {
    if (value === null) continue;
    params.push(value);
    conditions.push(`${column} = ?${params.length}`);
  }
  if (cursor !== null) {
    params.push(cursor);
    conditions.push(`id < ?${params.length}`);
  }
  params.push(limit + 1);
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  // One row per occurrence step: a small table, ordered by its primary key.
  const { results } = await c.env.DB.prepare(
    `SELECT * FROM campaign_runs ${where} ORDER BY id DESC LIMIT ?${params.length}`,
  )
    .bind(...params)
    .all<CampaignRunRow>();
  const items = results.slice(0, limit);
  return c.json({
    runs: items.map(runView),
    next_cursor: results.length > limit ? (items.at(-1)?.id ?? null) : null,
  });
}

/** The key every shard's part of one run shares, in the sharded order: [due_at, campaign, occurrence, step, offset_ms]. */
const RUN_KEY_SHAPE = ["number", "string", "string", "string", "number"] as const;

function runKeyOf(row: CampaignRunRow): CursorKey[] {
  return [row.due_at, row.campaign, row.occurrence, row.step, row.offset_ms];
}

const RUN_ORDER = "ORDER BY due_at DESC, campaign DESC, occurrence DESC, step DESC, offset_ms DESC";

/** One run of a sharded deployment: its parts combined, and how many shards hold a part. */
interface MergedRun {
  row: CampaignRunRow;
  parts: number;
}

/**
 * A page of runs across shards: each shard's first `limit` rows after the cursor in the run-key
 * order, merged; the page's runs are the first `limit` distinct keys (a part a shard did not return
 * lies after `limit` keys it did, so every part of a page's run is among the rows read).
 */
async function mergedRuns(
  env: AppEnv["Bindings"],
  filter: { status: string | null; campaign: string | null; after: CursorKey[] | null; limit: number },
): Promise<{ runs: MergedRun[]; nextCursor: string | null; cost: ShardCost }> {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  for (const [column, value] of [
    ["status", filter.status],
    ["campaign", filter.campaign],
  ] as const) {
    if (value === null) continue;
    params.push(value);
    conditions.push(`${column} = ?${params.length}`);
  }
  if (filter.after !== null) {
    params.push(...filter.after);
    const at = params.length - 4;
    conditions.push(
      `due_at <= ?${at}`,
      `(due_at, campaign, occurrence, step, offset_ms) < (?${at}, ?${at + 1}, ?${at + 2}, ?${at + 3}, ?${at + 4})`,
    );
  }
  params.push(filter.limit + 1);
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const read = await readEveryShard(env, async (db) => {
    const { results } = await db
      .prepare(`SELECT * FROM campaign_runs ${where} ${RUN_ORDER} LIMIT ?${params.length}`)
      .bind(...params)
      .all<CampaignRunRow>();
    return { rows: results.slice(0, filter.limit), more: results.length > filter.limit };
  });
  // Every part of a key among the first `limit` keys is in the merge; keys after them are cut.
  const merged = mergePages(read.values, Number.MAX_SAFE_INTEGER, runKeyOf, "desc");
  const groups = groupRuns(merged.rows);
  const page = groups.slice(0, filter.limit);
  const more = groups.length > filter.limit || merged.more;
  let cost = read.cost;
  let runs = page;
  if (filter.status !== null && page.length > 0) {
    // A status filter found the runs with a matching part: read all their parts, then keep the
    // runs whose combined status is the one asked for.
    const complete = await readRunParts(env, page);
    cost = addCosts(cost, complete.cost);
    runs = complete.runs.filter((run) => run.row.status === filter.status);
  }
  const last = page.at(-1);
  return { runs, nextCursor: more && last ? encodeCursor(runKeyOf(last.row)) : null, cost };
}

/** Every shard's part of each of `runs`, combined per run. */
async function readRunParts(
  env: AppEnv["Bindings"],
  runs: readonly MergedRun[],
): Promise<{ runs: MergedRun[]; cost: ShardCost }> {
  const keys = JSON.stringify(
    runs.map((run) => [run.row.campaign, run.row.occurrence, run.row.step, run.row.offset_ms]),
  );
  const read = await readEveryShard(env, async (db) => {
    const { results } = await db
      .prepare(
        `SELECT r.* FROM json_each(?1) AS k JOIN campaign_runs r ON r.campaign = k.value ->> 0
           AND r.occurrence = k.value ->> 1 AND r.step = k.value ->> 2 AND r.offset_ms = k.value ->> 3`,
      )
      .bind(keys)
      .all<CampaignRunRow>();
    return { rows: results, more: false };
  });
  const merged = mergePages(read.values, Number.MAX_SAFE_INTEGER, runKeyOf, "desc");
  return { runs: groupRuns(merged.rows), cost: read.cost };
}

/** Rows sorted by run key, grouped into runs (adjacent rows of one key). */
function groupRuns(rows: readonly CampaignRunRow[]): MergedRun[] {
  const runs: { key: string; parts: CampaignRunRow[] }[] = [];
  for (const row of rows) {
    const key = JSON.stringify(runKeyOf(row));
    const last = runs.at(-1);
    if (last && last.key === key) last.parts.push(row);
    else runs.push({ key, parts: [row] });
  }
  return runs.map(({ parts }) => ({ row: combineParts(parts), parts: parts.length }));
}

/** Precedence of part statuses in the combined status: a run is running while any part is. */
const STATUS_PRECEDENCE = ["running", "expired", "skipped", "done"] as const;

/** The parts of one run on several shards as one row: counters summed, status combined. */
function combineParts(parts: readonly CampaignRunRow[]): CampaignRunRow {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const status =
    STATUS_PRECEDENCE.find((candidate) => parts.some((part) => part.status === candidate)) ?? first.status;
  const running = parts.filter((part) => part.status === "running");
  const stats: Record<string, number> = {};
  for (const part of parts) {
    for (const [name, value] of Object.entries(JSON.parse(part.stats) as Record<string, unknown>)) {
      if (typeof value === "number") stats[name] = (stats[name] ?? 0) + value;
    }
  }
  const leases = running.map((part) => part.lease_expires_at).filter((at): at is number => at !== null);
  const cursorsOf = (of: readonly CampaignRunRow[]) =>
    of
      .map((part) => part.cursor)
      .filter((cursor): cursor is string => cursor !== null)
      .sort();
  const finished = parts.map((part) => part.finished_at).filter((at): at is number => at !== null);
  return {
    ...first,
    // The first part claimed names the run.
    id: parts.map((part) => part.id).sort()[0]!,
    status,
    attempts: Math.max(...parts.map((part) => part.attempts)),
    // How far the slowest running part got; once finished, the last customer any part handled.
    cursor: status === "running" ? (cursorsOf(running)[0] ?? null) : (cursorsOf(parts).at(-1) ?? null),
    stats: JSON.stringify(stats),
    note: parts.find((part) => part.note !== null)?.note ?? null,
    lease_expires_at: leases.length === 0 ? null : Math.max(...leases),
    claimed_at: Math.min(...parts.map((part) => part.claimed_at)),
    finished_at: status === "running" || finished.length === 0 ? null : Math.max(...finished),
  };
}

function runView(row: CampaignRunRow): Record<string, unknown> {
  return {
    id: row.id,
    campaign: row.campaign,
    occurrence: row.occurrence,
    step: row.step,
    due_at: iso(row.due_at),
    status: row.status,
    attempts: row.attempts,
    cursor: row.cursor,
    stats: JSON.parse(row.stats) as unknown,
    note: row.note,
    lease_expires_at: iso(row.lease_expires_at),
    claimed_at: iso(row.claimed_at),
    finished_at: iso(row.finished_at),
  };
}

function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

export const campaignRunRoutes: readonly RouteDef[] = [
  {
    method: "GET",
    path: "/v1/admin/campaign-runs",
    scope: "admin",
    handler: listCampaignRuns,
    doc: campaignRunsDoc,
  },
];
