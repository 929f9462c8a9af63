/**
 * `GET /v1/admin/campaign-runs`: every campaign occurrence step the tick claimed, ran, skipped
 * (catch-up limit) or expired, newest first, with its counters (audience, sent, holdout,
 * frequency-capped, deferred, D1 rows read) and the keyset position of a run still in progress, so
 * nothing the scheduler did or did not do is invisible. Filter with `?status=` and `?campaign=`;
 * page with `?limit=` and `?cursor=` (the `next_cursor` of the previous page).
 */
import type { Context } from "hono";
import { CAMPAIGN_RUN_STATUSES } from "../../db/schema/campaign-runs";
import { type ErrorDetail, validationFailed } from "../../errors";
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
  if (cursor !== null && !RUN_ID.test(cursor)) {
    problems.push({ path: "?cursor", message: "must be the next_cursor of a previous page" });
  }
  const status = c.req.query("status") || null;
  if (status !== null && !(CAMPAIGN_RUN_STATUSES as readonly string[]).includes(status)) {
    problems.push({ path: "?status", message: `must be one of ${CAMPAIGN_RUN_STATUSES.join(", ")}` });
  }
  if (problems.length > 0) throw validationFailed(problems);

  const conditions: string[] = [];
  const params: (string | number)[] = [];
  const campaign = c.req.query("campaign") || null;
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
