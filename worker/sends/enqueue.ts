/**
 * The entry point programmes call to send messages: writes one `sends` row per request (the unique
 * key makes a repeated or concurrent call a no-op) and publishes a queue message for each new row.
 *
 * Flow: tick / programme → enqueueSends → rebound-sends queue → consumeSends (worker/sends/consume.ts).
 */

import { customerSlot } from "../db/shards";
import type { Env } from "../env";
import { newSendId } from "../ids";
import { SEND_LIMITS } from "./limits";
import { type DueSend, publishSends } from "./publish";
import { sendSettings } from "./settings";
import type { ChannelName, SendRequest } from "./types";
import { findSendRequestProblems, SendRequestError } from "./validate";

/** What one enqueueSends call did. */
export interface EnqueueResult {
  /** Rows written by this call (their ids, in request order). */
  createdIds: string[];
  /** Requests whose send already existed (an earlier or concurrent tick wrote it): nothing was done. */
  duplicates: number;
  /** New sends published to the queue now. */
  published: number;
  /** New sends due more than 12 hours out, left for `publishDueSends` to publish when they come in range. */
  deferred: number;
}

/** Largest JSON text bound as one parameter (D1 allows up to 2 MB per value; stay well under). */
const MAX_CHUNK_BYTES = 900_000;

/**
 * Enqueues sends, exactly once per (programmeKind, programmeKey, occurrence, step, customerId).
 *
 * Validates every request first (`SendRequestError` lists all problems; nothing is written), then
 * inserts the rows with `ON CONFLICT DO NOTHING`: a request whose send exists, from this call or any
 * earlier or concurrent one, creates no row and no queue message. New rows are published in batches
 * of 100, delayed to their `notBefore`.
 *
 * @param now the tick's time (epoch ms): becomes `created_at` and the default `notBefore`.
 * @example
 * await enqueueSends(env, [{
 *   programmeKind: "dunning", programmeKey: "default", occurrence: "inv_123", step: "day-3",
 *   customerId: "cus_1", messageKey: "dunning_day_3", recipient: "ada@example.com",
 *   variables: { first_name: "Ada", card_last4: "4242", update_url: "https://…" },
 * }], scheduledTime);
 */
export async function enqueueSends(
  env: Env,
  sends: readonly SendRequest[],
  now: number,
): Promise<EnqueueResult> {
  const rows = sendRows(env, sends, now);

  const created: DueSend[] = [];
  for (const chunk of chunkRows(rows)) {
    // One bound JSON array per statement: D1 allows at most 100 bound parameters.
    const { results } = await env.DB.prepare(
      `INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel,
         message_key, recipient, variables, status, attempts, max_attempts, not_before, created_at, updated_at)
       SELECT r.value ->> 'id', r.value ->> 'programme_kind', r.value ->> 'programme_key',
         r.value ->> 'occurrence', r.value ->> 'step', r.value ->> 'customer_id', r.value ->> 'channel',
         r.value ->> 'message_key', r.value ->> 'recipient', r.value ->> 'variables', 'queued', 0, ?3,
         r.value ->> 'not_before', ?2, ?2
       FROM json_each(?1) AS r WHERE true
       ON CONFLICT (programme_kind, programme_key, occurrence, step, customer_id) DO NOTHING
       RETURNING id, not_before AS notBefore`,
    )
      .bind(JSON.stringify(chunk), now, SEND_LIMITS.maxAttempts)
      .all<DueSend>();
    created.push(...results);
  }

  const horizon = now + SEND_LIMITS.maxQueueDelaySeconds * 1000;
  const dueSoon = created.filter((send) => send.notBefore <= horizon);
  const published = await publishSends(env, dueSoon, now);
  const createdIdSet = new Set(created.map((send) => send.id));
  return {
    createdIds: rows.filter((row) => createdIdSet.has(row.id)).map((row) => row.id),
    duplicates: sends.length - created.length,
    published,
    deferred: created.length - dueSoon.length,
  };
}

/** A `sends` row as enqueueSends would write it (`variables` as its JSON text). */
export interface SendRowDraft {
  readonly id: string;
  readonly programme_kind: SendRequest["programmeKind"];
  readonly programme_key: string;
  readonly occurrence: string;
  readonly step: string;
  readonly customer_id: string;
  readonly channel: ChannelName;
  readonly message_key: string;
  readonly recipient: string | null;
  readonly variables: string;
  readonly not_before: number;
}

/**
 * What enqueueSends would write for `sends`, read-only (a dry tick, worker/tick/dry-run.ts): the
 * same validation (a bad request throws `SendRequestError` here too), the same rows, and which of
 * them a send already stored has taken (`exists`: the INSERT would skip it as a conflict).
 */
export async function previewSends(
  env: Env,
  sends: readonly SendRequest[],
  now: number,
): Promise<{ row: SendRowDraft; exists: boolean }[]> {
  const rows = sendRows(env, sends, now);
  const existing = new Set<number>();
  let offset = 0;
  for (const chunk of chunkRows(rows)) {
    // sends_programme_occurrence_step_customer, one probe per row; the keys travel as one bound JSON array.
    const { results } = await env.DB.prepare(
      `SELECT r.key AS i FROM json_each(?1) AS r
       WHERE EXISTS (SELECT 1 FROM sends s WHERE s.programme_kind = r.value ->> 'programme_kind'
         AND s.programme_key = r.value ->> 'programme_key' AND s.occurrence = r.value ->> 'occurrence'
         AND s.step = r.value ->> 'step' AND s.customer_id = r.value ->> 'customer_id')`,
    )
      .bind(JSON.stringify(chunk))
      .all<{ i: number }>();
    for (const { i } of results) existing.add(offset + i);
    offset += chunk.length;
  }
  return rows.map((row, index) => ({ row, exists: existing.has(index) }));
}

/** The rows for `sends`, after checking every request (nothing is written when one is bad). */
function sendRows(env: Env, sends: readonly SendRequest[], now: number): SendRowDraft[] {
  const problems = findSendRequestProblems(sends);
  if (problems.length > 0) throw new SendRequestError(problems);
  const { defaultChannel } = sendSettings(env);
  return sends.map((send, index) => ({
    id: newSendId(now, index, customerSlot(send.customerId)),
    programme_kind: send.programmeKind,
    programme_key: send.programmeKey,
    occurrence: send.occurrence,
    step: send.step,
    customer_id: send.customerId,
    channel: send.channel ?? defaultChannel,
    message_key: send.messageKey,
    recipient: send.recipient ?? null,
    variables: JSON.stringify(send.variables),
    not_before: Math.max(now, Math.floor(send.notBefore ?? now)),
  }));
}

function* chunkRows<T>(rows: readonly T[]): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = JSON.stringify(row).length;
    if (chunk.length > 0 && (chunk.length >= SEND_LIMITS.insertChunkSize || bytes + size > MAX_CHUNK_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
