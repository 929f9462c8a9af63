/**
 * `npm start`: Rebound on http://localhost:8787 with everything a newcomer needs. Creates .dev.vars
 * with a random admin key when there is none, builds (schemas, CLI and rules), applies the D1
 * migrations to the local database, starts `wrangler dev`, loads the simulated demo months once
 * (seed-demo.ts), and prints the key with a curl line to paste. While it runs, a saved rule file
 * reloads the Worker's ruleset, and a rule error is printed once while the last good ruleset keeps
 * answering (watch-rules.ts).
 *
 * `SHARDS=4 npm start` runs the same on four local D1 databases (docs/scaling.md): a wrangler config
 * written to .wrangler/rebound-shards-4.toml binds DB, DB_1 … DB_3, each migrated, with databases
 * of their own, so the one-database local state is kept and either start can follow the other.
 */

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { demoProgressFile, seedDemoData, seedingLines } from "./seed-demo";
import { buildRules, watchRules } from "./watch-rules";
import {
  applyLocalMigrations,
  applyShardMigrations,
  type DevServerOptions,
  LOCAL_STATE_DIR,
  REPO_ROOT,
  startDevServer,
  writeShardedConfig,
} from "./wrangler-dev";

// 8787 is the README's port; PORT overrides it when something else already listens there.
const PORT = Number(process.env.PORT ?? 8787);
const DEV_VARS = join(REPO_ROOT, ".dev.vars");

/**
 * How many local D1 databases customers are placed on: `SHARDS` from the environment (as the Worker's
 * own variable is called), 1 when unset.
 */
function shardCount(): number {
  const text = process.env.SHARDS?.trim() || "1";
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new Error(`start: SHARDS must be a whole number from 1 to 64, not ${JSON.stringify(text)}`);
  return count;
}

/**
 * Migrates the local databases of a deployment on `shards` databases, prints which they are, and
 * returns how wrangler dev must be started to use them. One shard: wrangler.toml's `rebound`, as
 * always. More: a config written for them, which reads .dev.vars and keeps state in .wrangler/state
 * explicitly because it lives in .wrangler/.
 */
async function prepareDatabases(shards: number): Promise<Omit<DevServerOptions, "port">> {
  if (shards === 1) {
    console.log("start: one D1 database: DB = rebound (wrangler.toml)");
    console.log("start: applying D1 migrations to the local database");
    await applyLocalMigrations({ quiet: true });
    return {};
  }
  const config = writeShardedConfig(shards);
  console.log(`start: ${shards} D1 shards (${config.path.slice(REPO_ROOT.length)}):`);
  for (const shard of config.shards) console.log(`start:   ${shard.binding} = ${shard.database_name}`);
  console.log(`start: applying D1 migrations to the ${shards} local databases`);
  await applyShardMigrations(config, { quiet: true });
  return { config: config.path, envFile: DEV_VARS, persistTo: LOCAL_STATE_DIR };
}

/** Reads REBOUND_ADMIN_KEY from .dev.vars, adding a fresh random one (and local defaults) when missing. */
function ensureAdminKey(): string {
  const existing = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, "utf8") : "";
  const match = /^REBOUND_ADMIN_KEY\s*=\s*"?([^"\n]+)"?\s*$/m.exec(existing);
  if (match?.[1]) return match[1].trim();
  const key = `rbk_local_${randomBytes(24).toString("base64url")}`;
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  // A short retry base locally, so a failing webhook receiver reaches `dead` in about a minute
  // instead of the production backoff's quarter of an hour.
  const localRetry = /^RETRY_BASE_SECONDS\s*=/m.test(existing) ? "" : "RETRY_BASE_SECONDS=2\n";
  writeFileSync(DEV_VARS, `${existing}${separator}REBOUND_ADMIN_KEY=${key}\n${localRetry}`, { mode: 0o600 });
  console.log("start: created .dev.vars with a new local admin key");
  return key;
}

/** Lets the local Worker run ticks dated in the future (README: stepping through time). */
function allowFutureTicks(): void {
  const existing = readFileSync(DEV_VARS, "utf8");
  if (/^REBOUND_ALLOW_FUTURE_TICKS\s*=/m.test(existing)) return;
  const separator = existing.endsWith("\n") ? "" : "\n";
  writeFileSync(DEV_VARS, `${existing}${separator}REBOUND_ALLOW_FUTURE_TICKS=true\n`, { mode: 0o600 });
}

/**
 * Local-only secrets for the billing-provider webhooks (docs/providers.md, "Trying it locally"), so
 * `stripe listen` or a signed curl works at once. Known values, never used anywhere but .dev.vars;
 * a deployment sets its own with `wrangler secret put`. A value already in .dev.vars is kept.
 */
const LOCAL_PROVIDER_SECRETS: Readonly<Record<string, string>> = Object.freeze({
  STRIPE_WEBHOOK_SECRET: "whsec_rebound_local_only",
  PADDLE_WEBHOOK_SECRET: "pdl_ntfset_rebound_local_only",
  CHARGEBEE_WEBHOOK_USERNAME: "rebound-local",
  CHARGEBEE_WEBHOOK_PASSWORD: "rebound-local-only",
});

function addLocalProviderSecrets(): void {
  const existing = readFileSync(DEV_VARS, "utf8");
  const missing = Object.entries(LOCAL_PROVIDER_SECRETS).filter(
    ([name]) => !new RegExp(`^${name}\\s*=`, "m").test(existing),
  );
  if (missing.length === 0) return;
  const separator = existing.endsWith("\n") ? "" : "\n";
  const lines = missing.map(([name, value]) => `${name}=${value}\n`).join("");
  writeFileSync(DEV_VARS, `${existing}${separator}${lines}`, { mode: 0o600 });
}

/**
 * Builds the rules once before the server starts. A rule error with an earlier build in
 * worker/generated starts on that last good ruleset (the watcher reloads once the error is fixed);
 * with none, there is nothing to serve and npm start stops.
 */
async function buildStartingRules(): Promise<string | undefined> {
  const result = await buildRules(REPO_ROOT);
  if (result.ok) {
    // Warnings (a segment nothing uses) do not stop anything, but the author should see them once.
    if (/warning\[/.test(result.output)) process.stderr.write(result.output);
    return result.version;
  }
  process.stderr.write(result.output);
  if (!existsSync(join(REPO_ROOT, "worker/generated/ruleset.ts"))) {
    throw new Error("start: the rules do not check and no earlier build exists; fix the errors above");
  }
  console.log("start: starting with the last good ruleset; saving a fix reloads it");
  return undefined;
}

async function main(): Promise<void> {
  const shards = shardCount();
  const adminKey = ensureAdminKey();
  allowFutureTicks();
  addLocalProviderSecrets();
  console.log("start: building (request schemas, CLI, rules)");
  execFileSync("npm", ["run", "--silent", "build:schemas"], { cwd: REPO_ROOT, stdio: "inherit" });
  execFileSync("npm", ["run", "--silent", "build:cli"], { cwd: REPO_ROOT, stdio: "inherit" });
  const initialVersion = await buildStartingRules();
  const rulesWatcher = watchRules({ root: REPO_ROOT, initialVersion });
  const databases = await prepareDatabases(shards);

  console.log(`start: starting wrangler dev on port ${PORT}`);
  const server = await startDevServer({ port: PORT, inheritOutput: true, ...databases });
  const stop = () => {
    rulesWatcher.close();
    void server.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const today = new Date();
  const anchor = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  try {
    const seeding = await seedDemoData(
      `http://localhost:${PORT}`,
      adminKey,
      anchor,
      demoProgressFile(shards),
    );
    for (const line of seedingLines(seeding)) console.log(`start: ${line}`);
  } catch (error) {
    // The server is up and useful without the demo: say what failed and keep serving.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`start: loading the demo data failed (the next start resumes it): ${message}`);
  }

  console.log(`
Rebound is running on http://localhost:${PORT}${shards === 1 ? "" : ` with customers on ${shards} D1 databases`}

  Admin key (from .dev.vars): ${adminKey}

  Try:
  curl -s http://localhost:${PORT}/v1/customers/demo-0001 -H "Authorization: Bearer ${adminKey}"
`);
  process.exitCode = (await server.exited) ?? 0;
  rulesWatcher.close();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
