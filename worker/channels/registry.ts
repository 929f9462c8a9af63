/**
 * Which channel delivers a send, built from the environment's bindings and secrets. The consumer
 * asks for the channel named on the send's row; nothing else constructs channels.
 */
import type { Env } from "../env";
import { cloudflareEmailChannel } from "./cloudflare-email";
import { outboxChannel } from "./outbox";
import { POSTMARK_DEFAULT_BASE_URL, postmarkChannel } from "./postmark";
import { RESEND_DEFAULT_BASE_URL, resendChannel } from "./resend";
import { CHANNEL_NAMES, type Channel, type ChannelName } from "./types";
import { webhookChannel } from "./webhook";

/** True when `name` is one of Rebound's channels. */
export function isChannelName(name: string): name is ChannelName {
  return (CHANNEL_NAMES as readonly string[]).includes(name);
}

/** Builds the channel `name` from `env` (secrets that are missing surface as a permanent delivery error). */
export function channelFor(name: ChannelName, env: Env): Channel {
  switch (name) {
    case "outbox":
      return outboxChannel(env.DB);
    case "webhook":
      return webhookChannel({ url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET });
    case "resend":
      return resendChannel({
        apiKey: env.RESEND_API_KEY,
        from: env.EMAIL_FROM,
        baseUrl: env.RESEND_BASE_URL || RESEND_DEFAULT_BASE_URL,
      });
    case "postmark":
      return postmarkChannel({
        serverToken: env.POSTMARK_TOKEN,
        from: env.EMAIL_FROM,
        messageStream: env.POSTMARK_MESSAGE_STREAM || "outbound",
        baseUrl: env.POSTMARK_BASE_URL || POSTMARK_DEFAULT_BASE_URL,
      });
    case "cloudflare_email":
      return cloudflareEmailChannel({ binding: env.EMAIL, from: env.EMAIL_FROM });
  }
}
