// `npm run setup:cloudflare` and `npm run deploy` without a Cloudflare account: the plan of wrangler
// commands a dry run prints (each one known to the installed wrangler, with its flags), and the
// decisions that make setup safe to run again, read from outputs as wrangler prints them.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import {
  bucketNamesIn,
  databaseIdIn,
  PLACEHOLDER_DATABASE_ID,
  queueExists,
  readDeployTarget,
  secretNamesIn,
  withDatabaseId,
  workerUrlIn,
} from "../../worker/tools/cloudflare-account";
import { REPO_ROOT } from "../../worker/tools/wrangler-dev";

const run = promisify(execFile);
const TSX = join(REPO_ROOT, "node_modules/.bin/tsx");
const WRANGLER = join(REPO_ROOT, "node_modules/.bin/wrangler");
const NO_SECRETS = { RESEND_API_KEY: "", POSTMARK_TOKEN: "", WEBHOOK_SECRET: "", REBOUND_ADMIN_KEY: "" };

async function dryRun(script: string, env: Record<string, string> = {}): Promise<string[]> {
  const { stdout } = await run(TSX, [join(REPO_ROOT, "worker/tools", script), "--dry-run"], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...NO_SECRETS, REBOUND_URL: "", ...env },
  });
  return stdout.split("\n").filter((line) => line.startsWith("npx wrangler ") || line.startsWith("GET "));
}

/** The command part of a planned line: no trailing `# unless …`. */
const command = (line: string) => line.replace(/\s+#.*$/, "");

describe("npm run setup:cloudflare -- --dry-run", () => {
  const wranglerToml = readFileSync(join(REPO_ROOT, "wrangler.toml"), "utf8");

  it("plans every resource wrangler.toml names, migrations before the deploy, and runs nothing", async () => {
    const plan = await dryRun("setup-cloudflare.ts");
    expect(plan.map(command)).toEqual([
      "npx wrangler whoami --json",
      "npx wrangler d1 list --json",
      "npx wrangler d1 create rebound",
      "npx wrangler queues info rebound-sends",
      "npx wrangler queues create rebound-sends",
      "npx wrangler queues info rebound-ticks",
      "npx wrangler queues create rebound-ticks",
      "npx wrangler queues info rebound-sends-dlq",
      "npx wrangler queues create rebound-sends-dlq",
      "npx wrangler queues info rebound-ticks-dlq",
      "npx wrangler queues create rebound-ticks-dlq",
      "npx wrangler r2 bucket list",
      "npx wrangler r2 bucket create rebound-archive",
      "npx wrangler secret list --format json",
      "npx wrangler d1 migrations apply rebound --remote",
      "npx wrangler deploy --secrets-file <a temporary file with REBOUND_ADMIN_KEY, WEBHOOK_SECRET>",
      "GET <the workers.dev URL wrangler deploy prints, or REBOUND_URL>/healthz",
    ]);
    // Each creation says when a re-run skips it.
    for (const line of plan.filter((line) => / create /.test(line))) expect(line).toMatch(/# unless /);
    expect(readFileSync(join(REPO_ROOT, "wrangler.toml"), "utf8")).toBe(wranglerToml);
  });

  it("uploads provider keys only when they are given, and never prints a secret", async () => {
    const plan = await dryRun("setup-cloudflare.ts", {
      RESEND_API_KEY: "re_secret_value",
      REBOUND_URL: "https://rebound.acme.example",
    });
    const deploy = plan.find((line) => line.startsWith("npx wrangler deploy"));
    expect(deploy).toBe(
      "npx wrangler deploy --secrets-file <a temporary file with REBOUND_ADMIN_KEY, WEBHOOK_SECRET, RESEND_API_KEY>",
    );
    expect(plan.join("\n")).not.toContain("re_secret_value");
    expect(plan.at(-1)).toMatch(/^GET https:\/\/rebound\.acme\.example\/healthz/);
  });

  it("plans a later deploy as migrations, deploy and the health check", async () => {
    expect((await dryRun("deploy.ts")).map(command)).toEqual([
      "npx wrangler d1 migrations apply rebound --remote",
      "npx wrangler deploy",
      "GET <the workers.dev URL wrangler deploy prints, or REBOUND_URL>/healthz",
    ]);
  });

  it("uses only commands and flags the installed wrangler knows", async () => {
    const plan = await dryRun("setup-cloudflare.ts");
    const names = new Set([
      "rebound",
      "rebound-sends",
      "rebound-sends-dlq",
      "rebound-ticks",
      "rebound-ticks-dlq",
      "rebound-archive",
    ]);
    for (const line of plan.filter((line) => line.startsWith("npx wrangler "))) {
      const words = command(line).split(" ").slice(2);
      const end = words.findIndex((word) => names.has(word) || word.startsWith("-") || word.startsWith("<"));
      const path = end < 0 ? words : words.slice(0, end);
      const flags = words.filter((word) => word.startsWith("--"));
      const { stdout } = await run(WRANGLER, [...path, "--help"], { cwd: REPO_ROOT });
      expect(stdout, line).toContain(`wrangler ${path.join(" ")}`);
      for (const flag of flags) expect(stdout, `${line}: ${flag}`).toContain(flag);
    }
  }, 120_000);
});

describe("what setup finds already there (outputs as wrangler prints them)", () => {
  it("finds the database's id by name in `wrangler d1 list --json`, after any warning line", () => {
    const listed = `▲ [WARNING] Processing wrangler.toml configuration: …
[
  {
    "uuid": "4b1f6f8e-2c3d-4e5f-9a0b-1c2d3e4f5a6b",
    "name": "rebound",
    "created_at": "2026-04-21T09:12:44.112Z",
    "version": "production",
    "num_tables": 14,
    "file_size": 1687552
  },
  { "uuid": "9d8c7b6a-0000-4000-8000-5a4b3c2d1e0f", "name": "rebound-staging", "created_at": "2026-04-22T10:00:00.000Z" }
]`;
    expect(databaseIdIn(listed, "rebound")).toBe("4b1f6f8e-2c3d-4e5f-9a0b-1c2d3e4f5a6b");
    expect(databaseIdIn("[]", "rebound")).toBeNull();
    expect(databaseIdIn(listed, "reboun")).toBeNull();
  });

  it("creates a queue only when `queues info` says it does not exist, and stops on any other failure", () => {
    expect(
      queueExists({ ok: true, stdout: "Queue Name: rebound-sends\n", output: "" }, "rebound-sends"),
    ).toBe(true);
    const missing = `✘ [ERROR] Queue "rebound-sends-dlq" does not exist. To create it, run: wrangler queues create rebound-sends-dlq`;
    expect(queueExists({ ok: false, stdout: "", output: missing }, "rebound-sends-dlq")).toBe(false);
    const denied =
      "✘ [ERROR] A request to the Cloudflare API (/accounts/abc/queues) failed.\n  Authentication error [code: 10000]";
    expect(() => queueExists({ ok: false, stdout: "", output: denied }, "rebound-sends")).toThrow(
      /Authentication error/,
    );
  });

  it("reads bucket names from `wrangler r2 bucket list`, coloured or not", () => {
    const listed =
      "Listing buckets...\n\u001b[37mname:\u001b[39m           \u001b[90mrebound-archive\u001b[39m\n" +
      "\u001b[37mcreation_date:\u001b[39m  \u001b[90m2026-04-21T09:13:02.000Z\u001b[39m\n\n" +
      "name:           rebound-archive-old\ncreation_date:  2025-11-02T08:00:00.000Z\n";
    expect(bucketNamesIn(listed)).toEqual(["rebound-archive", "rebound-archive-old"]);
    expect(bucketNamesIn("Listing buckets...\n")).toEqual([]);
  });

  it("knows which secrets the Worker has, and that a Worker never deployed has none", () => {
    const listed = '[\n  {\n    "name": "REBOUND_ADMIN_KEY",\n    "type": "secret_text"\n  }\n]';
    expect(secretNamesIn({ ok: true, stdout: listed, output: listed }, "rebound")).toEqual([
      "REBOUND_ADMIN_KEY",
    ]);
    const notFound =
      '✘ [ERROR] Worker "rebound" not found.\n\n  If this is a new Worker, run `wrangler deploy` first to create it.';
    expect(secretNamesIn({ ok: false, stdout: "", output: notFound }, "rebound")).toEqual([]);
    expect(() =>
      secretNamesIn({ ok: false, stdout: "", output: "✘ [ERROR] fetch failed" }, "rebound"),
    ).toThrow();
  });

  it("finds the workers.dev URL in `wrangler deploy`'s output", () => {
    const deployed =
      "Uploaded rebound (4.12 sec)\nDeployed rebound triggers (1.02 sec)\n  https://rebound.acme.workers.dev\n" +
      "  schedule: */5 * * * *\n  Producer for rebound-sends\nCurrent Version ID: 0b6c…";
    expect(workerUrlIn(deployed)).toBe("https://rebound.acme.workers.dev");
    expect(workerUrlIn("No deploy targets for rebound (0.2 sec)")).toBeNull();
  });
});

describe("the database id written to wrangler.toml", () => {
  const dir = mkdtempSync(join(tmpdir(), "rebound-toml-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const id = "4b1f6f8e-2c3d-4e5f-9a0b-1c2d3e4f5a6b";

  it("is read back by wrangler, and local development keeps its database under the old id", () => {
    const toml = readFileSync(join(REPO_ROOT, "wrangler.toml"), "utf8");
    expect(readDeployTarget().database.id).toBe(PLACEHOLDER_DATABASE_ID);
    const patched = withDatabaseId(toml, id);
    const config = join(dir, "wrangler.toml");
    writeFileSync(config, patched);
    expect(readDeployTarget(config).database.id).toBe(id);
    expect(patched).toContain(`preview_database_id = "${PLACEHOLDER_DATABASE_ID}"`);
    // Everything else is as it was.
    expect(patched.replace(/^database_id = .*\n(#.*\n)?preview_database_id = .*$/m, "")).toBe(
      toml.replace(/^database_id = .*$/m, ""),
    );
  });

  it("is left alone when it is already set, and replaced, once, when the account changes", () => {
    const toml = withDatabaseId(readFileSync(join(REPO_ROOT, "wrangler.toml"), "utf8"), id);
    expect(withDatabaseId(toml, id)).toBe(toml);
    const moved = withDatabaseId(toml, "11111111-2222-4333-8444-555555555555");
    expect(moved).toContain('database_id = "11111111-2222-4333-8444-555555555555"');
    expect(moved.match(/^preview_database_id/gm)).toHaveLength(1);
  });
});
