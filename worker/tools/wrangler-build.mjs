// wrangler.toml's [build] step. Wrangler names the command running it in WRANGLER_COMMAND.
//
// - `wrangler deploy` (and anything but dev): `npm run build`, the whole build, which fails on any
//   rule error, so a half-valid ruleset is never deployed.
// - `wrangler dev`: only what is stale among the request validators (a schema newer than
//   worker/generated/validators.js) and the dashboard's assets (worker/dashboard/ newer than
//   worker/generated/dashboard-assets.ts) and, when there is none yet, the ruleset. The rules are
//   `npm start`'s watcher's (worker/tools/watch-rules.ts): it writes worker/generated/ruleset.* only
//   when they check, and this step runs again because wrangler watches that file. Building the rules
//   here too would make a rule error fail this step, and wrangler holds every request while its
//   build has not succeeded.
//
// Plain JavaScript run by node, so a reload does not wait for tsx to start.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs `npm run <script>` in the repository, failing this step when it fails. */
function run(script) {
  execFileSync(npm, ["run", "--silent", script], {
    cwd: root,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
}

/** Modification time of `path` in ms, or -1 when it does not exist. */
function modified(path) {
  return existsSync(path) ? statSync(path).mtimeMs : -1;
}

/** The newest modification time of a folder's files, recursively. */
function newestIn(dir) {
  return Math.max(
    modified(dir),
    ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
      entry.isDirectory() ? newestIn(join(dir, entry.name)) : modified(join(dir, entry.name)),
    ),
  );
}

if (process.env.WRANGLER_COMMAND !== "dev") {
  run("build");
} else {
  const schemasDir = join(root, "worker/api/schemas");
  const validators = modified(join(root, "worker/generated/validators.js"));
  const newestSchema = Math.max(
    modified(schemasDir),
    ...readdirSync(schemasDir).map((name) => modified(join(schemasDir, name))),
  );
  if (newestSchema > validators) run("build:schemas");
  if (modified(join(root, "worker/generated/ruleset.ts")) < 0) run("build:rules");
  if (
    newestIn(join(root, "worker/dashboard")) > modified(join(root, "worker/generated/dashboard-assets.ts"))
  ) {
    run("build:dashboard");
  }
}
