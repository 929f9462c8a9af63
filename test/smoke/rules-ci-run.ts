// Runs scripts/rules-ci.sh as GitHub Actions does, on copies of rules/ (test/smoke/rules-ci*.test.ts).
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { REPO_ROOT } from "../../worker/tools/wrangler-dev";

const SCRIPT = join(REPO_ROOT, "scripts/rules-ci.sh");

export interface StageRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `scripts/rules-ci.sh <args>` from a directory outside the repository; never throws, so a
 * failing stage can be asserted on. Asynchronous: a loopback server in this process must answer it.
 */
export function rulesCi(args: readonly string[], env: Record<string, string> = {}): Promise<StageRun> {
  return new Promise((resolve) => {
    execFile(
      SCRIPT,
      args,
      { cwd: tmpdir(), env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of rules/ (removed after the file's tests) with `edit` applied to one file's text. */
export function rulesCopy(file?: string, edit?: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "rebound-rules-ci-"));
  copies.push(dir);
  const rules = join(dir, "rules");
  cpSync(join(REPO_ROOT, "rules"), rules, { recursive: true });
  if (file && edit) {
    const path = join(rules, file);
    const before = readFileSync(path, "utf8");
    const after = edit(before);
    if (after === before) throw new Error(`the edit of ${file} changed nothing`);
    writeFileSync(path, after);
  }
  return rules;
}
