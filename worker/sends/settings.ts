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
  /** First retry delay before jitter (RETRY_BASE_SECONDS; lower it locally to watch retries quickly). */
  retryBaseSeconds: number;
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
  const deliveryTimeoutMs = wholeNumber(
    "DELIVERY_TIMEOUT_MS",
    env.DELIVERY_TIMEOUT_MS,
    SEND_LIMITS.deliveryTimeoutMs,
    300_000,
  );
  return {
    defaultChannel: channel,
    deliveryTimeoutMs,
    leaseMs: deliveryTimeoutMs + SEND_LIMITS.leaseMarginMs,
    retryBaseSeconds: wholeNumber(
      "RETRY_BASE_SECONDS",
      env.RETRY_BASE_SECONDS,
      SEND_LIMITS.backoffBaseSeconds,
      3600,
    ),
  };
}

/** An optional whole-number setting from 1 to `max`, or `fallback` when unset. */
function wholeNumber(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new SendConfigError(`${name} is "${text}"; expected a whole number from 1 to ${max}`);
  }
  return value;
}
