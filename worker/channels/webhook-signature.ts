/**
 * Signing of outgoing webhooks. The header is `t=<unix seconds>,v1=<hex HMAC-SHA256>` over the
 * string "<t>.<body>", keyed with WEBHOOK_SECRET: the receiver recomputes it to reject forgeries and
 * compares `t` with its clock to reject replays (see docs/webhooks.md).
 */

/** Name of the header carrying the signature. */
export const SIGNATURE_HEADER = "Rebound-Signature";

const encoder = new TextEncoder();

/**
 * Computes the signature header value for `body` sent at `nowMs`.
 *
 * @example
 * await signWebhook("whsec_x", '{"id":"snd_1"}', Date.parse("2026-01-01T00:00:00Z"))
 * // → "t=1767225600,v1=5d1c…"
 */
export async function signWebhook(secret: string, body: string, nowMs: number): Promise<string> {
  const timestamp = Math.floor(nowMs / 1000);
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestamp}.${body}`));
  return `t=${timestamp},v1=${toHex(new Uint8Array(mac))}`;
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
