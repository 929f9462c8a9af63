// GET /healthz: public, and it says which ruleset and which schema are running, so a deploy can be
// confirmed from outside (docs/deploy.md).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadRuleset } from "../../dsl";
import { createApp } from "../../worker/api/app";
import { ROUTES } from "../../worker/api/route-table";
import { ruleset as builtRuleset, rulesetVersion } from "../../worker/generated/ruleset";

const newestMigration = env.TEST_MIGRATIONS.at(-1)!.name;

describe("GET /healthz", () => {
  it("answers without a key with the built ruleset's version and the last applied migration", async () => {
    const response = await exports.default.fetch("http://rebound.test/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      ruleset_version: rulesetVersion,
      last_migration: newestMigration,
    });
    expect(newestMigration).toMatch(/^\d{4}_\w+\.sql$/);
  });

  it("reports the ruleset the request runs with", async () => {
    const other = loadRuleset({ ...builtRuleset, version: "sha256:another-ruleset" });
    const app = createApp(ROUTES, { ruleset: () => other });
    const response = await app.fetch(new Request("http://rebound.test/healthz"), env);
    expect((await response.json()) as object).toMatchObject({ ruleset_version: "sha256:another-ruleset" });
  });

  it("names the newest migration by the order wrangler applied them", async () => {
    await env.DB.prepare("INSERT INTO d1_migrations (name) VALUES ('9999_later_change.sql')").run();
    try {
      const body = await (await exports.default.fetch("http://rebound.test/healthz")).json();
      expect(body).toMatchObject({ last_migration: "9999_later_change.sql" });
    } finally {
      await env.DB.prepare("DELETE FROM d1_migrations WHERE name = '9999_later_change.sql'").run();
    }
  });

  it("still answers 200, with last_migration null, on a database no migration was applied to", async () => {
    await env.DB.prepare("ALTER TABLE d1_migrations RENAME TO d1_migrations_hidden").run();
    try {
      const response = await exports.default.fetch("http://rebound.test/healthz");
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        ok: true,
        ruleset_version: rulesetVersion,
        last_migration: null,
      });
    } finally {
      await env.DB.prepare("ALTER TABLE d1_migrations_hidden RENAME TO d1_migrations").run();
    }
  });
});
