/**
 * Node-side helpers to run the real Worker under `wrangler dev`: free ports, local D1 migrations, a
 * wrangler config for a local deployment with several D1 shards, and a dev server that can be
 * started, waited for and stopped. Used by `npm start`, the smoke tests and the benchmarks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (wrangler.toml lives here). */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRANGLER = fileURLToPath(new URL("../../node_modules/.bin/wrangler", import.meta.url));

/** A TCP port nobody listens on right now, chosen by the OS. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs wrangler with `args` to completion; rejects with its output when it fails. */
export async function runWrangler(
  args: readonly string[],
  options: { quiet?: boolean } = {},
): Promise<string> {
  const child = spawn(WRANGLER, args, {
    cwd: REPO_ROOT,
    // CI=1 makes wrangler skip confirmation prompts (migrations apply asks before writing).
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (!options.quiet) process.stdout.write(chunk);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (!options.quiet) process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`wrangler ${args.join(" ")} exited with ${code}:\n${output}`);
  return output;
}

/**
 * Applies migrations/ to a local D1 database (in `persistTo`, or wrangler's default .wrangler/state):
 * `rebound` of wrangler.toml unless `config` and `database` name another (a shard of a ShardedConfig).
 */
export async function applyLocalMigrations(
  options: { persistTo?: string; quiet?: boolean; config?: string; database?: string } = {},
): Promise<void> {
  const args = ["d1", "migrations", "apply", options.database ?? "rebound", "--local"];
  if (options.config) args.push("--config", options.config);
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  await runWrangler(args, { quiet: options.quiet });
}

/** One local D1 database of a sharded configuration. */
export interface LocalShard {
  /** `DB` for shard 0, `DB_<i>` for shard i (worker/db/shards.ts). */
  binding: string;
  database_name: string;
  database_id: string;
}

/** A wrangler config written for a local deployment whose customers live on several D1 databases. */
export interface ShardedConfig {
  /** The config file's absolute path, for `wrangler --config`. */
  path: string;
  shards: LocalShard[];
}

/** Where `npm start` and the tools keep wrangler's local state when they name it (its default). */
export const LOCAL_STATE_DIR = join(REPO_ROOT, ".wrangler/state");

/**
 * The local databases of a deployment with `count` shards. Their names and ids are their own (never
 * wrangler.toml's `rebound`), so a four-shard local state sits beside the one-shard one and switching
 * between `npm start` and `SHARDS=4 npm start` keeps both.
 */
export function localShards(count: number): LocalShard[] {
  if (!Number.isInteger(count) || count < 2 || count > 64)
    throw new Error(`a sharded local deployment has 2 to 64 shards, not ${count}`);
  return Array.from({ length: count }, (_, index) => ({
    binding: index === 0 ? "DB" : `DB_${index}`,
    database_name: `rebound-shards-${count}-${index}`,
    database_id: `00000000-0000-4000-8${String(count).padStart(3, "0")}-${String(index).padStart(12, "0")}`,
  }));
}

/**
 * wrangler.toml rewritten for `count` shards, to live in .wrangler/: its `[[d1_databases]]` block
 * becomes one block per shard (each with the same `migrations_dir`), `[vars]` says `SHARDS`, the R2
 * bucket gets a local name of its own (`rebound-archive-shards-4`, so the two local archives never
 * overwrite each other's objects), and the paths it names (`main`, `[assets]`, `migrations_dir`,
 * `[build] watch_dir`) are made relative to .wrangler/. Everything else (queues, cron, vars) is kept
 * as written.
 *
 * @throws Error when wrangler.toml's layout is not the one this reads (one `[[d1_databases]]` block,
 * a `[vars]` table with `SHARDS`)
 */
export function shardedConfigText(wranglerToml: string, count: number): string {
  // A block runs from its header through the lines after it, up to a blank line or the next table.
  const databaseBlocks = /^\[\[d1_databases\]\]\n(?:[^\n[][^\n]*\n)*/gm;
  if (!databaseBlocks.test(wranglerToml)) throw new Error("wrangler.toml has no [[d1_databases]] block");
  const sharesLine = /^SHARDS = "\d+"$/m;
  if (!sharesLine.test(wranglerToml)) throw new Error('wrangler.toml [vars] has no SHARDS = "…" line');
  const blocks = localShards(count).map((shard) =>
    [
      "[[d1_databases]]",
      `binding = "${shard.binding}"`,
      `database_name = "${shard.database_name}"`,
      `database_id = "${shard.database_id}"`,
      `preview_database_id = "${shard.database_id}"`,
      'migrations_dir = "../migrations"',
    ].join("\n"),
  );
  let first = true;
  const rewritten = wranglerToml
    .replace(databaseBlocks, () => {
      const replacement = first ? `${blocks.join("\n\n")}\n` : "";
      first = false;
      return replacement;
    })
    .replace(sharesLine, `SHARDS = "${count}"`)
    // The archive's local bucket too: shard 0 names its objects as one database does.
    .replace(/^bucket_name = "([^"]+)"$/gm, (_, name: string) => `bucket_name = "${name}-shards-${count}"`)
    .replace(/^(main|directory) = "([^"]+)"$/gm, (_, key: string, path: string) => `${key} = "../${path}"`)
    .replace(/^watch_dir = \[([^\]]*)\]$/m, (_, list: string) => {
      const rebased = list.replace(/"([^"]+)"/g, '"../$1"');
      return `watch_dir = [${rebased}]`;
    });
  return `# Written from wrangler.toml by worker/tools/wrangler-dev.ts for a local run on ${count} D1 shards.\n${rewritten}`;
}

/**
 * Writes the configuration of a local deployment on `count` shards (from the current wrangler.toml)
 * to .wrangler/rebound-shards-<count>.toml, or to .wrangler/`file`, and returns it. A running
 * `wrangler dev` reloads its config when the file changes, so the file is replaced whole (written
 * beside it, then renamed) and only when its text differs: another tool writing the same
 * configuration leaves a running `SHARDS=4 npm start` alone.
 *
 * @param file a name of its own inside .wrangler/, for a run that must not share npm start's file
 * @example const config = writeShardedConfig(4); await applyShardMigrations(config)
 */
export function writeShardedConfig(count: number, file = `rebound-shards-${count}.toml`): ShardedConfig {
  const path = join(REPO_ROOT, ".wrangler", file);
  const text = shardedConfigText(readFileSync(join(REPO_ROOT, "wrangler.toml"), "utf8"), count);
  mkdirSync(join(REPO_ROOT, ".wrangler"), { recursive: true });
  if (!existsSync(path) || readFileSync(path, "utf8") !== text) {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  }
  return { path, shards: localShards(count) };
}

/** Applies migrations/ to every local database of a sharded configuration, one after the other. */
export async function applyShardMigrations(
  config: ShardedConfig,
  options: { persistTo?: string; quiet?: boolean } = {},
): Promise<void> {
  for (const shard of config.shards) {
    await applyLocalMigrations({
      ...options,
      persistTo: options.persistTo ?? LOCAL_STATE_DIR,
      config: config.path,
      database: shard.database_name,
    });
  }
}

export interface DevServerOptions {
  port: number;
  /** Local state directory (D1, queues); wrangler's default when absent. */
  persistTo?: string;
  /**
   * Another wrangler config (a ShardedConfig's path). One outside the repository root does not see
   * .dev.vars there: give `envFile`, and `persistTo` to keep the usual state directory.
   */
  config?: string;
  /** An env file (.dev.vars' format) for secrets and variables, when `secrets` is not given. */
  envFile?: string;
  /**
   * Secrets and variables written to a private env file passed with `--env-file`, which makes
   * wrangler skip the developer's .dev.vars entirely. Absent: wrangler reads .dev.vars as usual.
   */
  secrets?: Record<string, string>;
  /** Show wrangler's output on this terminal (npm start) or keep it for error messages (tests). */
  inheritOutput?: boolean;
  /** How long to wait for GET /healthz to answer. */
  readyTimeoutMs?: number;
}

export interface DevServer {
  url: string;
  /**
   * The latest of what wrangler printed (at most `OUTPUT_TAIL_CHARS`; empty when the output is
   * inherited), for error messages.
   */
  output: () => string;
  /** Resolves when wrangler exits (for npm start, which stays in the foreground). */
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

/**
 * How much of wrangler's output a dev server keeps. Only the end is ever read, and a server in
 * trouble can print hundreds of megabytes (an error line per failed connection), which kept whole
 * would stall, then crash, the Node process that started it.
 */
export const OUTPUT_TAIL_CHARS = 256 * 1024;

/** The stop functions of dev servers this process started that have not exited yet. */
const liveServers = new Set<() => Promise<void>>();

/**
 * Stops every dev server this process started that is still running, one still starting included.
 * For signal handlers: a dev server runs in a process group of its own, so the Ctrl-C that stops
 * the process that started it never reaches it.
 */
export async function stopDevServers(): Promise<void> {
  await Promise.all([...liveServers].map((stop) => stop()));
}

/** Starts `wrangler dev` and resolves once the Worker answers GET /healthz. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const args = ["dev", "--port", String(options.port), "--ip", "127.0.0.1", "--local"];
  args.push("--inspector-port", String(await freePort()), "--show-interactive-dev-session=false");
  // GET /__scheduled?cron=…&time=… runs the Cron Trigger's handler, as Cloudflare would at that time.
  args.push("--test-scheduled");
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  if (options.config) args.push("--config", options.config);
  if (options.envFile && !options.secrets) args.push("--env-file", options.envFile);
  let secretsDir: string | undefined;
  if (options.secrets) {
    secretsDir = mkdtempSync(join(tmpdir(), "rebound-env-"));
    const envFile = join(secretsDir, ".env");
    const lines = Object.entries(options.secrets).map(([name, value]) => `${name}=${value}\n`);
    writeFileSync(envFile, lines.join(""), { mode: 0o600 });
    args.push("--env-file", envFile);
  }

  const child: ChildProcess = spawn(WRANGLER, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: options.inheritOutput ? "inherit" : ["ignore", "pipe", "pipe"],
    // Its own process group, so stopping it also stops the workerd process it starts.
    detached: true,
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2 * OUTPUT_TAIL_CHARS) output = output.slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let running = true;
  void exited.then(() => {
    running = false;
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
  });

  const stop = async () => {
    if (!running || child.pid === undefined) return;
    process.kill(-child.pid, "SIGTERM");
    const timeout = setTimeout(() => {
      if (running && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, 5_000);
    await exited;
    clearTimeout(timeout);
  };
  liveServers.add(stop);
  void exited.then(() => liveServers.delete(stop));

  const url = `http://127.0.0.1:${options.port}`;
  const tail = () => output.slice(-OUTPUT_TAIL_CHARS);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (!running) throw new Error(`wrangler dev exited before it was ready:\n${tail()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return { url, output: tail, exited, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer /healthz within the timeout:\n${tail()}`);
}
