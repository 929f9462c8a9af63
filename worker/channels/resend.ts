/**
 * The Resend channel: `POST {base}/emails` with a Bearer key. Resend keeps Idempotency-Key for 24
 * hours and answers a repeat with the first email's id, so a repeated attempt never sends twice.
 */
import { classifyHttpFailure, isHttpFailure, parseJsonBody, postJson } from "./http";
import type { Channel, DeliveryContext, DeliveryOutcome, OutgoingMessage } from "./types";

export const RESEND_DEFAULT_BASE_URL = "https://api.resend.com";

export interface ResendConfig {
  /** RESEND_API_KEY. */
  apiKey: string | undefined;
  /** Sender, e.g. "Acme <billing@acme.com>" (EMAIL_FROM). */
  from: string | undefined;
  /** RESEND_BASE_URL, default https://api.resend.com (tests point it at loopback). */
  baseUrl: string;
}

/** Builds the Resend channel from its configuration. */
export function resendChannel(config: ResendConfig): Channel {
  return {
    name: "resend",
    idempotent: true,
    async deliver(message: OutgoingMessage, context: DeliveryContext): Promise<DeliveryOutcome> {
      if (!config.apiKey) return { kind: "permanent", error: "resend channel: RESEND_API_KEY is not set" };
      if (!config.from) return { kind: "permanent", error: "resend channel: EMAIL_FROM is not set" };
      if (!message.recipient)
        return { kind: "permanent", error: "resend channel: the send has no recipient" };
      const body = JSON.stringify({
        from: config.from,
        to: [message.recipient],
        subject: message.subject,
        text: message.text,
        ...(message.html === null ? {} : { html: message.html }),
        // Resend tags allow only ASCII letters, digits, "_" and "-".
        tags: [
          { name: "programme", value: message.programme.kind },
          { name: "message", value: tagValue(message.messageKey) },
        ],
      });
      const answer = await postJson(
        `${config.baseUrl.replace(/\/+$/, "")}/emails`,
        body,
        { authorization: `Bearer ${config.apiKey}`, "Idempotency-Key": message.sendId },
        context.timeoutMs,
      );
      if (isHttpFailure(answer)) return answer;
      if (answer.status >= 200 && answer.status < 300) {
        const parsed = parseJsonBody(answer.bodyText) as { id?: unknown } | undefined;
        return { kind: "sent", providerMessageId: typeof parsed?.id === "string" ? parsed.id : null };
      }
      // 409 concurrent_idempotent_requests: an earlier attempt with this key is still in flight.
      if (answer.status === 409 && answer.bodyText.includes("concurrent_idempotent_requests")) {
        return {
          kind: "retryable",
          error: `resend answered HTTP 409: ${answer.bodyText.slice(0, 300)}`,
          outcomeUnknown: false,
        };
      }
      return classifyHttpFailure("resend", answer);
    },
  };
}

function tagValue(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 256);
}
