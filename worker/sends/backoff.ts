/**
 * How long a failed send waits before its next attempt: exponential backoff with jitter, capped.
 * The jitter is derived from the send id and attempt number rather than Math.random, so sends that
 * failed together spread out, and the same inputs always give the same delay (tests assert it).
 */
import { SEND_LIMITS } from "./limits";

/**
 * Seconds to wait after failed attempt number `attempt` (1-based): a uniform point in the upper half
 * of base·2^(attempt-1), capped at `backoffMaxSeconds`, and never sooner than the provider's
 * Retry-After. `baseSeconds` is RETRY_BASE_SECONDS when set (see `sendSettings`).
 *
 * @example
 * retryDelaySeconds("snd_…", 1) // between 15 and 30
 * retryDelaySeconds("snd_…", 3) // between 60 and 120
 */
export function retryDelaySeconds(
  sendId: string,
  attempt: number,
  retryAfterSeconds?: number,
  baseSeconds: number = SEND_LIMITS.backoffBaseSeconds,
): number {
  const exponential = Math.min(SEND_LIMITS.backoffMaxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.ceil(exponential / 2 + (exponential / 2) * unitJitter(`${sendId}#${attempt}`));
  const delay = Math.max(jittered, retryAfterSeconds ?? 0);
  return Math.min(delay, SEND_LIMITS.maxQueueDelaySeconds);
}

/** FNV-1a of `text`, mapped onto [0, 1). */
function unitJitter(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000;
}
