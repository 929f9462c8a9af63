/**
 * The scheduled tick (Cron Trigger, see wrangler.toml). Its "now" is `controller.scheduledTime`.
 * Campaigns, dunning and inactivity will run from here; until they land the tick only records that
 * it ran.
 */
import type { Env } from "./env";

/** Runs one tick at `controller.scheduledTime`. */
export async function runTick(
  controller: ScheduledController,
  _env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  console.log(
    JSON.stringify({
      level: "info",
      event: "tick",
      cron: controller.cron,
      scheduled_time: new Date(controller.scheduledTime).toISOString(),
    }),
  );
}
