// Smoke test: `npm start` while a marketer edits the rules. The real start script runs on a copy of
// the project (its own rules/, worker/generated/, .dev.vars and local D1) on a free port; a rule file
// saved with a typo must leave the server answering at once with the last good ruleset, print the
// located error once and no stack trace, and the fix must reload the new ruleset.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, OUTPUT_TAIL_CHARS, REPO_ROOT } from "../../worker/tools/wrangler-dev";

/** What the copy leaves out: dependencies are linked, and the rest is not needed to run the Worker. */
const NOT_COPIED = new Set([
  ".git",
  "node_modules",
  ".wrangler",
  ".dev.vars",
  "dist",
  "test",
  "bench",
  "docs",
]);

/** How long one request may take: the server answered after 29 seconds. */
const PROMPT_MS = 5_000;

let project: string;
let url: string;
let starter: ChildProcess | undefined;
let output = "";
let exited = false;

/** Resolves once `condition` holds, checking every 250 ms; fails with the server's output at `timeoutMs`. */
async function waitFor<T>(
  what: string,
  timeoutMs: number,
  condition: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`npm start exited while waiting for ${what}:\n${output.slice(-4_000)}`);
    const value = await condition().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}:\n${output.slice(-4_000)}`);
}

/** The admin key npm start wrote into the copy's .dev.vars. */
function adminKey(): string {
  const vars = readFileSync(join(project, ".dev.vars"), "utf8");
  return /^REBOUND_ADMIN_KEY=(.+)$/m.exec(vars)?.[1]?.trim() ?? "";
}

/** The ruleset a fresh decision is made with (a new customer id each time, so nothing is repeated). */
let probes = 0;
async function decisionRuleset(): Promise<string> {
  const response = await fetch(`${url}/v1/customers/reload-probe-${++probes}/next-offer?context=winback`, {
    headers: { authorization: `Bearer ${adminKey()}` },
    signal: AbortSignal.timeout(PROMPT_MS),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { ruleset: string };
  return body.ruleset;
}

/**
 * Saves a rule file: in place, or as `sed -i`, `git checkout` and editors' atomic saves do, by
 * writing a temporary file beside it and renaming it over the file (a new inode).
 */
function editRule(file: string, from: string, to: string, save: "in-place" | "rename" = "in-place"): void {
  const path = join(project, "rules", file);
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  if (save === "in-place") {
    writeFileSync(path, text.replace(from, to));
    return;
  }
  const temporary = join(project, "rules", `.sed${Math.random().toString(36).slice(2, 8)}`);
  writeFileSync(temporary, text.replace(from, to));
  renameSync(temporary, path);
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), "rebound-reload-"));
  cpSync(REPO_ROOT, project, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(relative(REPO_ROOT, source).split(sep)[0] ?? ""),
  });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(project, "node_modules"), "dir");
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  starter = spawn(join(REPO_ROOT, "node_modules/.bin/tsx"), ["worker/tools/start.ts"], {
    cwd: project,
    env: { ...process.env, PORT: String(port), WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: stopping it stops the tsx child running start.ts with it.
    detached: true,
  });
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2 * OUTPUT_TAIL_CHARS) output = output.slice(-OUTPUT_TAIL_CHARS);
  };
  starter.stdout?.on("data", keep);
  starter.stderr?.on("data", keep);
  starter.on("close", () => {
    exited = true;
  });
  await waitFor("npm start to be ready", 240_000, async () =>
    output.includes("Rebound is running") ? true : undefined,
  );
}, 300_000);

afterAll(async () => {
  if (starter?.pid !== undefined && !exited) {
    // start.ts stops its wrangler dev (a process group of its own) on SIGTERM, then exits.
    process.kill(-starter.pid, "SIGTERM");
    const deadline = Date.now() + 15_000;
    while (!exited && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!exited) process.kill(-starter.pid, "SIGKILL");
  }
  if (project) rmSync(project, { recursive: true, force: true });
}, 30_000);

describe("npm start while a rule file is being edited", () => {
  it("keeps the last good ruleset through a typo, prints the located error once, and reloads the fix", async () => {
    const good = await decisionRuleset();

    // Broken by a save that replaces the file (sed -i): later saves of it must still be seen.
    editRule("offers.yaml", "reward: twenty_off", "reward: twentty_off", "rename");
    await waitFor("the located error", 30_000, async () =>
      output.includes("error[unknown_reward]") ? true : undefined,
    );
    // Saved again, still broken: nothing new to say.
    editRule("offers.yaml", "reward: twentty_off", "reward: twentty_off", "rename");

    const started = Date.now();
    const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(PROMPT_MS) });
    expect(health.status).toBe(200);
    expect(await decisionRuleset()).toBe(good);
    expect(Date.now() - started).toBeLessThan(PROMPT_MS);

    // The fix is a different reward, so the reloaded ruleset is a new version.
    editRule("offers.yaml", "reward: twentty_off", "reward: ten_off");
    const reloaded = await waitFor("the fixed ruleset to be served", 60_000, async () => {
      const version = await decisionRuleset();
      return version !== good ? version : undefined;
    });
    expect(output).toContain(`reloading with ruleset ${reloaded}`);

    // Replaced once more, back to the first reward: the server is back on the first version.
    editRule("offers.yaml", "reward: ten_off", "reward: twenty_off", "rename");
    await waitFor("the first ruleset to be served again", 60_000, async () =>
      (await decisionRuleset()) === good ? true : undefined,
    );

    // The error, located at the typo, was printed exactly once, and no build printed a stack trace.
    expect(output.match(/error\[unknown_reward\]/g)).toHaveLength(1);
    expect(output).toMatch(
      /rules[\\/]offers\.yaml:\d+:\d+ error\[unknown_reward\]: unknown reward `twentty_off`/,
    );
    expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(output).not.toContain("Custom build failed");
  }, 120_000);
});
