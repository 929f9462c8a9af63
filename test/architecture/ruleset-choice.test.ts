// The ruleset is chosen once, at the Worker's entry points, and passed down like the clock: only
// worker/deployed-ruleset.ts reads the generated ruleset, and only the entry points ask it. A module
// that picked its own ruleset would ignore the one a test or the admin tick handed in.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

/** The modules that choose: fetch (the Hono app, per request), scheduled, queue. */
const ENTRY_POINTS = ["worker/api/app.ts", "worker/tick/index.ts", "worker/queue/index.ts"];

function workerSources(dir = "worker"): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) {
      if (path !== "worker/tools" && path !== "worker/generated") out.push(...workerSources(path));
    } else if (/\.ts$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Repo-relative targets of a file's relative imports, without extension. */
function importTargets(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/(?:from\s*|import\s*\(?\s*)["'](\.[^"']+)["']/g)].map((match) =>
    relative(root, resolve(dirname(join(root, file)), match[1]!)).replace(/\.(ts|json)$/, ""),
  );
}

const imports = workerSources().map((file) => ({ file, targets: importTargets(file) }));

it("reads the generated ruleset in one module only", () => {
  const readers = imports.filter(({ targets }) => targets.includes("worker/generated/ruleset"));
  expect(readers.map(({ file }) => file)).toEqual(["worker/deployed-ruleset.ts"]);
});

it("lets only the entry points choose the deployed ruleset; everything below is handed one", () => {
  const choosers = imports
    .filter(({ targets }) => targets.includes("worker/deployed-ruleset"))
    .map(({ file }) => file)
    .sort();
  expect(choosers).toEqual([...ENTRY_POINTS].sort());
});
