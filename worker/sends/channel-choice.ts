/**
 * Maps the channel a message names in the rules (`email`, `in_app`, `webhook`, or none) onto a
 * delivery channel, for programmes building `SendRequest`s.
 */
import type { ChannelName } from "./types";

/**
 * The `SendRequest.channel` for a message whose rules name `rulesChannel`: `webhook` is the webhook
 * channel, `in_app` the outbox (the app reads it at GET /v1/outbox?customer_id=…), and `email` or
 * none the deployment's DEFAULT_CHANNEL (undefined, so enqueueSends applies it).
 */
export function channelForRulesChannel(
  rulesChannel: "email" | "in_app" | "webhook" | null,
): ChannelName | undefined {
  switch (rulesChannel) {
    case "webhook":
      return "webhook";
    case "in_app":
      return "outbox";
    case "email":
    case null:
      return undefined;
  }
}
