/**
 * The scheduled entry point: worker/index.ts hands every Cron Trigger here, and the tick runs at
 * `controller.scheduledTime` (never the wall clock), so a late or retried invocation computes the
 * same due work, with the deployed ruleset (worker/deployed-ruleset.ts), chosen here once and passed
 * down. `POST /v1/admin/tick` (worker/api/routes/admin-tick.ts) runs the same `runTick` with the
 * request's ruleset.
 */
import { deployedRuleset } from "../deployed-ruleset";
import type { Env } from "../env";
import { runTick } from "./run-tick";

/** Runs the tick for one Cron Trigger invocation. */
export async function runScheduledTick(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  await runTick(env, controller.scheduledTime, { ruleset: deployedRuleset() });
}

export type { TickReport } from "./report";
export { runTick, type TickOptions } from "./run-tick";
