/**
 * The queue entry point: worker/index.ts hands every batch here. Batches from rebound-sends are
 * delivered by the send consumer; batches from its dead-letter queue (any queue named "*-dlq") mark
 * their sends dead. The entry point chooses the consumer's clock (the wall clock) and ruleset (the
 * deployed one, worker/deployed-ruleset.ts) once per batch and passes them down.
 */

import { wallClock } from "../clock";
import { deployedRuleset } from "../deployed-ruleset";
import type { Env } from "../env";
import { consumeSends } from "../sends/consume";
import { consumeDeadLetters } from "../sends/dead-letter";

/** Handles one batch from a queue named in wrangler.toml. */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const clock = wallClock;
  if (batch.queue.endsWith("-dlq")) {
    await consumeDeadLetters(batch, env, clock);
    return;
  }
  await consumeSends(batch, env, { clock, ruleset: deployedRuleset() });
}
