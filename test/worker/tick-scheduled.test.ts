// The Cron Trigger path: the Worker's scheduled() entry point runs the tick at
// controller.scheduledTime (never the wall clock), so a late or retried invocation does the same work.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import worker from "../../worker";
import { at, DAY, events, MINUTE, stepsOf, subscriber } from "./tick-fixtures";

it("scheduled() runs the tick at the controller's scheduledTime, once per moment", async () => {
  const failedAt = at("2031-06-03T12:00:00Z");
  await subscriber("cus_cron", failedAt - 100 * DAY);
  await events([
    "payment.failed",
    "cus_cron",
    failedAt,
    { invoice_id: "inv_cron", amount: 1900, currency: "USD" },
  ]);

  for (const scheduledTime of [
    failedAt + 5 * MINUTE,
    failedAt + 5 * MINUTE,
    failedAt + 3 * DAY + 5 * MINUTE,
  ]) {
    const controller = createScheduledController({ scheduledTime, cron: "*/5 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
  }
  expect(await stepsOf("cus_cron")).toEqual(["dunning/standard/day-0", "dunning/standard/day-3"]);
  const state = await env.DB.prepare("SELECT value FROM tick_state WHERE key = 'tick'").first<{
    value: number;
  }>();
  expect(state?.value).toBe(failedAt + 3 * DAY + 5 * MINUTE);
});
