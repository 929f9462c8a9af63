/**
 * Authenticating a billing provider's webhook on the raw body, before anything parses it: Stripe's
 * `Stripe-Signature`, Paddle Billing's `Paddle-Signature` (HMAC-SHA256 over the timestamp and the
 * body, refused when the timestamp is more than SIGNATURE_TOLERANCE_SECONDS from now, replay
 * protection) and Chargebee's HTTP Basic credentials. Mirrors the signing of our own outgoing
 * webhooks (worker/channels/webhook-signature.ts). Every comparison is constant-time
 * (`crypto.subtle.verify`, `timingSafeEqual`), and every configured secret is tried, so a secret can
 * be rolled by listing the new one beside the old (comma-separated).
 *
 * Stage: first step of worker/api/routes/provider-webhooks.ts; next, the provider's mapping.
 */
import { ApiError, ChallengeError } from "../errors";

/** How far a signed timestamp may be from now, in seconds (Stripe's and Paddle's default). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

/** The comma-separated values of a secret, trimmed; empty when unset. */
export function secretsOf(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
}

function notConfigured(provider: string, variables: string): ApiError {
  return new ApiError(
    503,
    "webhook_not_configured",
    `${provider} webhooks are not configured: set ${variables} (\`wrangler secret put\`; locally .dev.vars). See docs/providers.md.`,
  );
}

/**
 * Verifies `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>]` over `"{t}.{rawBody}"`, keyed with
 * each of `secrets` (the endpoint's `whsec_…` secret, used as UTF-8 bytes as Stripe does).
 *
 * @throws ChallengeError 401 when the header is missing, no signature matches, or `t` is stale;
 *   ApiError 503 when no secret is configured
 */
export async function verifyStripe(
  header: string | undefined,
  rawBody: Uint8Array,
  secrets: readonly string[],
  nowMs: number,
): Promise<void> {
  if (secrets.length === 0) throw notConfigured("Stripe", "STRIPE_WEBHOOK_SECRET");
  const fields = parseFields(header, ",");
  await verifyTimestamped(
    "Stripe-Signature",
    fields.get("t")?.[0],
    fields.get("v1") ?? [],
    ".",
    rawBody,
    secrets,
    nowMs,
  );
}

/**
 * Verifies `Paddle-Signature: ts=<unix s>;h1=<hex>[;h1=<hex>]` over `"{ts}:{rawBody}"`, keyed with
 * each of `secrets` (the notification destination's secret key).
 *
 * @throws as verifyStripe
 */
export async function verifyPaddle(
  header: string | undefined,
  rawBody: Uint8Array,
  secrets: readonly string[],
  nowMs: number,
): Promise<void> {
  if (secrets.length === 0) throw notConfigured("Paddle", "PADDLE_WEBHOOK_SECRET");
  const fields = parseFields(header, ";");
  await verifyTimestamped(
    "Paddle-Signature",
    fields.get("ts")?.[0],
    fields.get("h1") ?? [],
    ":",
    rawBody,
    secrets,
    nowMs,
  );
}

/**
 * Verifies `Authorization: Basic …` against the configured username(s) and password(s). Every
 * candidate is compared, by SHA-256 digest in constant time, so the answer's timing tells nothing.
 *
 * @throws ChallengeError 401 (challenge `Basic`) when missing or wrong; ApiError 503 when unset
 */
export async function verifyChargebee(
  authorization: string | undefined,
  usernames: readonly string[],
  passwords: readonly string[],
): Promise<void> {
  if (usernames.length === 0 || passwords.length === 0) {
    throw notConfigured("Chargebee", "CHARGEBEE_WEBHOOK_USERNAME and CHARGEBEE_WEBHOOK_PASSWORD");
  }
  const challenge = 'Basic realm="rebound-chargebee", charset="UTF-8"';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? "");
  if (!match) {
    throw new ChallengeError(
      "webhook_signature_missing",
      "Chargebee webhooks must carry HTTP Basic credentials (`Authorization: Basic …`).",
      challenge,
    );
  }
  let decoded = "";
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(atob(match[1]!), (char) => char.charCodeAt(0)),
    );
  } catch {
    decoded = "";
  }
  const colon = decoded.indexOf(":");
  const username = colon < 0 ? "" : decoded.slice(0, colon);
  const password = colon < 0 ? "" : decoded.slice(colon + 1);
  const [userOk, passwordOk] = await Promise.all([
    matchesAny(username, usernames),
    matchesAny(password, passwords),
  ]);
  if (colon < 0 || !userOk || !passwordOk) {
    throw new ChallengeError(
      "webhook_signature_invalid",
      "The Chargebee webhook credentials are wrong.",
      challenge,
    );
  }
}

/** True when `presented` equals one of `candidates`; compares with every one, in constant time. */
async function matchesAny(presented: string, candidates: readonly string[]): Promise<boolean> {
  const digest = async (text: string) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  const wanted = await digest(presented);
  let found = false;
  for (const candidate of candidates) {
    if (crypto.subtle.timingSafeEqual(wanted, await digest(candidate))) found = true;
  }
  return found;
}

/** `k=v` pairs of a signature header, each key with every value it was given. */
function parseFields(header: string | undefined, separator: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const part of (header ?? "").split(separator)) {
    const equals = part.indexOf("=");
    if (equals < 0) continue;
    const key = part.slice(0, equals).trim();
    const value = part.slice(equals + 1).trim();
    fields.set(key, [...(fields.get(key) ?? []), value]);
  }
  return fields;
}

async function verifyTimestamped(
  headerName: string,
  timestampText: string | undefined,
  signatures: readonly string[],
  joiner: string,
  rawBody: Uint8Array,
  secrets: readonly string[],
  nowMs: number,
): Promise<void> {
  const challenge = `Signature realm="rebound", header="${headerName}"`;
  if (timestampText === undefined || !/^\d{1,12}$/.test(timestampText) || signatures.length === 0) {
    throw new ChallengeError(
      "webhook_signature_missing",
      `The request carries no valid \`${headerName}\` header (a timestamp and at least one signature).`,
      challenge,
    );
  }
  const prefix = encoder.encode(`${timestampText}${joiner}`);
  const signed = new Uint8Array(prefix.byteLength + rawBody.byteLength);
  signed.set(prefix, 0);
  signed.set(rawBody, prefix.byteLength);
  const candidates = signatures.map(fromHex).filter((bytes): bytes is Uint8Array => bytes !== null);
  let matched = false;
  for (const secret of secrets) {
    const key = await crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    for (const candidate of candidates) {
      // verify() compares in constant time.
      if (await crypto.subtle.verify("HMAC", key, candidate, signed)) matched = true;
    }
  }
  if (!matched) {
    throw new ChallengeError(
      "webhook_signature_invalid",
      `No signature in \`${headerName}\` matches the body with a configured secret.`,
      challenge,
    );
  }
  const ageSeconds = Math.abs(Math.floor(nowMs / 1000) - Number(timestampText));
  if (ageSeconds > SIGNATURE_TOLERANCE_SECONDS) {
    throw new ChallengeError(
      "webhook_timestamp_out_of_tolerance",
      `The signed timestamp is ${ageSeconds} s from now; at most ${SIGNATURE_TOLERANCE_SECONDS} s is accepted (a replayed or delayed request).`,
      challenge,
    );
  }
}

/** A 32-byte HMAC-SHA256 from hex, or null when it is not one. */
function fromHex(hex: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
