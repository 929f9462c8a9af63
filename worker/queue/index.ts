/**
 * The queue entry point: worker/index.ts hands every batch here, routed by its queue. Batches from
 * rebound-sends are delivered by the send consumer; batches from rebound-ticks run the units of a
 * sharded tick (worker/tick/consume-units.ts); batches from a dead-letter queue (any queue named
 * "*-dlq") mark their sends dead, or for rebound-ticks-dlq log the units given up on. The entry
 * point chooses the consumer's clock and ruleset (the deployed one, worker/deployed-ruleset.ts) once
 * per batch and passes them down. The clock is the wall clock, except where the deployment allows
 * ticks dated in the future (REBOUND_ALLOW_FUTURE_TICKS, as `npm start` sets): there it is the
 * simulated clock those ticks have reached (simulated-clock.ts), so a send due by the simulated clock
 * is delivered instead of waiting for the real date. A tick unit runs at its message's own time.
 */

import { wallClock } from "../clock";
import { controlDatabase } from "../db/shards";
import { deployedRuleset } from "../deployed-ruleset";
import type { Env } from "../env";
import { consumeSends } from "../sends/consume";
import { consumeDeadLetters } from "../sends/dead-letter";
import { consumeDeadTickUnits, consumeTickUnits } from "../tick/index";
import { simulatedNow } from "./simulated-clock";

/** The queue of a sharded tick's units (wrangler.toml), and its dead-letter queue. */
const TICKS_QUEUE = "rebound-ticks";

/** Handles one batch from a queue named in wrangler.toml. */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  if (batch.queue === `${TICKS_QUEUE}-dlq`) {
    consumeDeadTickUnits(batch);
    return;
  }
  if (batch.queue.endsWith("-dlq")) {
    await consumeDeadLetters(batch, env, wallClock);
    return;
  }
  if (batch.queue === TICKS_QUEUE) {
    await consumeTickUnits(batch, env, { ruleset: deployedRuleset() });
    return;
  }
  await consumeSends(batch, env, { clock: await consumerClock(env), ruleset: deployedRuleset() });
}

/** The wall clock, or where future ticks are allowed, the later of it and the simulated clock. */
async function consumerClock(env: Env): Promise<() => number> {
  if (env.REBOUND_ALLOW_FUTURE_TICKS !== "true") return wallClock;
  const reached = await simulatedNow(controlDatabase(env), wallClock());
  return () => Math.max(wallClock(), reached);
}
