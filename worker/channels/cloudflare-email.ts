/**
 * The cloudflare_email channel: sends through the Worker's `send_email` binding (EMAIL), which
 * miniflare also runs locally (it logs the message and keeps a copy on disk). The binding has no
 * idempotency key, so an attempt whose outcome is unknown is not repeated (see docs/sends.md).
 */
import type { Channel, DeliveryContext, DeliveryOutcome, OutgoingMessage } from "./types";

export interface CloudflareEmailConfig {
  /** The send_email binding (EMAIL in wrangler.toml). */
  binding: SendEmail | undefined;
  /** Sender address on a domain onboarded to Cloudflare Email (EMAIL_FROM). */
  from: string | undefined;
}

/** Builds the cloudflare_email channel from its binding and sender. */
export function cloudflareEmailChannel(config: CloudflareEmailConfig): Channel {
  return {
    name: "cloudflare_email",
    idempotent: false,
    async deliver(message: OutgoingMessage, _context: DeliveryContext): Promise<DeliveryOutcome> {
      if (!config.binding) return { kind: "permanent", error: "cloudflare_email channel: no EMAIL binding" };
      if (!config.from)
        return { kind: "permanent", error: "cloudflare_email channel: EMAIL_FROM is not set" };
      if (!message.recipient) {
        return { kind: "permanent", error: "cloudflare_email channel: the send has no recipient" };
      }
      try {
        const result = await config.binding.send({
          from: config.from,
          to: message.recipient,
          subject: message.subject,
          text: message.text,
          ...(message.html === null ? {} : { html: message.html }),
          headers: { "X-Rebound-Send-Id": message.sendId },
        });
        return { kind: "sent", providerMessageId: result.messageId };
      } catch (error) {
        // The binding throws instead of sending, so the outcome is known. Its errors carry no code that
        // separates a transient platform fault from a rejected address, so every one is retried and a
        // permanent rejection ends dead after the attempt limit, its message on the row.
        const text = error instanceof Error ? error.message : String(error);
        return { kind: "retryable", error: `cloudflare_email channel: ${text}`, outcomeUnknown: false };
      }
    },
  };
}
