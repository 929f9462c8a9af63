#!/usr/bin/env node
// The `rebound` command. Runs the bundle `npm run build:cli` writes (dist/cli/rebound.mjs) when no
// source of the language (dsl/**/*.ts|mjs|json) nor package-lock.json is newer than it, so starting
// loads no TypeScript; otherwise (no build yet, or an edit since) registers tsx and runs the sources,
// so a stale CLI never runs. REBOUND_CLI=source or REBOUND_CLI=built picks one (tests compare them).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dslDir = fileURLToPath(new URL("../", import.meta.url));
const lockfile = fileURLToPath(new URL("../../package-lock.json", import.meta.url));
const bundle = fileURLToPath(new URL("../../dist/cli/rebound.mjs", import.meta.url));

/**
 * Whether any *.ts|mjs|json file under `dir`, or a folder (a file deleted or renamed), was modified
 * after `time` (ms). About 80 stat calls: a millisecond or two.
 */
function sourceNewerThan(dir, time) {
  if (statSync(dir).mtimeMs > time) return true;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (sourceNewerThan(path, time)) return true;
    } else if (isSource(entry.name) && statSync(path).mtimeMs > time) return true;
  }
  return false;
}

function isSource(name) {
  return name.endsWith(".ts") || name.endsWith(".mjs") || name.endsWith(".json");
}

function mtimeOr(path, fallback) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return fallback;
  }
}

function bundleIsFresh() {
  const built = mtimeOr(bundle, undefined);
  if (built === undefined) return false; // not built yet
  return mtimeOr(lockfile, 0) <= built && !sourceNewerThan(dslDir, built);
}

const choice = process.env.REBOUND_CLI;
let cli;
if (choice === "built" || (choice !== "source" && bundleIsFresh()))
  cli = await import(pathToFileURL(bundle).href);
else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import("./main.ts");
}
process.exitCode = await cli.main(process.argv.slice(2));
