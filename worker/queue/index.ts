/**
 * The queue entry point: worker/index.ts hands every batch here. Batches from rebound-sends are
 * delivered by the send consumer; batches from its dead-letter queue (any queue named "*-dlq") mark
 * their sends dead. The entry point chooses the consumer's clock and ruleset (the deployed one,
 * worker/deployed-ruleset.ts) once per batch and passes them down. The clock is the wall clock,
 * except where the deployment allows ticks dated in the future (REBOUND_ALLOW_FUTURE_TICKS, as
 * `npm start` sets): there it is the simulated clock those ticks have reached (simulated-clock.ts),
 * so a send due by the simulated clock is delivered instead of waiting for the real date.
 */

import { wallClock } from "../clock";
import { deployedRuleset } from "../deployed-ruleset";
import type { Env } from "../env";
import { consumeSends } from "../sends/consume";
import { consumeDeadLetters } from "../sends/dead-letter";
import { simulatedNow } from "./simulated-clock";

/** Handles one batch from a queue named in wrangler.toml. */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  if (batch.queue.endsWith("-dlq")) {
    await consumeDeadLetters(batch, env, wallClock);
    return;
  }
  await consumeSends(batch, env, { clock: await consumerClock(env), ruleset: deployedRuleset() });
}

/** The wall clock, or where future ticks are allowed, the later of it and the simulated clock. */
async function consumerClock(env: Env): Promise<() => number> {
  if (env.REBOUND_ALLOW_FUTURE_TICKS !== "true") return wallClock;
  const reached = await simulatedNow(env.DB, wallClock());
  return () => Math.max(wallClock(), reached);
}
