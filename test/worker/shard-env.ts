// Sharded deployments inside one test file: the worker project binds spare D1 databases DB_1 … DB_7
// (vitest.config.ts), and these helpers make Env objects that place customers on some of them, with
// every migration applied to each. `SELF`/`exports.default` keep the default (one database, DB).
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { generateApiKey, hashApiKey, keyPrefix, type Scope } from "../../worker/auth/keys";
import { allShards } from "../../worker/db/shards";
import type { Env } from "../../worker/env";

type Bound = Record<string, D1Database | undefined>;

/** The spare database DB_<n> (1 … 7). */
export function spareDatabase(n: number): D1Database {
  const db = (env as unknown as Bound)[`DB_${n}`];
  if (!db) throw new Error(`DB_${n} is not bound (vitest.config.ts binds DB_1 … DB_7)`);
  return db;
}

/**
 * A deployment whose shard i is the database `databases[i]`, migrated, with `SHARDS` set to their
 * count (and `SHARDS_FROM` when given). Other bindings (queues, R2, vars) are the test env's.
 *
 * @example const four = await shardedEnv([env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3)])
 */
export async function shardedEnv(
  databases: readonly D1Database[],
  extra: Partial<Env> & { SHARDS_FROM?: string } = {},
): Promise<Env> {
  const bindings: Bound = {};
  databases.forEach((db, index) => {
    bindings[index === 0 ? "DB" : `DB_${index}`] = db;
  });
  for (const db of databases) await migrate(db);
  // Spare bindings not in this deployment must not leak into it from the test env.
  const cleared: Bound = {};
  for (let n = 1; n <= 7; n += 1) cleared[`DB_${n}`] = undefined;
  return {
    ...(env as unknown as Env),
    ...cleared,
    ...bindings,
    SHARDS: String(databases.length),
    ...extra,
  } as Env;
}

const migrated = new WeakSet<D1Database>();

async function migrate(db: D1Database): Promise<void> {
  if (migrated.has(db)) return;
  migrated.add(db);
  await applyD1Migrations(db, env.TEST_MIGRATIONS);
}

/**
 * Issues an API key straight into every database given (helpers.ts `issueKey` writes DB only), as
 * the key routes do on a sharded deployment, and returns its secret.
 *
 * @example const admin = await issueKeyOnEvery(allShards(four).map((shard) => shard.db), ["admin"])
 */
export async function issueKeyOnEvery(
  databases: readonly D1Database[],
  scopes: readonly Scope[],
  key: { id: string; secret: string } = generateApiKey(),
): Promise<string> {
  const hash = await hashApiKey(key.secret);
  for (const db of databases) {
    await db
      .prepare(
        "INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, created_at) VALUES (?, ?, ?, ?, ?, 0)",
      )
      .bind(key.id, `test ${scopes.join(" ")}`, hash, keyPrefix(key.secret), JSON.stringify(scopes))
      .run();
  }
  return key.secret;
}

/** Every database of the deployments given, shard by shard. */
export function databasesOf(...deployments: readonly Env[]): D1Database[] {
  return deployments.flatMap((deployment) => allShards(deployment).map((shard) => shard.db));
}
