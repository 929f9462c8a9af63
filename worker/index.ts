/**
 * Rebound's entry points: HTTP API (worker/api/app.ts), scheduled tick (worker/tick/) and queue
 * consumer (worker/queue/index.ts). Each lives in its own module; this file only wires them. Each
 * entry point chooses the clock and the ruleset (worker/clock.ts, worker/deployed-ruleset.ts) once and
 * passes them down; nothing below picks its own.
 */
import { app } from "./api/app";
import type { Env } from "./env";
import { handleQueue } from "./queue/index";
import { runScheduledTick } from "./tick/index";

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env, ctx) => runScheduledTick(controller, env, ctx),
  queue: (batch, env, ctx) => handleQueue(batch, env, ctx),
} satisfies ExportedHandler<Env>;
