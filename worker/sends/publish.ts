/**
 * Puts sends on the rebound-sends queue: one message per send (`{ v: 1, sendId }`), at most 100 per
 * sendBatch call, each delayed until the send is due. A row is marked `enqueued_at` only after its
 * message is accepted, so a crash in between leaves it for `publishDueSends` to pick up; a message
 * published twice is harmless because the consumer claims each row once.
 */
import type { Env } from "../env";
import { SEND_LIMITS } from "./limits";
import type { SendQueueMessage } from "./types";

/** A send to publish and when it is due. */
export interface DueSend {
  id: string;
  notBefore: number;
}

/**
 * Publishes `sends` (all due within the queue's 12-hour delay limit) and stamps their rows.
 * Returns how many were published.
 */
export async function publishSends(env: Env, sends: readonly DueSend[], now: number): Promise<number> {
  let published = 0;
  for (let start = 0; start < sends.length; start += SEND_LIMITS.queueBatchSize) {
    const chunk = sends.slice(start, start + SEND_LIMITS.queueBatchSize);
    await env.SENDS.sendBatch(
      chunk.map((send) => {
        const body: SendQueueMessage = { v: 1, sendId: send.id };
        const delaySeconds = Math.ceil((send.notBefore - now) / 1000);
        return delaySeconds > 0
          ? {
              body,
              contentType: "json" as const,
              delaySeconds: Math.min(delaySeconds, SEND_LIMITS.maxQueueDelaySeconds),
            }
          : { body, contentType: "json" as const };
      }),
    );
    // D1 allows 100 bound parameters: the ids travel as one JSON array.
    await env.DB.prepare(
      "UPDATE sends SET enqueued_at = ?1 WHERE id IN (SELECT value FROM json_each(?2)) AND enqueued_at IS NULL",
    )
      .bind(now, JSON.stringify(chunk.map((send) => send.id)))
      .run();
    published += chunk.length;
  }
  return published;
}

/**
 * Publishes the sends that are written but not on the queue: ones deferred beyond the queue's
 * 12-hour delay limit that are now within it, and ones whose enqueuing invocation died between its
 * insert and its sendBatch (older than `republishAfterMs`). The tick calls this every run.
 * Returns how many were published.
 */
export async function publishDueSends(env: Env, now: number): Promise<number> {
  return publishSends(env, await dueUnpublishedSends(env, now), now);
}

/**
 * The sends `publishDueSends` would publish at `now`, read-only (a dry tick counts them; it
 * publishes nothing).
 */
export async function dueUnpublishedSends(env: Env, now: number): Promise<DueSend[]> {
  const horizon = now + SEND_LIMITS.maxQueueDelaySeconds * 1000;
  const { results } = await env.DB.prepare(
    `SELECT id, not_before AS notBefore FROM sends
     WHERE status = 'queued' AND enqueued_at IS NULL AND not_before <= ?1 AND created_at <= ?2
     ORDER BY not_before LIMIT ?3`,
  )
    .bind(horizon, now - SEND_LIMITS.republishAfterMs, SEND_LIMITS.publishSweepLimit)
    .all<DueSend>();
  return results;
}

/**
 * Where the deployment steps through time (REBOUND_ALLOW_FUTURE_TICKS, as `npm start` sets): sends a
 * future tick put on the queue with a delay (deferred past the customer's quiet hours), which the
 * queue counts in real time, once the simulated clock has reached them. They are published again
 * without a delay; a message published twice is harmless (the consumer claims each row once), and
 * a send already attempted is left to its retry schedule. Returns how many were published.
 */
export async function publishSimulatedDueSends(env: Env, now: number): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT id, not_before AS notBefore FROM sends
     WHERE status = 'queued' AND attempts = 0 AND enqueued_at IS NOT NULL AND enqueued_at < not_before
       AND not_before <= ?1
     ORDER BY not_before LIMIT ?2`,
  )
    .bind(now, SEND_LIMITS.publishSweepLimit)
    .all<DueSend>();
  return publishSends(env, results, now);
}
