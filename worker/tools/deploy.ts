/**
 * `npm run deploy [-- --dry-run]`: a release of this checkout to the account `npm run
 * setup:cloudflare` prepared: remote migrations, `wrangler deploy`, and /healthz must report the
 * built ruleset and the newest migration (deploy-release.ts). The CI recipe's deploy stage runs it
 * (scripts/rules-ci.sh). REBOUND_URL: where to check, when not the workers.dev URL. docs/deploy.md.
 * A deployment on several D1 databases (`DB_1` … in wrangler.toml) has each of the others migrated
 * first, so no shard meets the new code with an old schema.
 */
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { readDeployTarget, Wrangler } from "./cloudflare-account";
import { deployRelease } from "./deploy-release";
import { REPO_ROOT } from "./wrangler-dev";

/** The database names of shards 1 … N − 1 (`DB_<i>` bindings) that wrangler.toml declares. */
function furtherShardDatabases(configPath = join(REPO_ROOT, "wrangler.toml")): string[] {
  const config = unstable_readConfig({ config: configPath }) as {
    d1_databases: { binding: string; database_name?: string }[];
  };
  return config.d1_databases
    .filter((database) => /^DB_\d+$/.test(database.binding) && database.database_name)
    .map((database) => database.database_name ?? "");
}

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== "--dry-run");
if (unknown.length > 0) {
  console.error(`deploy: unknown argument ${unknown.join(" ")}\nusage: npm run deploy [-- --dry-run]`);
  process.exit(2);
}
const wrangler = new Wrangler(args.includes("--dry-run"));
if (wrangler.dryRun) console.log("deploy --dry-run: the commands a deploy runs, none of them run:\n");

try {
  for (const database of furtherShardDatabases())
    await wrangler.change(["d1", "migrations", "apply", database, "--remote"]);
  await deployRelease(wrangler, readDeployTarget(), { url: process.env.REBOUND_URL || undefined });
} catch (error) {
  console.error(`deploy: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
