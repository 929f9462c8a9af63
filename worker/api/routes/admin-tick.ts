/**
 * `POST /v1/admin/tick {"at": "<ISO 8601 time>"}`: runs the scheduled tick as of `at` (default: now)
 * and answers with its report: campaign runs claimed (with audience, sends, exclusions, D1 rows
 * read per selected customer), catch-up, dunning and lifecycle sends. The same code as the Cron
 * Trigger, so local use and tests move through time instead of waiting. Ticking the same moment
 * twice claims nothing new and sends nothing new.
 */
import type { Context } from "hono";
import { wallClock } from "../../clock";
import { type ErrorDetail, validationFailed } from "../../errors";
import { REQUEST_LIMITS } from "../../limits";
import { runTick } from "../../tick/run-tick";
import { parseInstant } from "../../timestamps";
import type { AppEnv, RouteDef } from "../app-env";
import { readJsonBody } from "../json-body";

async function postTick(c: Context<AppEnv>): Promise<Response> {
  const hasBody =
    (c.req.header("content-length") ?? "0") !== "0" || c.req.header("content-type") !== undefined;
  const body = hasBody ? await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes) : {};
  const at = readAt(body);
  refuseFutureTick(at, c.env);
  const report = await runTick(c.env, at, { ruleset: c.get("ruleset") });
  return c.json({ tick: report });
}

/**
 * How far past the wall clock a tick may be dated without the development setting: the cron's own
 * period, so a caller whose clock runs a little ahead is not refused.
 */
export const FUTURE_TICK_TOLERANCE_MS = 5 * 60_000;

/**
 * A tick dated after the wall clock writes real effects early: final dunning actions cancel
 * customers, sends are stored for real. Only a deployment that says so (`npm start` writes
 * REBOUND_ALLOW_FUTURE_TICKS=true into .dev.vars) runs one; elsewhere it is a 400 at `/at`.
 */
function refuseFutureTick(at: number, env: AppEnv["Bindings"]): void {
  const now = wallClock();
  if (at <= now + FUTURE_TICK_TOLERANCE_MS || env.REBOUND_ALLOW_FUTURE_TICKS === "true") return;
  throw validationFailed([
    {
      path: "/at",
      message: `is after the wall clock (${new Date(now).toISOString()}): this deployment runs ticks only up to now, since a future tick writes real effects early (final dunning actions cancel customers, sends are stored). Set REBOUND_ALLOW_FUTURE_TICKS=true in a development deployment to step through time`,
    },
  ]);
}

/** The tick's moment from the body; every problem is a 400 with its JSON Pointer. */
function readAt(body: unknown): number {
  const problems: ErrorDetail[] = [];
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw validationFailed([
      { path: "", message: 'must be an object such as {"at": "2026-03-03T15:00:00Z"}' },
    ]);
  }
  for (const key of Object.keys(body)) {
    if (key !== "at")
      problems.push({ path: `/${key}`, message: "is not a field of a tick request (only `at`)" });
  }
  const at: unknown = (body as { at?: unknown }).at;
  let instant = wallClock();
  if (at !== undefined) {
    // The events' strict parser: Date.parse would take 2026-02-30 as 2 March.
    const parsed = typeof at === "string" ? parseInstant(at) : null;
    if (parsed === null) {
      problems.push({
        path: "/at",
        message: 'must be an ISO 8601 time with a zone that exists, e.g. "2026-03-03T15:00:00Z"',
      });
    } else {
      instant = parsed;
    }
  }
  if (problems.length > 0) throw validationFailed(problems);
  return instant;
}

export const adminTickRoutes: readonly RouteDef[] = [
  { method: "POST", path: "/v1/admin/tick", scope: "admin", handler: postTick },
];
