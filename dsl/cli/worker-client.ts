/**
 * How the CLI reaches a running Worker (`rebound plan`, `rebound tick`): where it is (`--url`, else
 * $REBOUND_URL, else the `npm start` address), which admin key to present (`--key`, else
 * $REBOUND_ADMIN_KEY, else the one `npm start` wrote into ./.dev.vars), and one JSON request with a
 * timeout. Every way a request can fail becomes a UsageError (exit 2) that says what to do: start
 * the Worker, pass another key, or fix what the API's error details point at.
 *
 * Stage: CLI, Node-only (global fetch, node:fs). Knows the API's error shape (worker/errors.ts) as
 * data; imports nothing from worker/.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Args, type Options, UsageError } from "./command";

/** The Worker `npm start` runs. */
export const DEFAULT_WORKER_URL = "http://localhost:8787";

/** How long one request may take before the CLI gives up on it (a plan page reads a page of customers). */
export const REQUEST_TIMEOUT_MS = 120_000;

/** The options of every command that talks to a Worker. */
export const WORKER_OPTIONS = {
  url: { type: "string" },
  key: { type: "string" },
} as const satisfies Options;

export const WORKER_OPTION_HELP = [
  ["--url <url>", `the Worker (default: $REBOUND_URL, else ${DEFAULT_WORKER_URL})`],
  ["--key <key>", "an admin API key (default: $REBOUND_ADMIN_KEY, else REBOUND_ADMIN_KEY in ./.dev.vars)"],
] as const;

/** A Worker to call and the key to present, with where each came from (for error messages). */
export interface WorkerTarget {
  url: string;
  key: string;
  /** Where the key came from: `--key`, `$REBOUND_ADMIN_KEY` or `.dev.vars`. */
  keySource: string;
}

/** Where the CLI looks for the Worker and the key besides its options. */
export interface WorkerEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/**
 * The Worker and key a command's options name, falling back to the environment and ./.dev.vars.
 *
 * @throws UsageError when no key is found anywhere, or the URL is not an http(s) URL
 */
export function workerTarget(
  args: Args,
  where: WorkerEnvironment = { env: process.env, cwd: process.cwd() },
): WorkerTarget {
  const urlOption = args.options.get("url");
  const url = typeof urlOption === "string" ? urlOption : where.env.REBOUND_URL || DEFAULT_WORKER_URL;
  if (!/^https?:\/\/[^/]/.test(url)) {
    throw new UsageError(`--url must be an http(s) URL such as ${DEFAULT_WORKER_URL}, not ${url}`);
  }
  const keyOption = args.options.get("key");
  if (typeof keyOption === "string") return { url, key: keyOption, keySource: "--key" };
  if (where.env.REBOUND_ADMIN_KEY) {
    return { url, key: where.env.REBOUND_ADMIN_KEY, keySource: "$REBOUND_ADMIN_KEY" };
  }
  const fromDevVars = devVarsKey(where.cwd);
  if (fromDevVars) return { url, key: fromDevVars, keySource: ".dev.vars" };
  throw new UsageError(
    "no admin key: pass --key <key>, set REBOUND_ADMIN_KEY, or run this where `npm start` wrote .dev.vars",
  );
}

/** REBOUND_ADMIN_KEY from `<cwd>/.dev.vars`, read as worker/tools/start.ts writes it. */
function devVarsKey(cwd: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(cwd, ".dev.vars"), "utf8");
  } catch {
    return undefined;
  }
  return /^REBOUND_ADMIN_KEY\s*=\s*"?([^"\n]+?)"?\s*$/m.exec(text)?.[1];
}

/** The API's error body (worker/errors.ts). */
interface ApiErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

/**
 * POSTs `body` as JSON to `path` on the Worker with the admin key and answers the parsed JSON of a
 * 2xx response.
 *
 * @example await postJson(target, "/v1/admin/tick", { at: "2026-03-03T15:00:00Z" })
 * @throws UsageError (exit 2) when the Worker cannot be reached or does not answer in time, refuses
 *   the key (401/403), refuses the request (4xx/5xx, with the API's details), or answers no JSON
 */
export async function postJson(
  target: WorkerTarget,
  path: string,
  body: unknown,
  timeoutMs: number = REQUEST_TIMEOUT_MS,
): Promise<unknown> {
  const url = new URL(path, target.url).href;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${target.key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw new UsageError(unreachable(target, url, error, timeoutMs));
  }
  const parsed = parseJson(text);
  if (response.ok) {
    if (parsed === undefined) {
      throw new UsageError(`${url} answered ${response.status} without JSON: is --url a Rebound Worker?`);
    }
    return parsed;
  }
  throw new UsageError(refused(target, url, response.status, parsed, text));
}

function unreachable(target: WorkerTarget, url: string, error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `the Worker at ${target.url} did not answer ${url} within ${timeoutMs / 1000}s`;
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const why = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return `cannot reach the Worker at ${target.url} (${why}): start it with \`npm start\`, or pass --url <url>`;
}

function refused(target: WorkerTarget, url: string, status: number, parsed: unknown, text: string): string {
  const apiError = isApiError(parsed) ? parsed.error : undefined;
  const said = apiError ? `${status} ${apiError.code}: ${apiError.message}` : `${status}`;
  if (status === 401) {
    return `the Worker at ${target.url} refused the admin key from ${target.keySource} (${said}); pass --key <key>, set REBOUND_ADMIN_KEY, or check REBOUND_ADMIN_KEY in .dev.vars`;
  }
  if (status === 403) {
    return `the key from ${target.keySource} lacks the admin scope this needs (${said}); pass an admin key with --key`;
  }
  if (status === 404 && apiError?.code === "not_found") {
    return `the Worker at ${target.url} has no ${new URL(url).pathname} (${said}): is it older than this CLI? Restart \`npm start\` or deploy it again`;
  }
  const lines = [`the Worker refused ${new URL(url).pathname} (${said})`];
  for (const detail of apiError?.details ?? []) lines.push(`  ${detail.path || "(body)"}: ${detail.message}`);
  if (!apiError && text.trim() !== "") lines.push(`  ${text.trim().slice(0, 500)}`);
  return lines.join("\n");
}

function isApiError(value: unknown): value is ApiErrorBody {
  const error = (value as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  return typeof error === "object" && error !== null && typeof error.code === "string";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
