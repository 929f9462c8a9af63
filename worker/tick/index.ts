/**
 * The scheduled entry point: worker/index.ts hands every Cron Trigger here, and the tick runs at
 * `controller.scheduledTime` (never the wall clock), so a late or retried invocation computes the
 * same due work, with the deployed ruleset (worker/deployed-ruleset.ts), chosen here once and passed
 * down. `POST /v1/admin/tick` (worker/api/routes/admin-tick.ts) runs the same `runTick` with the
 * request's ruleset.
 *
 * On one database the tick runs here, whole. On a sharded deployment this invocation only
 * dispatches (dispatch.ts): one rebound-ticks message per (shard, unit), each run by the queue
 * consumer (consume-units.ts). Without a TICKS binding it runs every shard inline (sharded-tick.ts).
 */
import { isSharded } from "../db/shards";
import { deployedRuleset } from "../deployed-ruleset";
import type { Env } from "../env";
import { dispatchTick } from "./dispatch";
import { runTick } from "./run-tick";
import { runShardedTick } from "./sharded-tick";

/** Runs (or on a sharded deployment, fans out) the tick for one Cron Trigger invocation. */
export async function runScheduledTick(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const ruleset = deployedRuleset();
  if (!isSharded(env)) {
    await runTick(env, controller.scheduledTime, { ruleset });
    return;
  }
  if (env.TICKS) await dispatchTick(env, controller.scheduledTime, { ruleset, queue: env.TICKS });
  else await runShardedTick(env, controller.scheduledTime, { ruleset });
}

export { consumeDeadTickUnits, consumeTickUnits } from "./consume-units";
export type { TickReport } from "./report";
export { runTick, type TickOptions } from "./run-tick";
export { runShardedTick } from "./sharded-tick";
