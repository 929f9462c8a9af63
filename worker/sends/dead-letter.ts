/**
 * The rebound-sends-dlq consumer: a message lands here when the queue gave up on it (the consumer
 * kept failing before it could record an outcome, e.g. D1 errors, or its retries ran out). The send
 * is marked `dead` with its last error so the failure shows at GET /v1/sends instead of vanishing.
 * On a sharded deployment the send is marked on its shard: the one its id's slot names, else (an id
 * made before sharding) the first other shard that holds it.
 */
import { idShards, isSharded } from "../db/shards";
import type { Env } from "../env";
import { idSlot } from "../ids";
import { logSendEvent } from "./log";
import { parseSendQueueMessage } from "./message";
import { type DeadLetterResult, markDeadLettered } from "./transitions";

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
    const result = await markDeadLetteredOnItsShard(env, parsed.message.sendId, now);
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

/** `markDeadLettered` on the database that holds the send (one database: `DB`). */
async function markDeadLetteredOnItsShard(env: Env, sendId: string, now: number): Promise<DeadLetterResult> {
  if (!isSharded(env)) return markDeadLettered(env.DB, sendId, now);
  for (const shard of idShards(env, idSlot(sendId))) {
    const result = await markDeadLettered(shard.db, sendId, now);
    if (result.kind !== "missing") return result;
  }
  return { kind: "missing" };
}
