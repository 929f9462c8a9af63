/**
 * The contract every delivery channel implements. The queue consumer renders a send into an
 * `OutgoingMessage`, hands it to the send's channel, and turns the `DeliveryOutcome` into a status.
 */
import type { ChannelName, ProgrammeKind, TemplateVariables } from "../sends/types";

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
}
