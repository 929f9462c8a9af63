/**
 * An operator's second chance for a dead send (POST /v1/sends/:id/retry): after fixing what killed
 * it (a missing secret, a receiver that was down), the send goes back to `queued` with a fresh set
 * of attempts and is published at once. Nothing else ever revives a dead send. On a sharded
 * deployment the send is found on its customer's shard (its id's slot) and changed there.
 */
import { isSharded } from "../db/shards";
import type { Env } from "../env";
import { SEND_LIMITS } from "./limits";
import { findSend, getSend } from "./list";
import { publishSends } from "./publish";
import type { SendRow } from "./types";

/** What a retry request found. */
export type RetryDeadResult =
  | { kind: "requeued"; row: SendRow }
  | { kind: "not_dead"; row: SendRow }
  | { kind: "missing" };

/**
 * Requeues dead send `sendId` at `now`. `attempts` keeps counting (it fences stale claims); the
 * limit moves up by SEND_LIMITS.maxAttempts instead. The previous error stays readable in
 * `last_error` until the next attempt replaces it.
 */
export async function retryDeadSend(env: Env, sendId: string, now: number): Promise<RetryDeadResult> {
  if (!isSharded(env)) return retryOn(env, sendId, now);
  const found = await findSend(env, sendId);
  if (found === null) return { kind: "missing" };
  // Everything below (the update, the publish's stamp) happens on the send's own shard.
  return retryOn({ ...env, DB: found.db }, sendId, now);
}

async function retryOn(env: Env, sendId: string, now: number): Promise<RetryDeadResult> {
  const row = await env.DB.prepare(
    `UPDATE sends SET status = 'queued', max_attempts = attempts + ?2, not_before = ?3, enqueued_at = NULL,
       next_attempt_at = NULL, lease_expires_at = NULL, updated_at = ?3,
       last_error = 'retried by an operator after: ' || COALESCE(last_error, 'no error recorded')
     WHERE id = ?1 AND status = 'dead'
     RETURNING *`,
  )
    .bind(sendId, SEND_LIMITS.maxAttempts, now)
    .first<SendRow>();
  if (row) {
    await publishSends(env, [{ id: row.id, notBefore: now }], now);
    return { kind: "requeued", row: { ...row, enqueued_at: now } };
  }
  const current = await getSend(env.DB, sendId);
  return current ? { kind: "not_dead", row: current } : { kind: "missing" };
}
