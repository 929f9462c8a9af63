/**
 * The status transitions of a `sends` row, each one conditional UPDATE so that concurrent or
 * redelivered queue messages cannot both win:
 *
 *   queued | failed ──claim──▶ sending ──▶ sent
 *                                 │  └───▶ failed (retry scheduled) ──▶ … ──▶ dead
 *                                 └──────▶ dead (permanent error, attempts exhausted)
 *   sending (lease lapsed: the consumer died mid-delivery) ──takeover──▶ sending
 *
 * Every claim increments `attempts`, and the later transitions require the attempt number they were
 * claimed with, so a consumer whose lease lapsed cannot overwrite the outcome of the one that took over.
 */
import { SEND_LIMITS } from "./limits";
import { getSend } from "./list";
import type { SendRow } from "./types";

/** What a claim attempt found. */
export type ClaimResult =
  /** This consumer now holds the row; `resumed` means it took over from a consumer that died mid-delivery. */
  | { kind: "claimed"; row: SendRow; resumed: boolean }
  /** Nothing to do: the row is already `sent` or `dead`. */
  | { kind: "finished"; row: SendRow }
  /** Another consumer holds the row until `leaseExpiresAt`. */
  | { kind: "busy"; leaseExpiresAt: number }
  /** The send is deferred (quiet hours) and not due before `dueAt`. */
  | { kind: "early"; dueAt: number }
  /** No such row (the message outlived its row). */
  | { kind: "missing" };

/** A message arriving this early for a deferred send is delivered anyway: queue delays are whole seconds. */
const NOT_BEFORE_SLACK_MS = 1_000;

/**
 * Claims the row for delivery at `now`, holding it for `leaseMs`.
 */
export async function claimSend(
  db: D1Database,
  sendId: string,
  now: number,
  leaseMs: number,
): Promise<ClaimResult> {
  const fresh = await db
    .prepare(
      `UPDATE sends SET status = 'sending', attempts = attempts + 1, lease_expires_at = ?2,
         next_attempt_at = NULL, updated_at = ?3
       WHERE id = ?1 AND status IN ('queued', 'failed') AND not_before <= ?3 + ?4
       RETURNING *`,
    )
    .bind(sendId, now + leaseMs, now, NOT_BEFORE_SLACK_MS)
    .first<SendRow>();
  if (fresh) return { kind: "claimed", row: fresh, resumed: false };

  const takenOver = await db
    .prepare(
      `UPDATE sends SET attempts = attempts + 1, lease_expires_at = ?2, updated_at = ?3
       WHERE id = ?1 AND status = 'sending' AND lease_expires_at <= ?3
       RETURNING *`,
    )
    .bind(sendId, now + leaseMs, now)
    .first<SendRow>();
  if (takenOver) return { kind: "claimed", row: takenOver, resumed: true };

  const current = await getSend(db, sendId);
  if (!current) return { kind: "missing" };
  if (current.status === "sending") return { kind: "busy", leaseExpiresAt: current.lease_expires_at ?? now };
  if (current.status === "sent" || current.status === "dead") return { kind: "finished", row: current };
  if (current.not_before > now + NOT_BEFORE_SLACK_MS) return { kind: "early", dueAt: current.not_before };
  // It changed between the statements (another consumer finished a failed attempt): try once more later.
  return { kind: "busy", leaseExpiresAt: now };
}

/**
 * Claims, in one statement, every send among `sendIds` that is `queued` or `failed` and due, for
 * `leaseMs` from `now`. Returns the claimed rows by id; ids not returned (taken over, busy, finished,
 * deferred, missing) are for `claimSend` to sort out one by one.
 */
export async function claimDueSends(
  db: D1Database,
  sendIds: readonly string[],
  now: number,
  leaseMs: number,
): Promise<Map<string, SendRow>> {
  if (sendIds.length === 0) return new Map();
  // The ids travel as one JSON array: D1 allows 100 bound parameters and a batch may hold more.
  const { results } = await db
    .prepare(
      `UPDATE sends SET status = 'sending', attempts = attempts + 1, lease_expires_at = ?2,
         next_attempt_at = NULL, updated_at = ?3
       WHERE id IN (SELECT value FROM json_each(?1)) AND status IN ('queued', 'failed') AND not_before <= ?3 + ?4
       RETURNING *`,
    )
    .bind(JSON.stringify(sendIds), now + leaseMs, now, NOT_BEFORE_SLACK_MS)
    .all<SendRow>();
  return new Map(results.map((row) => [row.id, row]));
}

/** Records a delivery the channel accepted. False when this claim had already been superseded. */
export async function markSent(
  db: D1Database,
  claim: SendRow,
  now: number,
  providerMessageId: string | null,
): Promise<boolean> {
  return changedRows(await markSentStatement(db, claim, now, providerMessageId).run());
}

/*
 * The outcomes of a claim, as statements: the consumer records a whole queue batch's outcomes in one
 * D1 batch (worker/sends/consume.ts). Each changes its row (`changedRows`) only while the claim it
 * names is current, so an outcome recorded after a takeover changes nothing.
 */

/** A delivery the channel accepted: `sent`, with the provider's message id. */
export function markSentStatement(
  db: D1Database,
  claim: SendRow,
  now: number,
  providerMessageId: string | null,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE sends SET status = 'sent', sent_at = ?3, provider_message_id = ?4, lease_expires_at = NULL,
         updated_at = ?3
       WHERE id = ?1 AND status = 'sending' AND attempts = ?2`,
    )
    .bind(claim.id, claim.attempts, now, providerMessageId);
}

/** A failed attempt whose retry is due at `nextAttemptAt`: `failed`, with the error. */
export function markFailedStatement(
  db: D1Database,
  claim: SendRow,
  now: number,
  error: string,
  nextAttemptAt: number,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE sends SET status = 'failed', last_error = ?3, next_attempt_at = ?4, lease_expires_at = NULL,
         updated_at = ?5
       WHERE id = ?1 AND status = 'sending' AND attempts = ?2`,
    )
    .bind(claim.id, claim.attempts, truncateError(error), nextAttemptAt, now);
}

/** Giving up on a send this consumer holds: `dead`, keeping the reason. */
export function markDeadStatement(
  db: D1Database,
  claim: SendRow,
  now: number,
  error: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE sends SET status = 'dead', last_error = ?3, lease_expires_at = NULL, next_attempt_at = NULL,
         updated_at = ?4
       WHERE id = ?1 AND status = 'sending' AND attempts = ?2`,
    )
    .bind(claim.id, claim.attempts, truncateError(error), now);
}

/** True when a conditional UPDATE changed its row: the claim it names was still current. */
export function changedRows(result: D1Result): boolean {
  return result.meta.changes > 0;
}

/** What the dead-letter consumer did with a row. */
export type DeadLetterResult =
  | { kind: "dead"; row: SendRow }
  | { kind: "finished"; row: SendRow }
  | { kind: "busy"; leaseExpiresAt: number }
  | { kind: "missing" };

/**
 * Marks dead a send whose queue message the queue gave up on, keeping its last error (or saying
 * that the queue gave up). A row another consumer still holds is left alone until its lease lapses.
 */
export async function markDeadLettered(
  db: D1Database,
  sendId: string,
  now: number,
): Promise<DeadLetterResult> {
  const row = await db
    .prepare(
      `UPDATE sends SET status = 'dead', lease_expires_at = NULL, next_attempt_at = NULL, updated_at = ?2,
         last_error = CASE
           WHEN status = 'sending' THEN 'dead-lettered while an attempt was in progress; the outcome of attempt '
             || attempts || ' is unknown' || COALESCE(' (earlier error: ' || last_error || ')', '')
           ELSE COALESCE(last_error, 'dead-lettered: the queue gave up delivering this send') END
       WHERE id = ?1 AND (status IN ('queued', 'failed') OR (status = 'sending' AND lease_expires_at <= ?2))
       RETURNING *`,
    )
    .bind(sendId, now)
    .first<SendRow>();
  if (row) return { kind: "dead", row };
  const current = await getSend(db, sendId);
  if (!current) return { kind: "missing" };
  if (current.status === "sending") return { kind: "busy", leaseExpiresAt: current.lease_expires_at ?? now };
  return { kind: "finished", row: current };
}

function truncateError(error: string): string {
  return error.length > SEND_LIMITS.maxErrorLength
    ? `${error.slice(0, SEND_LIMITS.maxErrorLength - 1)}…`
    : error;
}
