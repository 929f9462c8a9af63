/**
 * `npm run deploy [-- --dry-run]`: a release of this checkout to the account `npm run
 * setup:cloudflare` prepared: remote migrations, `wrangler deploy`, and /healthz must report the
 * built ruleset and the newest migration (deploy-release.ts). The CI recipe's deploy stage runs it
 * (scripts/rules-ci.sh). REBOUND_URL: where to check, when not the workers.dev URL. docs/deploy.md.
 */
import { readDeployTarget, Wrangler } from "./cloudflare-account";
import { deployRelease } from "./deploy-release";

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== "--dry-run");
if (unknown.length > 0) {
  console.error(`deploy: unknown argument ${unknown.join(" ")}\nusage: npm run deploy [-- --dry-run]`);
  process.exit(2);
}
const wrangler = new Wrangler(args.includes("--dry-run"));
if (wrangler.dryRun) console.log("deploy --dry-run: the commands a deploy runs, none of them run:\n");

try {
  await deployRelease(wrangler, readDeployTarget(), { url: process.env.REBOUND_URL || undefined });
} catch (error) {
  console.error(`deploy: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
