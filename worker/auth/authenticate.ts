/**
 * Who is calling: resolves `Authorization: Bearer <key>` to a principal with scopes, or refuses.
 * The bootstrap admin key (REBOUND_ADMIN_KEY) is compared by hash in constant time; every other key
 * is looked up by its hash in `api_keys`.
 */
import { and, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { ApiError } from "../api/errors";
import { apiKeys } from "../db/schema";
import type { Env } from "../env";
import { hashApiKey, hashesEqual, SCOPES, type Scope } from "./keys";

/** The caller of a request, once authenticated. */
export interface Principal {
  /** `api_keys.id`, or `bootstrap-admin` for REBOUND_ADMIN_KEY. */
  keyId: string;
  scopes: readonly Scope[];
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Authenticates a request's Authorization header.
 *
 * @throws ApiError 401 `unauthorized` when the header is missing, malformed, unknown or revoked
 */
export async function authenticate(authorization: string | undefined, env: Env): Promise<Principal> {
  const presented = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  if (!presented) {
    throw new ApiError(401, "unauthorized", "Send an API key as `Authorization: Bearer <key>`.");
  }
  const presentedHash = await hashApiKey(presented);
  if (env.REBOUND_ADMIN_KEY && hashesEqual(presentedHash, await hashApiKey(env.REBOUND_ADMIN_KEY))) {
    return { keyId: "bootstrap-admin", scopes: ["admin"] };
  }
  const row = await drizzle(env.DB)
    .select({ id: apiKeys.id, scopes: apiKeys.scopes })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, presentedHash), isNull(apiKeys.revokedAt)))
    .get();
  if (!row) throw new ApiError(401, "unauthorized", "The API key is unknown or revoked.");
  return { keyId: row.id, scopes: parseScopes(row.scopes) };
}

/** Reads the stored JSON scope list, ignoring anything that is not a known scope. */
export function parseScopes(stored: string): Scope[] {
  const parsed: unknown = JSON.parse(stored);
  return Array.isArray(parsed) ? SCOPES.filter((scope) => parsed.includes(scope)) : [];
}
