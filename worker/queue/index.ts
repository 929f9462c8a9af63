/**
 * The queue entry point: worker/index.ts hands every batch here. Batches from rebound-sends are
 * delivered by the send consumer; batches from its dead-letter queue (any queue named "*-dlq") mark
 * their sends dead. The consumer's clock is the wall clock.
 */

import { wallClock } from "../clock";
import type { Env } from "../env";
import { consumeSends } from "../sends/consume";
import { consumeDeadLetters } from "../sends/dead-letter";
import { deployedMessageCatalog } from "../sends/deployed-catalog";

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
  await consumeSends(batch, env, { clock, catalog: deployedMessageCatalog() });
}
