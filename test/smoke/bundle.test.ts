// The deployable bundle must not generate code at run time: Workers refuse eval and new Function.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { runWrangler } from "../../worker/tools/wrangler-dev";

const outDir = mkdtempSync(join(tmpdir(), "rebound-bundle-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it("builds a bundle with no eval( and no new Function(", async () => {
  await runWrangler(["deploy", "--dry-run", "--outdir", outDir], { quiet: true });
  const files = readdirSync(outDir).filter((name) => name.endsWith(".js"));
  expect(files.length).toBeGreaterThan(0);
  const bundle = files.map((name) => readFileSync(join(outDir, name), "utf8")).join("\n");
  // The validators are really in it, compiled, so the check below reads the code that runs.
  expect(bundle).toContain("must NOT have more than 500 items");
  expect(bundle).not.toMatch(/new\s+Function\s*\(/);
  expect(bundle).not.toMatch(/(^|[^\w.$])eval\s*\(/m);
}, 180_000);
