/**
 * The Postmark channel: `POST {base}/email` with X-Postmark-Server-Token. Postmark has no
 * idempotency key, so an attempt whose outcome is unknown is not repeated (see docs/sends.md); the
 * send id travels in Metadata so a support person can find the message in Postmark's activity log.
 */
import { classifyHttpFailure, isHttpFailure, parseJsonBody, postJson } from "./http";
import type { Channel, DeliveryContext, DeliveryOutcome, OutgoingMessage } from "./types";

export const POSTMARK_DEFAULT_BASE_URL = "https://api.postmarkapp.com";

export interface PostmarkConfig {
  /** POSTMARK_TOKEN (a server token). */
  serverToken: string | undefined;
  /** Sender (EMAIL_FROM): a confirmed sender signature. */
  from: string | undefined;
  /** POSTMARK_MESSAGE_STREAM, default "outbound". */
  messageStream: string;
  /** POSTMARK_BASE_URL, default https://api.postmarkapp.com (tests point it at loopback). */
  baseUrl: string;
}

/** Builds the Postmark channel from its configuration. */
export function postmarkChannel(config: PostmarkConfig): Channel {
  return {
    name: "postmark",
    idempotent: false,
    async deliver(message: OutgoingMessage, context: DeliveryContext): Promise<DeliveryOutcome> {
      if (!config.serverToken)
        return { kind: "permanent", error: "postmark channel: POSTMARK_TOKEN is not set" };
      if (!config.from) return { kind: "permanent", error: "postmark channel: EMAIL_FROM is not set" };
      if (!message.recipient)
        return { kind: "permanent", error: "postmark channel: the send has no recipient" };
      const body = JSON.stringify({
        From: config.from,
        To: message.recipient,
        Subject: message.subject,
        TextBody: message.text,
        ...(message.html === null ? {} : { HtmlBody: message.html }),
        Tag: message.messageKey.slice(0, 1000),
        Metadata: { rebound_send_id: message.sendId, rebound_programme: message.programme.kind },
        MessageStream: config.messageStream,
      });
      const answer = await postJson(
        `${config.baseUrl.replace(/\/+$/, "")}/email`,
        body,
        { "X-Postmark-Server-Token": config.serverToken },
        context.timeoutMs,
      );
      if (isHttpFailure(answer)) return answer;
      const parsed = parseJsonBody(answer.bodyText) as
        | { MessageID?: unknown; ErrorCode?: unknown }
        | undefined;
      if (answer.status >= 200 && answer.status < 300 && (parsed?.ErrorCode ?? 0) === 0) {
        return {
          kind: "sent",
          providerMessageId: typeof parsed?.MessageID === "string" ? parsed.MessageID : null,
        };
      }
      return classifyHttpFailure("postmark", answer);
    },
  };
}
