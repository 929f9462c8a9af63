/**
 * `GET /healthz`: liveness for load balancers, `npm start` and the deploy check; the only public
 * route. It also says what is running, so a deploy can be confirmed from outside (docs/deploy.md):
 * the version of the ruleset this request runs with (`rebound build`'s sha256 of the rules) and the
 * last D1 migration applied (one indexed read of the table `wrangler d1 migrations apply` keeps).
 * Nothing secret: both are in the repository.
 *
 *   {"ok": true, "ruleset_version": "sha256:…", "last_migration": "0007_profile_state_and_history.sql"}
 */
import type { Context } from "hono";
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
  return c.json({
    ok: true,
    ruleset_version: c.get("ruleset").version,
    last_migration: await lastAppliedMigration(c.env.DB),
  });
}

export const healthRoutes: readonly RouteDef[] = [
  { method: "GET", path: "/healthz", scope: "public", handler: health, doc: healthDoc },
];
