/**
 * The webhook channel: POSTs the rendered message as JSON to the customer's own endpoint, signed
 * with HMAC-SHA256 and carrying the send id as `Idempotency-Key`, so the receiver can verify it and
 * drop a repeat. Documented for receivers in docs/webhooks.md.
 */
import { classifyHttpFailure, isHttpFailure, postJson } from "./http";
import type { Channel, DeliveryContext, DeliveryOutcome, OutgoingMessage } from "./types";
import { SIGNATURE_HEADER, signWebhook } from "./webhook-signature";

export interface WebhookConfig {
  /** Where messages are POSTed (WEBHOOK_URL). */
  url: string | undefined;
  /** HMAC key (WEBHOOK_SECRET). Unsigned webhooks are never sent. */
  secret: string | undefined;
}

/** The JSON body a webhook receiver gets (docs/webhooks.md documents every field). */
export interface WebhookPayload {
  id: string;
  type: "message.send";
  sent_at: string;
  customer_id: string;
  recipient: string | null;
  programme: { kind: string; key: string; occurrence: string; step: string };
  message: { key: string; subject: string; text: string; html: string | null };
  variables: OutgoingMessage["variables"];
}

/** Builds the webhook channel from its configuration. */
export function webhookChannel(config: WebhookConfig): Channel {
  return {
    name: "webhook",
    idempotent: true,
    async deliver(message: OutgoingMessage, context: DeliveryContext): Promise<DeliveryOutcome> {
      if (!config.url) return { kind: "permanent", error: "webhook channel: WEBHOOK_URL is not set" };
      if (!config.secret) return { kind: "permanent", error: "webhook channel: WEBHOOK_SECRET is not set" };
      const payload: WebhookPayload = {
        id: message.sendId,
        type: "message.send",
        sent_at: new Date(context.now).toISOString(),
        customer_id: message.customerId,
        recipient: message.recipient,
        programme: message.programme,
        message: {
          key: message.messageKey,
          subject: message.subject,
          text: message.text,
          html: message.html,
        },
        variables: message.variables,
      };
      const body = JSON.stringify(payload);
      const signature = await signWebhook(config.secret, body, context.now);
      const answer = await postJson(
        config.url,
        body,
        {
          [SIGNATURE_HEADER]: signature,
          "Idempotency-Key": message.sendId,
          "user-agent": "Rebound-Webhooks/1",
        },
        context.timeoutMs,
      );
      if (isHttpFailure(answer)) return answer;
      if (answer.status >= 200 && answer.status < 300) return { kind: "sent", providerMessageId: null };
      return classifyHttpFailure("webhook receiver", answer);
    },
  };
}
