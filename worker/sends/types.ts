/**
 * The vocabulary of the send pipeline: what a programme asks to send, the row that records it,
 * and the queue message that carries it to the consumer.
 *
 * Flow: tick / programme → `enqueueSends` (rows + queue messages) → queue consumer
 * (`consumeSends`: claim, render, deliver, record) → `sent` | retry | `dead`.
 */

import type { ChannelName, ProgrammeKind, TemplateVariables } from "../channels/types";

// What a send shares with the channel that delivers it is defined below, in worker/channels/types.ts
// (channels never import sends); re-exported so the pipeline's vocabulary reads from one module.
export {
  CHANNEL_NAMES,
  type ChannelName,
  type JsonValue,
  PROGRAMME_KINDS,
  type ProgrammeKind,
  type TemplateVariables,
} from "../channels/types";

/**
 * A send's lifecycle: `queued` (row written, queue message published or due), `sending` (a consumer
 * holds a lease and is delivering), `sent` (the channel accepted it), `failed` (the last attempt
 * failed and a retry is scheduled), `dead` (given up; `last_error` says why).
 */
export const SEND_STATUSES = ["queued", "sending", "sent", "failed", "dead"] as const;
export type SendStatus = (typeof SEND_STATUSES)[number];

/**
 * One message a programme wants delivered to one customer. The tuple
 * (programmeKind, programmeKey, occurrence, step, customerId) is the send's identity: enqueueing the
 * same tuple again, from a retried or concurrent tick, creates nothing.
 */
export interface SendRequest {
  programmeKind: ProgrammeKind;
  /** The campaign key, dunning cadence key, inactivity threshold key or win-back reason. */
  programmeKey: string;
  /** Which run of the programme: a campaign occurrence's ISO time, a dunning case id, an inactivity spell start. */
  occurrence: string;
  /** The step within the occurrence, e.g. "0" or "day-3". */
  step: string;
  customerId: string;
  /** Key of the message template in the ruleset. */
  messageKey: string;
  /** The template variables (first_name, company_name, offer amount, update_url, ...), as of enqueue time. */
  variables: TemplateVariables;
  /** Email address to deliver to; required by the email channels, optional for webhook and outbox. */
  recipient?: string | null;
  /** Channel override from the rules; defaults to the environment's DEFAULT_CHANNEL. */
  channel?: ChannelName;
  /** Earliest delivery time (epoch ms), e.g. the end of the customer's quiet hours; defaults to `now`. */
  notBefore?: number;
}

/** A `sends` row as the pipeline reads it (snake_case columns, as D1 returns them). */
export interface SendRow {
  id: string;
  programme_kind: ProgrammeKind;
  programme_key: string;
  occurrence: string;
  step: string;
  customer_id: string;
  channel: ChannelName;
  message_key: string;
  recipient: string | null;
  variables: string;
  status: SendStatus;
  attempts: number;
  /** The attempt number after which the send gives up (raised when an operator retries it). */
  max_attempts: number;
  last_error: string | null;
  provider_message_id: string | null;
  not_before: number;
  created_at: number;
  enqueued_at: number | null;
  lease_expires_at: number | null;
  next_attempt_at: number | null;
  sent_at: number | null;
  updated_at: number;
}

/** The body of a message on the rebound-sends queue (and, after too many deliveries, its DLQ). */
export interface SendQueueMessage {
  /** Format version, so a consumer can refuse bodies it does not understand. */
  v: 1;
  sendId: string;
}
