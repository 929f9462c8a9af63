/**
 * Node-side helpers to run the real Worker under `wrangler dev`: free ports, local D1 migrations, and
 * a dev server that can be started, waited for and stopped. Used by `npm start`, the smoke tests and
 * the benchmarks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

/** Applies migrations/ to the local D1 database (in `persistTo`, or wrangler's default .wrangler/state). */
export async function applyLocalMigrations(
  options: { persistTo?: string; quiet?: boolean } = {},
): Promise<void> {
  const args = ["d1", "migrations", "apply", "rebound", "--local"];
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  await runWrangler(args, { quiet: options.quiet });
}

export interface DevServerOptions {
  port: number;
  /** Local state directory (D1, queues); wrangler's default when absent. */
  persistTo?: string;
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
  if (options.persistTo) args.push("--persist-to", options.persistTo);
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
