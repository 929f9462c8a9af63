/**
 * The send pipeline's settings as this deployment configures them (wrangler.toml [vars] and
 * secrets), read and checked in one place.
 */
import { isChannelName } from "../channels/registry";
import type { Env } from "../env";
import { SEND_LIMITS } from "./limits";
import type { ChannelName } from "./types";

export interface SendSettings {
  /** Channel for sends whose rules name none (DEFAULT_CHANNEL, "outbox" when unset). */
  defaultChannel: ChannelName;
  /** Time limit of one delivery request (DELIVERY_TIMEOUT_MS). */
  deliveryTimeoutMs: number;
  /** How long a `sending` claim lasts before a redelivered message may take the row over. */
  leaseMs: number;
}

/** A deployment setting that cannot work; thrown before anything is written or sent. */
export class SendConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SendConfigError";
  }
}

/** Reads and checks the settings from `env`. Throws `SendConfigError` on a value that cannot work. */
export function sendSettings(env: Env): SendSettings {
  const channel = env.DEFAULT_CHANNEL?.trim() || "outbox";
  if (!isChannelName(channel)) {
    throw new SendConfigError(
      `DEFAULT_CHANNEL is "${channel}"; expected one of outbox, webhook, resend, postmark, cloudflare_email`,
    );
  }
  let deliveryTimeoutMs: number = SEND_LIMITS.deliveryTimeoutMs;
  if (env.DELIVERY_TIMEOUT_MS !== undefined && env.DELIVERY_TIMEOUT_MS !== "") {
    deliveryTimeoutMs = Number(env.DELIVERY_TIMEOUT_MS);
    if (!Number.isInteger(deliveryTimeoutMs) || deliveryTimeoutMs < 1 || deliveryTimeoutMs > 300_000) {
      throw new SendConfigError(
        `DELIVERY_TIMEOUT_MS is "${env.DELIVERY_TIMEOUT_MS}"; expected whole milliseconds from 1 to 300000`,
      );
    }
  }
  return {
    defaultChannel: channel,
    deliveryTimeoutMs,
    leaseMs: deliveryTimeoutMs + SEND_LIMITS.leaseMarginMs,
  };
}
