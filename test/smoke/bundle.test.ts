// The deployable bundle, as `wrangler deploy` builds it (its [build] step runs `npm run build`):
// it must carry the ruleset `rebound build` wrote, which /healthz reports after a deploy
// (docs/deploy.md), and must not generate code at run time: Workers refuse eval and new Function.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { expectedHealth } from "../../worker/tools/cloudflare-account";
import { runWrangler } from "../../worker/tools/wrangler-dev";

const outDir = mkdtempSync(join(tmpdir(), "rebound-bundle-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it("builds a deployable bundle with the built ruleset, and no eval( and no new Function(", async () => {
  const output = await runWrangler(["deploy", "--dry-run", "--outdir", outDir], { quiet: true });
  // wrangler read the bindings a deploy uploads, as setup:cloudflare creates them.
  expect(output).toMatch(/--dry-run: exiting now/);
  for (const binding of ["env.DB (rebound)", "env.SENDS (rebound-sends)", "env.ARCHIVE (rebound-archive)"]) {
    expect(output).toContain(binding);
  }
  const files = readdirSync(outDir).filter((name) => name.endsWith(".js"));
  expect(files.length).toBeGreaterThan(0);
  const bundle = files.map((name) => readFileSync(join(outDir, name), "utf8")).join("\n");
  // The ruleset the build step just wrote from rules/ is in it: what /healthz will report.
  expect(bundle).toContain(expectedHealth().rulesetVersion);
  expect(bundle).toContain("dunning_day_0");
  // The validators are really in it, compiled, so the check below reads the code that runs.
  expect(bundle).toContain("must NOT have more than 500 items");
  expect(bundle).not.toMatch(/new\s+Function\s*\(/);
  expect(bundle).not.toMatch(/(^|[^\w.$])eval\s*\(/m);
}, 180_000);
