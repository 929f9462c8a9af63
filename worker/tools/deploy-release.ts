/**
 * One release of this checkout to the account: remote D1 migrations first (new code never meets an
 * old schema), then `wrangler deploy` (its [build] step builds the rules and fails on a rule
 * error), then /healthz must report the ruleset `rebound build` wrote and the newest migration.
 * `npm run deploy` runs it alone; `npm run setup:cloudflare` runs it last, with the secrets it made.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkHealth,
  type DeployTarget,
  expectedHealth,
  PLACEHOLDER_DATABASE_ID,
  type Wrangler,
  workerUrlIn,
} from "./cloudflare-account";

export interface ReleaseOptions {
  /** Secrets uploaded with this deploy (`wrangler deploy --secrets-file`); the others are kept. */
  secrets?: Record<string, string>;
  /** Where the Worker answers (a custom domain); default: the workers.dev URL wrangler prints. */
  url?: string;
  print?: (line: string) => void;
}

/**
 * Migrates, deploys and checks. Returns the URL checked (null in a dry run).
 *
 * @throws Error naming the step that failed, with wrangler's output or what /healthz answered
 */
export async function deployRelease(
  wrangler: Wrangler,
  target: DeployTarget,
  options: ReleaseOptions = {},
): Promise<string | null> {
  const print = options.print ?? ((line: string) => console.log(line));
  if (!wrangler.dryRun && target.database.id === PLACEHOLDER_DATABASE_ID) {
    throw new Error(
      "wrangler.toml still has the placeholder database_id: run `npm run setup:cloudflare` once " +
        "(docs/deploy.md) and commit wrangler.toml",
    );
  }
  if (wrangler.dryRun && target.database.id === PLACEHOLDER_DATABASE_ID) {
    print(
      "note: wrangler.toml still has the placeholder database_id, so a real deploy would stop here: " +
        "run `npm run setup:cloudflare` once (docs/deploy.md) and commit wrangler.toml\n",
    );
  }
  await wrangler.change(["d1", "migrations", "apply", target.database.name, "--remote"]);

  const secretNames = Object.keys(options.secrets ?? {});
  const secretsDir = secretNames.length > 0 ? mkdtempSync(join(tmpdir(), "rebound-secrets-")) : null;
  let deployed: Awaited<ReturnType<Wrangler["change"]>>;
  try {
    const args = ["deploy"];
    const shown = ["deploy"];
    if (secretsDir) {
      const file = join(secretsDir, "secrets.json");
      if (!wrangler.dryRun) writeFileSync(file, JSON.stringify(options.secrets), { mode: 0o600 });
      args.push("--secrets-file", file);
      shown.push("--secrets-file", `<a temporary file with ${secretNames.join(", ")}>`);
    }
    deployed = await wrangler.change(args, { shown });
  } finally {
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
  }

  const url = options.url ?? (deployed ? workerUrlIn(deployed.output) : null);
  if (wrangler.dryRun) {
    print(
      `GET ${url ?? "<the workers.dev URL wrangler deploy prints, or REBOUND_URL>"}/healthz` +
        "    # until it reports the ruleset_version `rebound build` wrote and the newest migration",
    );
    return null;
  }
  if (!url) {
    throw new Error(
      "wrangler deploy printed no workers.dev URL: set REBOUND_URL to where the Worker answers",
    );
  }
  const expected = expectedHealth();
  print(
    `checking ${url}/healthz for ruleset ${expected.rulesetVersion} and migration ${expected.lastMigration}`,
  );
  const health = await checkHealth(url, expected);
  print(`✓ ${url} runs ruleset ${health.ruleset_version}, last migration ${health.last_migration}`);
  return url;
}
