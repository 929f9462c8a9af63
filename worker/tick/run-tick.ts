/**
 * One tick, at a given moment: the scheduled handler and `POST /v1/admin/tick` both call
 * `runTick`. In order: publish sends that came due (deferred past the queue's delay limit, or
 * orphaned by a crash), campaigns (resume lapsed runs, then claim and run due occurrences), dunning,
 * then the windowed lifecycle programmes. A programme that fails is logged and reported and the
 * others still run; the watermarks move only when everything finished, so the next tick catches up.
 *
 * Flow: scheduled / admin route → runTick → campaigns.ts, dunning.ts, lifecycle.ts → enqueueSends →
 * rebound-sends queue → consumer (worker/sends/consume.ts).
 */
import type { Ruleset } from "../../dsl";
import { deployedRuleset } from "../decisions/deployed-ruleset";
import type { Env } from "../env";
import { publishDueSends } from "../sends/publish";
import { QueryBudget } from "./budget";
import { runCampaigns } from "./campaigns";
import type { TickContext } from "./context";
import { catchUpFrom } from "./due";
import { runDunning } from "./dunning";
import { runLifecycle } from "./lifecycle";
import { TICK_LIMITS } from "./limits";
import { logTickEvent } from "./log";
import { emptyReport, type TickReport } from "./report";
import { advanceWatermark, readWatermarks } from "./state";

export interface TickOptions {
  /** The ruleset to run (default: the deployed one, the same the decision API uses). */
  ruleset?: Ruleset;
  /** D1 queries this tick may spend (default TICK_LIMITS.queryBudget). */
  queryBudget?: number;
  /** Customers per audience page (default TICK_LIMITS.audiencePageSize). */
  audiencePageSize?: number;
}

/**
 * Runs every scheduled programme as of `now` (epoch ms) and returns what it did.
 *
 * @example await runTick(env, controller.scheduledTime)
 */
export async function runTick(env: Env, now: number, options: TickOptions = {}): Promise<TickReport> {
  const ruleset = options.ruleset ?? deployedRuleset().ruleset;
  const budget = new QueryBudget(options.queryBudget);
  const marks = await readWatermarks(env.DB);
  budget.spend(1);
  const from = catchUpFrom(marks.tick, now);
  const report = emptyReport(now, from);
  const tc: TickContext = {
    env,
    now,
    ruleset,
    budget,
    report,
    audiencePageSize: options.audiencePageSize ?? TICK_LIMITS.audiencePageSize,
  };

  const programme = async (name: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      report.errors.push({ programme: name, message });
      logTickEvent("tick.programme_error", { programme: name, error: message, at: report.at });
    }
  };
  await programme("publish", async () => {
    report.republished = await publishDueSends(env, now);
    budget.spend(2);
  });
  await programme("campaigns", () => runCampaigns(tc, from));
  await programme("dunning", () => runDunning(tc));
  await programme("lifecycle", () => runLifecycle(tc, marks.lifecycle));

  const paused = report.campaigns.some((run) => run.status === "paused") || budget.exhausted();
  report.clean = report.errors.length === 0 && !paused;
  if (report.clean) {
    await env.DB.batch([advanceWatermark(env.DB, "tick", now), advanceWatermark(env.DB, "lifecycle", now)]);
    budget.spend(1);
  }
  report.queries = budget.queries;
  report.rows_read = budget.rowsRead;
  logTickEvent("tick.done", {
    at: report.at,
    clean: report.clean,
    runs: report.campaigns.length,
    sent:
      report.campaigns.reduce((sum, run) => sum + run.sent, 0) + report.dunning.sent + report.lifecycle.sent,
    errors: report.errors.length,
    queries: report.queries,
    rowsRead: report.rows_read,
  });
  return report;
}
