/**
 * `npm run setup:cloudflare [-- --dry-run]`: Rebound on a Cloudflare account from nothing, with
 * wrangler (logged in by `wrangler login`, or CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID):
 *
 *   1. the D1 database, its id written to wrangler.toml (commit it: CI deploys with it);
 *   2. the queues and the dead-letter queue, 3. the R2 archive bucket (all named by wrangler.toml);
 *   4. secrets: REBOUND_ADMIN_KEY and WEBHOOK_SECRET generated when missing (printed once), and
 *      RESEND_API_KEY, POSTMARK_TOKEN (and the first two) from the environment when given there;
 *   5. a release (deploy-release.ts): remote migrations, `wrangler deploy` with those secrets, and
 *      /healthz reporting the built ruleset.
 *
 * Running it again skips what exists (it reads wrangler's lists first), so it also repairs a
 * half-finished setup or sets a provider key later. `--dry-run` prints every command, runs none.
 * docs/deploy.md walks through it.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import {
  bucketNamesIn,
  databaseIdIn,
  queueExists,
  readDeployTarget,
  secretNamesIn,
  Wrangler,
  withDatabaseId,
} from "./cloudflare-account";
import { deployRelease } from "./deploy-release";

/** Secrets setup makes when the Worker has none and none is given in the environment. */
const GENERATED_SECRETS = ["REBOUND_ADMIN_KEY", "WEBHOOK_SECRET"] as const;
/** Provider keys: set only when given in the environment. */
const GIVEN_SECRETS = ["RESEND_API_KEY", "POSTMARK_TOKEN"] as const;

/** A new production admin key, in the format of the keys the API makes (worker/auth/keys.ts). */
function newSecret(name: string): string {
  return name === "REBOUND_ADMIN_KEY"
    ? `rbk_${randomBytes(32).toString("base64url")}`
    : randomBytes(32).toString("base64url");
}

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== "--dry-run");
if (unknown.length > 0) {
  console.error(
    `setup:cloudflare: unknown argument ${unknown.join(" ")}\nusage: npm run setup:cloudflare [-- --dry-run]`,
  );
  process.exit(2);
}
const wrangler = new Wrangler(args.includes("--dry-run"));
const say = (line: string) => console.log(line);
let target = readDeployTarget();

async function setUp(): Promise<void> {
  if (wrangler.dryRun) {
    say("setup:cloudflare --dry-run: the commands setup runs on an empty account, none of them run.");
    say("On a re-run, a command marked `# unless …` is skipped when its resource exists.\n");
  }
  const who = await wrangler.read(["whoami", "--json"]);
  if (who && !who.ok) {
    // With a token set, the usual cause is not the login: the token, or the network to Cloudflare.
    throw new Error(
      process.env.CLOUDFLARE_API_TOKEN
        ? "wrangler could not use CLOUDFLARE_API_TOKEN: check the token's permissions (docs/deploy.md) " +
            `and that this machine reaches api.cloudflare.com; wrangler said:\n${who.output.trim()}`
        : "wrangler is not logged in: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN " +
            `(and CLOUDFLARE_ACCOUNT_ID) as docs/deploy.md says.\n${who.output.trim()}`,
    );
  }

  // 1. The D1 database, found by name.
  const { name: database } = target.database;
  const listed = await wrangler.read(["d1", "list", "--json"]);
  let databaseId = listed ? databaseIdOrFail(listed, database) : null;
  if (databaseId) {
    say(`✓ D1 database ${database} exists (${databaseId})`);
  } else {
    await wrangler.change(["d1", "create", database], {
      when: `unless \`d1 list\` shows ${database}`,
      tolerate: /already exists/i,
    });
    const relisted = wrangler.dryRun ? null : await wrangler.read(["d1", "list", "--json"]);
    databaseId = relisted ? databaseIdOrFail(relisted, database) : null;
    if (!wrangler.dryRun && !databaseId)
      throw new Error(`D1 database ${database} was created but is not listed`);
  }
  if (databaseId) {
    const toml = readFileSync(target.configPath, "utf8");
    const patched = withDatabaseId(toml, databaseId);
    if (patched !== toml) {
      writeFileSync(target.configPath, patched);
      say(`✓ wrangler.toml: database_id = "${databaseId}" (commit it: CI deploys with it)`);
      target = readDeployTarget(target.configPath);
    }
  } else {
    say(`(writes ${database}'s id to wrangler.toml as database_id)`);
  }

  // 2. Queues, dead-letter queue included.
  for (const queue of target.queues) {
    const info = await wrangler.read(["queues", "info", queue]);
    if (info && queueExists(info, queue)) {
      say(`✓ queue ${queue} exists`);
      continue;
    }
    await wrangler.change(["queues", "create", queue], {
      when: "unless `queues info` finds it",
      tolerate: /already (exists|taken)/i,
    });
  }

  // 3. R2 buckets.
  const buckets = await wrangler.read(["r2", "bucket", "list"]);
  if (buckets && !buckets.ok)
    throw new Error(`\`wrangler r2 bucket list\` failed:\n${buckets.output.trim()}`);
  const bucketNames = buckets ? bucketNamesIn(buckets.stdout) : [];
  for (const bucket of target.buckets) {
    if (bucketNames.includes(bucket)) {
      say(`✓ R2 bucket ${bucket} exists`);
      continue;
    }
    await wrangler.change(["r2", "bucket", "create", bucket], {
      when: "unless `r2 bucket list` shows it",
      tolerate: /already exists/i,
    });
  }

  // 4. Secrets: what is given is set; what is missing and can be made is made.
  const listedSecrets = await wrangler.read(["secret", "list", "--format", "json"]);
  const existing = listedSecrets ? secretNamesIn(listedSecrets, target.worker) : [];
  const secrets: Record<string, string> = {};
  const generated: string[] = [];
  for (const name of [...GENERATED_SECRETS, ...GIVEN_SECRETS]) {
    const given = process.env[name];
    if (given) {
      secrets[name] = given;
    } else if ((GENERATED_SECRETS as readonly string[]).includes(name) && !existing.includes(name)) {
      secrets[name] = wrangler.dryRun ? "<generated>" : newSecret(name);
      generated.push(name);
    } else if (existing.includes(name)) {
      say(`✓ secret ${name} is set`);
    }
  }

  // 5. Migrations, deploy with the secrets, health check.
  const url = await deployRelease(wrangler, target, { secrets, url: process.env.REBOUND_URL || undefined });

  if (wrangler.dryRun) return;
  say(`\nRebound runs at ${url}`);
  if (generated.length > 0) {
    say("\nGenerated secrets, shown this once (the Worker keeps them; nobody can read them back):");
    for (const name of generated) say(`  ${name}=${secrets[name]}`);
    if (generated.includes("REBOUND_ADMIN_KEY")) {
      say(
        "Keep the admin key in a password manager; make your app and CI their own keys with it (docs/deploy.md).",
      );
    }
  }
  say("\nNext: commit wrangler.toml, then add the CI secrets (docs/deploy.md, “The CI recipe”).");
}

function databaseIdOrFail(
  listed: { ok: boolean; stdout: string; output: string },
  name: string,
): string | null {
  if (!listed.ok) throw new Error(`\`wrangler d1 list --json\` failed:\n${listed.output.trim()}`);
  return databaseIdIn(listed.stdout, name);
}

try {
  await setUp();
} catch (error) {
  console.error(`\nsetup:cloudflare: ${error instanceof Error ? error.message : String(error)}`);
  console.error("Fix the cause and run it again: what exists already is skipped.");
  process.exit(1);
}
