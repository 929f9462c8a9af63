/**
 * Send ids: "snd_" + 12 hex digits of the creation time (epoch ms) + 4 hex digits of the send's
 * position in its enqueue call + 12 random hex digits. They sort by creation (and by request order
 * within one call), which makes them the keyset of GET /v1/sends, and they are the idempotency key
 * every channel passes on to its provider.
 */

/** A new send id created at `now` (epoch ms), the `sequence`-th of its enqueue call. */
export function newSendId(now: number, sequence: number): string {
  const random = new Uint8Array(6);
  crypto.getRandomValues(random);
  let suffix = "";
  for (const byte of random) suffix += byte.toString(16).padStart(2, "0");
  const time = Math.max(0, Math.floor(now)).toString(16).padStart(12, "0");
  const position = (sequence & 0xffff).toString(16).padStart(4, "0");
  return `snd_${time}${position}${suffix}`;
}

/** True when `value` has the shape of a send id (used to validate pagination cursors). */
export function isSendId(value: string): boolean {
  return /^snd_[0-9a-f]{28}$/.test(value);
}
