/**
 * The queue consumer (placeholder until the sends pipeline lands): acknowledges nothing, so messages
 * are retried and, after max_retries, moved to the dead-letter queue rather than lost.
 */
import type { Env } from "../env";

/** Handles one batch from a queue named in wrangler.toml. */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  _env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  console.warn(
    JSON.stringify({
      level: "warn",
      event: "queue_unhandled",
      queue: batch.queue,
      messages: batch.messages.length,
    }),
  );
  batch.retryAll();
}
