/**
 * Looking an API key up by its hash, two ways with the same answer: as its own D1 statement
 * (`lookUpKey`), or folded into another read as one more column (`keyLookupColumn`, which the
 * decision read carries to save a round trip). Storage only: whether the key may call a route is
 * decided in worker/auth/authenticate.ts.
 */
import { and, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { apiKeys } from "./schema";

/** What the key lookup finds: the live (unrevoked) key row with that hash. */
export interface StoredKey {
  id: string;
  /** The stored JSON scope list. */
  scopes: string;
}

/**
 * The key lookup as a scalar subquery, for a read that folds it into its own statement:
 * `json_object('id', …, 'scopes', …)` of the live key whose hash is bound to `hashParam`, or NULL
 * (also when the parameter is NULL, at no rows read). One seek on the unique api_keys_key_hash.
 * `storedKeyOf` reads the column back.
 */
export function keyLookupColumn(hashParam: string): string {
  return `(SELECT json_object('id', k.id, 'scopes', k.scopes) FROM api_keys k
   WHERE k.key_hash = ${hashParam} AND k.revoked_at IS NULL)`;
}

/** The key row a `keyLookupColumn` column holds (its JSON text), or null for NULL. */
export function storedKeyOf(column: unknown): StoredKey | null {
  return typeof column === "string" ? (JSON.parse(column) as StoredKey) : null;
}

/** Looks the live key with `hash` up with a statement of its own. */
export async function lookUpKey(db: D1Database, hash: string): Promise<StoredKey | null> {
  const row = await drizzle(db)
    .select({ id: apiKeys.id, scopes: apiKeys.scopes })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
    .get();
  return row ?? null;
}
