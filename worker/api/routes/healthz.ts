/**
 * `GET /healthz`: liveness for load balancers, `npm start` and the deploy check; the only public
 * route. It also says what is running, so a deploy can be confirmed from outside (docs/deploy.md):
 * the version of the ruleset this request runs with (`rebound build`'s sha256 of the rules) and the
 * last D1 migration applied (one indexed read of the table `wrangler d1 migrations apply` keeps).
 * Nothing secret: both are in the repository.
 *
 *   {"ok": true, "ruleset_version": "sha256:…", "last_migration": "0007_profile_state_and_history.sql"}
 *
 * A sharded deployment (worker/db/shards.ts) also lists every shard's last migration; a shard that is
 * not bound, or behind the control database, makes the answer 503 `"ok": false`, so a deploy that
 * forgot `wrangler d1 migrations apply` on one database is caught by the same check.
 */
import type { Context } from "hono";
import { isSharded, shardBinding, shardPlan } from "../../db/shards";
import type { Env } from "../../env";
import type { AppEnv, RouteDef } from "../app-env";
import { healthDoc } from "../docs/healthz";

/**
 * The name of the newest migration wrangler recorded as applied (its `d1_migrations` table), or
 * null when none was: a database no `wrangler d1 migrations apply` has touched has no such table,
 * and a health check must still answer then, saying so.
 */
async function lastAppliedMigration(db: D1Database): Promise<string | null> {
  try {
    const row = await db
      .prepare("SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1")
      .first<{ name: string }>();
    return row?.name ?? null;
  } catch (error) {
    if (error instanceof Error && /no such table/i.test(error.message)) return null;
    throw error;
  }
}

async function health(c: Context<AppEnv>): Promise<Response> {
  const lastMigration = await lastAppliedMigration(c.env.DB);
  const answer = { ok: true, ruleset_version: c.get("ruleset").version, last_migration: lastMigration };
  if (!isSharded(c.env)) return c.json(answer);
  const shards = await shardMigrations(c.env);
  const ok = shards.every((shard) => shard.bound && shard.last_migration === lastMigration);
  return c.json({ ...answer, ok, shards }, ok ? 200 : 503);
}

interface ShardHealth {
  binding: string;
  bound: boolean;
  last_migration: string | null;
}

/** Every shard's binding and last applied migration; an unbound shard is reported, not thrown. */
async function shardMigrations(env: Env): Promise<ShardHealth[]> {
  const bindings = env as unknown as Record<string, D1Database | undefined>;
  const indexes = Array.from({ length: shardPlan(env).count }, (_, index) => index);
  return Promise.all(
    indexes.map(async (index) => {
      const db = bindings[shardBinding(index)];
      return {
        binding: shardBinding(index),
        bound: db !== undefined,
        last_migration: db ? await lastAppliedMigration(db) : null,
      };
    }),
  );
}

export const healthRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/healthz", scope: "public", handler: health, doc: healthDoc },
];
