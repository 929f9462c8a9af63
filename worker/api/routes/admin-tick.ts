/**
 * `POST /v1/admin/tick {"at": "<ISO 8601 time>"}`: runs the scheduled tick as of `at` (default: now)
 * and answers with its report: campaign runs claimed (with audience, sends, exclusions, D1 rows
 * read per selected customer), catch-up, dunning and lifecycle sends. The same code as the Cron
 * Trigger, so local use and tests move through time instead of waiting. Ticking the same moment
 * twice claims nothing new and sends nothing new.
 *
 * `{"at": "…", "dry_run": true}` answers what that tick would do and writes nothing (no D1 row, no
 * queue message, no R2 object; the watermarks stay): the same programmes run, with every write
 * recorded instead (worker/tick/dry-run.ts). Since it writes nothing, a dry run may be dated after
 * the wall clock where a real tick may not. The answer:
 *
 *   { "tick": <the report, with the counts the tick would have>, "dry_run": true,
 *     "effects": {
 *       "sends": [{ programme_kind, programme_key, occurrence, step, customer_id, channel,
 *                   message_key, send_at, offer_key, subject, body }],   // rendered as delivered
 *       "decisions": [{ customer_id, context, offer_key, expires_at, outcome }],
 *       "dunning": { "opened": [{ customer_id, invoice_id, cadence }],
 *                    "closed": [{ customer_id, invoice_id, cadence, status, actions }],
 *                    "cancellations": [{ customer_id, invoice_id, cadence }] },
 *       "exclusions": [{ campaign, occurrence, step, customer_id, reason, detail }],
 *       "republish": <sends the tick would put on the queue>,
 *       "archive": { skipped, day, erasures_to_continue, note } },
 *     "truncated": { "sends": <left out>, "decisions": …, "exclusions": …, "dunning_opened": …,
 *                    "dunning_closed": …, "dunning_cancellations": … } }
 *
 * Each list holds at most TICK_LIMITS.dryRunListLimit entries; `truncated` says how many more there
 * were, and the report's counts stay exact. A decision the tick would create has an id it never
 * stores, so a rendered accept link shows an id that will differ from the real tick's.
 *
 * On a sharded deployment the request runs every shard's part of the tick in parallel
 * (worker/tick/sharded-tick.ts) and answers one report that adds up across shards, with each
 * shard's figures under `tick.shards` and each error's `shard`; a dry run's effects are the shards'
 * lists together. One database: the report is exactly as above, without `shards`.
 */
import type { Context } from "hono";
import { wallClock } from "../../clock";
import { controlDatabase, isSharded } from "../../db/shards";
import { type ErrorDetail, validationFailed } from "../../errors";
import { REQUEST_LIMITS } from "../../limits";
import { DryRunEffects } from "../../tick/dry-run";
import { runTick } from "../../tick/run-tick";
import { runShardedTick } from "../../tick/sharded-tick";
import { advanceSimulatedClock } from "../../tick/state";
import { parseInstant } from "../../timestamps";
import type { AppEnv, RouteDef } from "../app-env";
import { tickDoc } from "../docs/admin-tick";
import { readJsonBody } from "../json-body";

async function postTick(c: Context<AppEnv>): Promise<Response> {
  const hasBody =
    (c.req.header("content-length") ?? "0") !== "0" || c.req.header("content-type") !== undefined;
  const body = hasBody ? await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes) : {};
  const { at, dryRun } = readTickRequest(body);
  if (isSharded(c.env)) return postShardedTick(c, at, dryRun);
  if (dryRun) {
    const effects = new DryRunEffects();
    const report = await runTick(c.env, at, { ruleset: c.get("ruleset"), dryRun: effects });
    return c.json({ tick: report, dry_run: true, ...effects.toJSON() });
  }
  refuseFutureTick(at, c.env);
  // Past refuseFutureTick a tick after the wall clock is allowed here: record how far the simulated
  // clock has got first, so the queue consumer delivers this tick's sends while it still runs.
  if (at > wallClock() && c.env.REBOUND_ALLOW_FUTURE_TICKS === "true")
    await advanceSimulatedClock(c.env.DB, at).run();
  const report = await runTick(c.env, at, { ruleset: c.get("ruleset") });
  return c.json({ tick: report });
}

/** The sharded tick: every shard's part in this request, one merged report. */
async function postShardedTick(c: Context<AppEnv>, at: number, dryRun: boolean): Promise<Response> {
  const ruleset = c.get("ruleset");
  if (dryRun) {
    const { report, dryRun: effects } = await runShardedTick(c.env, at, { ruleset, dryRun: true });
    return c.json({ tick: report, dry_run: true, ...effects });
  }
  refuseFutureTick(at, c.env);
  if (at > wallClock() && c.env.REBOUND_ALLOW_FUTURE_TICKS === "true")
    await advanceSimulatedClock(controlDatabase(c.env), at).run();
  const { report } = await runShardedTick(c.env, at, { ruleset });
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

const TICK_FIELDS = new Set(["at", "dry_run"]);

/** The tick's moment and mode from the body; every problem is a 400 with its JSON Pointer. */
function readTickRequest(body: unknown): { at: number; dryRun: boolean } {
  const problems: ErrorDetail[] = [];
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw validationFailed([
      { path: "", message: 'must be an object such as {"at": "2026-03-03T15:00:00Z"}' },
    ]);
  }
  for (const key of Object.keys(body)) {
    if (!TICK_FIELDS.has(key))
      problems.push({
        path: `/${key}`,
        message: "is not a field of a tick request (only `at` and `dry_run`)",
      });
  }
  const dryRun: unknown = (body as { dry_run?: unknown }).dry_run;
  if (dryRun !== undefined && typeof dryRun !== "boolean") {
    problems.push({ path: "/dry_run", message: "must be true or false" });
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
  return { at: instant, dryRun: dryRun === true };
}

export const adminTickRoutes: readonly RouteDef[] = [
  { method: "POST", path: "/v1/admin/tick", scope: "admin", handler: postTick, doc: tickDoc },
];
