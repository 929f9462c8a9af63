/**
 * API key material: scopes, generation, hashing and constant-time comparison. Keys are stored only
 * as SHA-256 hashes (worker/db/schema/api-keys.ts); the secret is shown once, at creation.
 */

/** What a key may do. `admin` includes every other scope. */
export const SCOPES = ["events:write", "decisions:read", "metrics:read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

const KEY_PREFIX = "rbk_";

/** A new random key (`rbk_` + 32 random bytes, base64url) and the id under which it is listed. */
export function generateApiKey(): { id: string; secret: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return {
    id: `key_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
    secret: KEY_PREFIX + base64Url(bytes),
  };
}

/** Hex SHA-256 of a key: what `api_keys.key_hash` stores and what authentication looks up. */
export async function hashApiKey(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The visible start of a key, for listings: enough to tell keys apart, useless to an attacker. */
export function keyPrefix(secret: string): string {
  return secret.slice(0, KEY_PREFIX.length + 6);
}

/** Compares two hex hashes in constant time (their length is fixed, so it leaks nothing). */
export function hashesEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.byteLength !== right.byteLength) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}

/** True when a key with `granted` scopes may use a route that requires `required`. */
export function allows(granted: readonly Scope[], required: Scope): boolean {
  return granted.includes("admin") || granted.includes(required);
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
