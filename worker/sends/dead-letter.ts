/**
 * The rebound-sends-dlq consumer: a message lands here when the queue gave up on it (the consumer
 * kept failing before it could record an outcome, e.g. D1 errors, or its retries ran out). The send
 * is marked `dead` with its last error so the failure shows at GET /v1/sends instead of vanishing.
 */
import type { Env } from "../env";
import { logSendEvent } from "./log";
import { parseSendQueueMessage } from "./message";
import { markDeadLettered } from "./transitions";

/**
 * Consumes one batch from rebound-sends-dlq at the time given by `clock`. Returns the delay of
 * each message put back (a send still held by a live claim), in batch order; null for acknowledged.
 */
export async function consumeDeadLetters(
  batch: MessageBatch<unknown>,
  env: Env,
  clock: () => number,
): Promise<(number | null)[]> {
  const retries: (number | null)[] = [];
  for (const message of batch.messages) {
    retries.push(null);
    const parsed = parseSendQueueMessage(message.body);
    if (!parsed.ok) {
      logSendEvent("send.bad_message", { queue: batch.queue, error: parsed.error });
      message.ack();
      continue;
    }
    const now = clock();
    const result = await markDeadLettered(env.DB, parsed.message.sendId, now);
    switch (result.kind) {
      case "dead":
        logSendEvent("send.dead", {
          sendId: result.row.id,
          channel: result.row.channel,
          attempts: result.row.attempts,
          error: result.row.last_error,
          deadLettered: true,
        });
        message.ack();
        break;
      case "busy":
        {
          // A consumer is mid-delivery; decide once its lease has lapsed.
          const delaySeconds = Math.max(1, Math.ceil((result.leaseExpiresAt - now) / 1000));
          message.retry({ delaySeconds });
          retries[retries.length - 1] = delaySeconds;
        }
        break;
      case "finished":
        message.ack();
        break;
      case "missing":
        logSendEvent("send.missing", { sendId: parsed.message.sendId, queue: batch.queue });
        message.ack();
        break;
    }
  }
  return retries;
}
