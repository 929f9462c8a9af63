/**
 * Node-side helpers for putting Rebound on a Cloudflare account with wrangler, shared by
 * `npm run setup:cloudflare` (setup-cloudflare.ts) and `npm run deploy` (deploy.ts): a wrangler
 * runner that prints instead of running in a dry run, what wrangler.toml names (read by wrangler
 * itself), readers of wrangler's outputs that decide what exists already (so setup can run again),
 * the database_id patch, and the health check that confirms a deploy runs the built ruleset.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { REPO_ROOT } from "./wrangler-dev";

const WRANGLER = join(REPO_ROOT, "node_modules/.bin/wrangler");

/** The id wrangler.toml ships with: a local database only, nothing on any account. */
export const PLACEHOLDER_DATABASE_ID = "00000000-0000-4000-8000-000000000000";

/** What the deploy needs on the account, as wrangler.toml names it. */
export interface DeployTarget {
  worker: string;
  database: { name: string; id: string };
  /** Every queue the Worker produces to or consumes from, dead-letter queues included. */
  queues: string[];
  buckets: string[];
  configPath: string;
}

/** What readDeployTarget reads of wrangler's config (its exported type does not resolve here). */
interface WranglerConfig {
  name?: string;
  d1_databases: { database_name?: string; database_id?: string }[];
  queues: { producers?: { queue: string }[]; consumers?: { queue: string; dead_letter_queue?: string }[] };
  r2_buckets: { bucket_name?: string }[];
}

/** Reads wrangler.toml with wrangler's own reader, so the names cannot drift from what it deploys. */
export function readDeployTarget(configPath = join(REPO_ROOT, "wrangler.toml")): DeployTarget {
  const config: WranglerConfig = unstable_readConfig({ config: configPath });
  const database = config.d1_databases[0];
  if (!config.name || !database?.database_name) {
    throw new Error(`${configPath} must name the Worker and one [[d1_databases]] with a database_name`);
  }
  const queues = [
    ...(config.queues.producers ?? []).map((producer) => producer.queue),
    ...(config.queues.consumers ?? []).flatMap((consumer) => [
      consumer.queue,
      ...(consumer.dead_letter_queue ? [consumer.dead_letter_queue] : []),
    ]),
  ];
  return {
    worker: config.name,
    database: { name: database.database_name, id: database.database_id ?? "" },
    queues: [...new Set(queues)],
    buckets: [...new Set(config.r2_buckets.map((bucket) => bucket.bucket_name ?? ""))].filter(Boolean),
    configPath,
  };
}

/** What a wrangler command printed and whether it succeeded. */
export interface WranglerResult {
  ok: boolean;
  stdout: string;
  /** stdout and stderr together, for messages. */
  output: string;
}

/**
 * Runs wrangler against the account, or, in a dry run, prints each command and runs none. Reads
 * return null in a dry run (nothing is known), and the caller then plans as if nothing existed yet.
 */
export class Wrangler {
  constructor(
    readonly dryRun: boolean,
    private readonly print: (line: string) => void = (line) => console.log(line),
  ) {}

  /** A command that only reads the account (lists, info). Failure is the caller's to interpret. */
  async read(args: readonly string[]): Promise<WranglerResult | null> {
    if (this.dryRun) {
      this.print(`npx wrangler ${args.join(" ")}`);
      return null;
    }
    return await runWrangler(args, { echo: false });
  }

  /**
   * A command that changes the account. `when` says in a dry run on what it depends; `tolerate`
   * matches a failure that means the change is already made (a name taken by our own resource).
   * `shown` is printed in place of the arguments (a temporary file's path means nothing to a reader).
   *
   * @throws Error with wrangler's output when it fails otherwise
   */
  async change(
    args: readonly string[],
    options: { when?: string; tolerate?: RegExp; shown?: readonly string[] } = {},
  ): Promise<WranglerResult | null> {
    const command = `npx wrangler ${(options.shown ?? args).join(" ")}`;
    if (this.dryRun) {
      this.print(options.when ? `${command}    # ${options.when}` : command);
      return null;
    }
    this.print(`$ ${command}`);
    const result = await runWrangler(args, { echo: true });
    if (!result.ok && !(options.tolerate?.test(result.output) ?? false)) {
      throw new Error(`\`${command}\` failed:\n${result.output.trim()}`);
    }
    return result;
  }
}

async function runWrangler(args: readonly string[], options: { echo: boolean }): Promise<WranglerResult> {
  const child = spawn(WRANGLER, args, {
    cwd: REPO_ROOT,
    // CI=1: no prompts (migrations apply asks before writing); wrangler reads the account from
    // CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID, or from `wrangler login`.
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
    if (options.echo) process.stdout.write(chunk);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (options.echo) process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { ok: code === 0, stdout, output };
}

/**
 * The JSON in wrangler's stdout: the rest of it from the first line that parses as the start of
 * an array or object (warnings such as `▲ [WARNING] …` may come first).
 */
function jsonIn(stdout: string): unknown {
  const lines = stdout.split("\n");
  for (let index = 0; index < lines.length; index++) {
    if (!/^\s*[[{]/.test(lines[index]!)) continue;
    try {
      return JSON.parse(lines.slice(index).join("\n"));
    } catch {
      // a line such as "[WARNING] …" that only looks like JSON
    }
  }
  throw new Error(`wrangler printed no JSON:\n${stdout}`);
}

/**
 * The id of the D1 database named `name` in `wrangler d1 list --json`'s output, or null.
 *
 * @example databaseIdIn('[{"uuid": "7c1…", "name": "rebound"}]', "rebound") // "7c1…"
 */
export function databaseIdIn(listJson: string, name: string): string | null {
  const databases = jsonIn(listJson);
  if (!Array.isArray(databases)) throw new Error(`\`wrangler d1 list --json\` printed no list:\n${listJson}`);
  const found = databases.find((database) => database?.name === name);
  return typeof found?.uuid === "string" ? found.uuid : null;
}

/**
 * Whether `wrangler queues info <name>` found the queue. Its only "no" is the sentence wrangler
 * prints for a missing queue; any other failure (no access, network) is an error, not a reason to
 * create the queue.
 */
export function queueExists(result: WranglerResult, name: string): boolean {
  if (result.ok) return true;
  if (result.output.includes(`Queue "${name}" does not exist`)) return false;
  throw new Error(`\`wrangler queues info ${name}\` failed:\n${result.output.trim()}`);
}

/** Bucket names in `wrangler r2 bucket list`'s output (`name: …` and `creation_date: …` per bucket). */
export function bucketNamesIn(listOutput: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: wrangler colours labels on a terminal
  const plain = listOutput.replace(/\u001b\[[0-9;]*m/g, "");
  return [...plain.matchAll(/^name:\s+(\S+)\s*$/gm)].map((match) => match[1]!);
}

/**
 * Names of the Worker's secrets from `wrangler secret list --format json`; none when the Worker
 * was never deployed (wrangler answers `Worker "rebound" not found.`).
 */
export function secretNamesIn(result: WranglerResult, worker: string): string[] {
  if (!result.ok) {
    if (result.output.includes(`Worker "${worker}" not found`)) return [];
    throw new Error(`\`wrangler secret list\` failed:\n${result.output.trim()}`);
  }
  const secrets = jsonIn(result.stdout);
  if (!Array.isArray(secrets)) throw new Error(`\`wrangler secret list\` printed no list:\n${result.stdout}`);
  return secrets.map((secret) => String(secret?.name));
}

/**
 * wrangler.toml with the D1 database's `database_id` set to `id`. The first time, the placeholder
 * moves to `preview_database_id`: `wrangler dev` and `d1 … --local` key the local database by that
 * id when it is set, so local development keeps the database it had. Unchanged when already set.
 */
export function withDatabaseId(toml: string, id: string): string {
  const line = /^database_id\s*=\s*"([^"]*)"\s*$/m;
  const current = line.exec(toml);
  if (!current) throw new Error('wrangler.toml has no `database_id = "…"` line to set');
  if (current[1] === id) return toml;
  const keepLocal =
    current[1] === PLACEHOLDER_DATABASE_ID && !/^preview_database_id\s*=/m.test(toml)
      ? "\n# `wrangler dev` and `wrangler d1 … --local` use this id: local development keeps its database." +
        `\npreview_database_id = "${PLACEHOLDER_DATABASE_ID}"`
      : "";
  return toml.replace(line, `database_id = "${id}"${keepLocal}`);
}

/** The workers.dev URL `wrangler deploy` printed, or null (a Worker served only on routes). */
export function workerUrlIn(deployOutput: string): string | null {
  return /https:\/\/[\w.-]+\.workers\.dev/.exec(deployOutput)?.[0] ?? null;
}

/** What a deploy of this checkout must report on /healthz. */
export interface ExpectedHealth {
  /** `rulesetVersion` of worker/generated/ruleset.ts, which `rebound build` wrote. */
  rulesetVersion: string;
  /** The newest file in migrations/, which `d1 migrations apply` applies last. */
  lastMigration: string | null;
}

/** The ruleset version and newest migration of this checkout (after a build). */
export function expectedHealth(root = REPO_ROOT): ExpectedHealth {
  const generated = readFileSync(join(root, "worker/generated/ruleset.ts"), "utf8");
  const version = /export const rulesetVersion = "([^"]+)"/.exec(generated)?.[1];
  if (!version) throw new Error("worker/generated/ruleset.ts has no rulesetVersion: run `npm run build`");
  const migrations = readdirSync(join(root, "migrations"))
    .filter((name) => name.endsWith(".sql"))
    .sort();
  return { rulesetVersion: version, lastMigration: migrations.at(-1) ?? null };
}

/**
 * Asks `<url>/healthz` until it reports `expected` (a new version takes a few seconds to reach
 * every location) or `timeoutMs` passes, and returns what it reported.
 *
 * @throws Error saying what the Worker reported instead
 */
export async function checkHealth(
  url: string,
  expected: ExpectedHealth,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<{ ruleset_version: string; last_migration: string | null }> {
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  let last = "no answer yet";
  for (;;) {
    try {
      const response = await fetch(`${url.replace(/\/+$/, "")}/healthz`, {
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      last = `${response.status} ${text}`;
      if (response.ok) {
        const body = JSON.parse(text);
        if (
          body.ruleset_version === expected.rulesetVersion &&
          body.last_migration === expected.lastMigration
        ) {
          return body;
        }
      }
    } catch (error) {
      last = String(error);
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 3_000));
  }
  throw new Error(
    `${url}/healthz did not report ruleset_version ${expected.rulesetVersion} and last_migration ` +
      `${expected.lastMigration}; it answered: ${last}`,
  );
}
