/**
 * API keys on every shard (worker/db/shards.ts): a per-customer route checks its key on the
 * customer's database, in the same read as the customer (worker/decisions/read-state.ts), so every
 * shard holds a copy of every key. The control database (shard 0) is the source of truth and is
 * written last, which keeps one invariant whatever fails midway:
 *
 * - a key listed on the control database is on every shard;
 * - a key revoked on the control database is revoked on every shard.
 *
 * Every write is idempotent (an upsert by id; a revocation keeps the first `revoked_at`), so a
 * request that failed on some shard converges when it is sent again. With one database these are
 * the single writes they always were.
 */
import { drizzle } from "drizzle-orm/d1";
import { type ApiKeyRow, apiKeys } from "../db/schema";
import { allShards, controlDatabase, type Shard } from "../db/shards";
import type { Env } from "../env";

// An upsert by id: a copy already there keeps its first revocation (coalesce), a missing one is added.
const UPSERT_KEY_SQL = `
INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, created_at, revoked_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (id) DO UPDATE SET revoked_at = coalesce(api_keys.revoked_at, excluded.revoked_at)`;

const REVOKE_SQL = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";

function upsertKey(db: D1Database, row: ApiKeyRow): D1PreparedStatement {
  return db
    .prepare(UPSERT_KEY_SQL)
    .bind(row.id, row.name, row.keyHash, row.keyPrefix, row.scopes, row.createdAt, row.revokedAt);
}

/** The shards other than the control database (none with one database). */
function copyShards(env: Env): Shard[] {
  return allShards(env).filter((shard) => shard.index !== 0);
}

/**
 * Stores a new key on every shard, the control database last. If any shard fails, the copies
 * already written are revoked (as far as they can be: their secret was never shown, so nobody can
 * use them) and the error is thrown; the caller answers 5xx and a new request creates a new key.
 */
export async function storeKeyEverywhere(env: Env, row: ApiKeyRow): Promise<void> {
  const copies = copyShards(env);
  const outcomes = await Promise.allSettled(copies.map((shard) => upsertKey(shard.db, row).run()));
  const failed = outcomes.find((outcome) => outcome.status === "rejected");
  try {
    if (failed) throw failed.reason;
    await upsertKey(controlDatabase(env), row).run();
  } catch (error) {
    const written = copies.filter((_, i) => outcomes[i]?.status === "fulfilled");
    await Promise.allSettled(
      written.map((shard) => shard.db.prepare(REVOKE_SQL).bind(row.id, row.createdAt).run()),
    );
    throw error;
  }
}

/**
 * Revokes a key on every shard at `revokedAt`, the control database last (a shard that never held
 * the key gets a revoked copy, which refuses as an absent one does). Throws on the first shard that
 * fails, before the control database is written: the key is still listed as live, and revoking it
 * again finishes the job.
 *
 * @returns the control database's row after the revocation
 */
export async function revokeKeyEverywhere(env: Env, row: ApiKeyRow, revokedAt: number): Promise<ApiKeyRow> {
  const revoked = { ...row, revokedAt: row.revokedAt ?? revokedAt };
  const outcomes = await Promise.allSettled(
    copyShards(env).map((shard) => upsertKey(shard.db, revoked).run()),
  );
  const failed = outcomes.find((outcome) => outcome.status === "rejected");
  if (failed) throw failed.reason;
  await controlDatabase(env).prepare(REVOKE_SQL).bind(row.id, revokedAt).run();
  return revoked;
}

/**
 * Copies every key of the control database to `target` (a shard added by a growth, before
 * customers are placed on it): keys created before the shard existed, with their revocations.
 * Idempotent; returns how many keys it wrote.
 */
export async function copyKeysToShard(env: Env, target: D1Database): Promise<number> {
  const rows = await drizzle(controlDatabase(env)).select().from(apiKeys).orderBy(apiKeys.id).all();
  // D1 runs at most 1,000 statements per invocation; one batch per 100 keys stays far below.
  for (let start = 0; start < rows.length; start += 100) {
    await target.batch(rows.slice(start, start + 100).map((row) => upsertKey(target, row)));
  }
  return rows.length;
}
