/**
 * The contract every delivery channel implements. The queue consumer renders a send into an
 * `OutgoingMessage`, hands it to the send's channel, and turns the `DeliveryOutcome` into a status.
 * The names a message carries (its channel, its programme, its template variables) are defined here,
 * below the send pipeline (worker/sends/types.ts re-exports them): channels import nothing above.
 */

/** The programmes that send messages. Together with key, occurrence and step it names one send. */
export const PROGRAMME_KINDS = ["campaign", "dunning", "card_expiry", "inactivity", "winback"] as const;
export type ProgrammeKind = (typeof PROGRAMME_KINDS)[number];

/** Delivery channels. Which one a send uses is fixed on its row when it is enqueued. */
export const CHANNEL_NAMES = ["outbox", "webhook", "resend", "postmark", "cloudflare_email"] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** A JSON value, as stored in the template-variable snapshot. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Variables a message template may use, snapshotted when the send is enqueued. */
export type TemplateVariables = { [name: string]: JsonValue };

/** A rendered message, ready for a channel. */
export interface OutgoingMessage {
  /** The send id: also the idempotency key every channel that supports one passes on. */
  sendId: string;
  customerId: string;
  /** Email address, when the send has one. */
  recipient: string | null;
  messageKey: string;
  subject: string;
  text: string;
  html: string | null;
  programme: { kind: ProgrammeKind; key: string; occurrence: string; step: string };
  variables: TemplateVariables;
}

/** What one delivery attempt came to. */
export type DeliveryOutcome =
  /** The channel accepted the message. */
  | { kind: "sent"; providerMessageId: string | null }
  /**
   * Worth trying again later (5xx, 429, timeout, network). `outcomeUnknown` is true when the request
   * may have reached the provider (a timeout or a dropped connection): repeating it is only safe on an
   * idempotent channel.
   */
  | { kind: "retryable"; error: string; outcomeUnknown: boolean; retryAfterSeconds?: number }
  /** Will not succeed by repeating it (a 4xx, a bad address, a missing secret). */
  | { kind: "permanent"; error: string };

/** Per-attempt facts a channel needs: the clock and the request time limit. */
export interface DeliveryContext {
  /** The attempt's time (epoch ms): webhook signatures are stamped with it. */
  now: number;
  /** Limit for the provider request, enforced with AbortSignal.timeout. */
  timeoutMs: number;
}

/** A delivery channel. */
export interface Channel {
  readonly name: ChannelName;
  /**
   * True when the provider deduplicates on the send id (Idempotency-Key header or primary key), so
   * an attempt whose outcome is unknown can be repeated without a second message reaching anyone.
   */
  readonly idempotent: boolean;
  deliver(message: OutgoingMessage, context: DeliveryContext): Promise<DeliveryOutcome>;
  /**
   * Only for a channel whose delivery is a write to Rebound's own D1 database (the outbox): the
   * statement that delivers `message`, which always succeeds as `sent` with the send id as provider
   * message id. The consumer runs it in the D1 batch that records the outcome, so the message and
   * its `sent` status are stored together, in one round trip for a whole queue batch.
   */
  deliveryStatement?(message: OutgoingMessage, context: DeliveryContext): D1PreparedStatement;
}
