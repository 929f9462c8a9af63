/**
 * `rebound plan [dir]`: what a rules change would do to real customers. Compiles the working tree's
 * rules (and, with `--base <git ref>`, the same directory at that ref), sends them to a running
 * Worker's `POST /v1/admin/plan`, which evaluates both read-only against D1 one page of customers
 * at a time, follows `next_cursor` to the last page, merges the pages (dsl/plan-report.ts) and
 * prints the plan: tables (dsl/cli/plan-format.ts), `--format json` (the merged PlanReport) or
 * `--format markdown` (a pull-request comment). A plan with changes exits 0; rule errors exit 1
 * without calling the Worker; a Worker that cannot be reached or refuses exits 2.
 *
 * Stage: CLI over dsl/cli/load-rules.ts and dsl/cli/worker-client.ts.
 */
import { execFileSync } from "node:child_process";
import { isAbsolute, posix, relative } from "node:path";
import { mergePlanPages, type PlanReport } from "../plan-report";
import type { RuleSource } from "../rules/check";
import type { RulesetIR } from "../rules/ruleset";
import { type Args, type Command, type Io, UsageError } from "./command";
import { InputError, parseAtOption } from "./customer-input";
import { checkRuleSources, type LoadedRules, loadRulesOrFail, reportDiagnostics } from "./load-rules";
import { formatPlanHuman, formatPlanMarkdown, type PlanLabels } from "./plan-format";
import { ruleFileKind } from "./rule-files";
import { styleFor } from "./style";
import {
  postJson,
  WORKER_OPTION_HELP,
  WORKER_OPTIONS,
  type WorkerTarget,
  workerTarget,
} from "./worker-client";

/** The horizon's bounds and default (the route refuses others). */
export const PLAN_DAYS = { min: 1, max: 90, default: 30 } as const;
/** The largest page the route serves. */
export const PLAN_PAGE_SIZE_MAX = 2000;
/** Pages followed before giving up on a Worker whose cursors never end. */
const MAX_PAGES = 100_000;

export const planCommand: Command = {
  name: "plan",
  synopsis:
    "plan [dir] [--base <git ref>] [--days 30] [--at <time>] [--url <url>] [--key <key>]\n" +
    "     [--format human|json|markdown]",
  summary: "what a rules change does to real customers, from a running Worker",
  options: {
    base: { type: "string" },
    days: { type: "string" },
    at: { type: "string" },
    "page-size": { type: "string" },
    ...WORKER_OPTIONS,
  },
  optionHelp: [
    ["--base <git ref>", "compare with the rules at that ref (default: the deployed ruleset)"],
    [
      "--days <n>",
      `the horizon in days, ${PLAN_DAYS.min} to ${PLAN_DAYS.max} (default: ${PLAN_DAYS.default})`,
    ],
    ["--at <time>", "the plan's now: 2026-03-01T12:00:00Z, or \"in 3d\" (default: the Worker's clock)"],
    ["--page-size <n>", `customers per request, 1 to ${PLAN_PAGE_SIZE_MAX} (default: the Worker's)`],
    ...WORKER_OPTION_HELP,
    ["--format markdown", "a pull-request comment"],
  ],
  extraFormats: ["markdown"],
  run: (args, _json, io) => plan(args, io),
};

/** The request body of `POST /v1/admin/plan`, less the cursor. */
interface PlanRequest {
  ruleset: RulesetIR;
  base?: RulesetIR;
  days: number;
  at?: string;
  page_size?: number;
}

async function plan(args: Args, io: Io): Promise<number> {
  const dir = args.positional[1] ?? "rules";
  const format = String(args.options.get("format") ?? "human");
  const options = requestOptions(args);
  const baseRef = args.options.get("base");

  const proposed = loadRulesOrFail(dir);
  if (reportDiagnostics(proposed, format === "json", io)) return 1;
  const request: PlanRequest = { ruleset: proposed.ruleset!.ir, ...options };
  if (typeof baseRef === "string") {
    const base = loadRulesAtRef(baseRef, dir);
    if (base.diagnostics.length > 0) {
      if (format !== "json") io.err(`the base rules at ${baseRef} do not compile:\n`);
      reportDiagnostics(base, format === "json", io);
      return 1;
    }
    request.base = base.ruleset!.ir;
  }

  const target = workerTarget(args);
  const merged = mergePlanPages(await fetchPages(target, request));
  const labels: PlanLabels = {
    proposed: dir,
    base: typeof baseRef === "string" ? `${baseRef}:${dir}` : "the deployed ruleset",
  };
  if (typeof baseRef !== "string" && merged.base.version === merged.proposed.version) {
    // Under `npm start` the Worker reloads rules/ on every save: planning rules/ against it
    // compares the edit with itself.
    io.err(
      `rebound plan: the Worker already runs these rules (${merged.base.version.slice(0, 19)}), so nothing changes. Under npm start it reloads rules/ on every save: compare with git (--base HEAD, --base main) or plan an edited copy of rules/.\n`,
    );
  }
  if (format === "json") io.out(`${JSON.stringify(merged, null, 2)}\n`);
  else if (format === "markdown") io.out(formatPlanMarkdown(merged, labels));
  else io.out(formatPlanHuman(merged, labels, styleFor({ isTTY: io.isTTY })));
  return 0;
}

/** `--days`, `--at` and `--page-size`, checked before anything is compiled or sent. */
function requestOptions(args: Args): Omit<PlanRequest, "ruleset" | "base"> {
  const days = args.options.get("days");
  const at = args.options.get("at");
  const pageSize = args.options.get("page-size");
  return {
    days:
      days === undefined
        ? PLAN_DAYS.default
        : readInteger("--days", String(days), PLAN_DAYS.min, PLAN_DAYS.max),
    ...(typeof at === "string" ? { at: readAt(at) } : {}),
    ...(typeof pageSize === "string"
      ? { page_size: readInteger("--page-size", pageSize, 1, PLAN_PAGE_SIZE_MAX) }
      : {}),
  };
}

/**
 * Every page of the plan, following `next_cursor`. Later pages are asked at the first page's `at`,
 * so a plan without `--at` has one "now" however long the paging takes.
 */
async function fetchPages(target: WorkerTarget, request: PlanRequest): Promise<PlanReport[]> {
  const pages: PlanReport[] = [];
  const cursors = new Set<string>();
  let cursor: string | null = null;
  do {
    const body: PlanRequest & { cursor?: string } = cursor === null ? request : { ...request, cursor };
    const page = planOf(await postJson(target, "/v1/admin/plan", body), target);
    const first = pages[0];
    if (first && page.base.version !== first.base.version) {
      throw new UsageError(
        `the base ruleset changed while planning (${first.base.version} → ${page.base.version}): the Worker was deployed again; run rebound plan again`,
      );
    }
    pages.push(page);
    if (!request.at) request.at = page.at;
    cursor = page.next_cursor;
    if (cursor !== null) {
      if (cursors.has(cursor) || pages.length >= MAX_PAGES) {
        throw new UsageError(
          `the Worker at ${target.url} answered the cursor ${cursor} twice: its paging does not end`,
        );
      }
      cursors.add(cursor);
    }
  } while (cursor !== null);
  return pages;
}

function planOf(answer: unknown, target: WorkerTarget): PlanReport {
  const plan = (answer as { plan?: PlanReport } | null)?.plan;
  const ok =
    typeof plan === "object" &&
    plan !== null &&
    ["segments", "offers", "campaigns", "programmes"].every((section) =>
      Array.isArray((plan as unknown as Record<string, unknown>)[section]),
    ) &&
    (typeof plan.next_cursor === "string" || plan.next_cursor === null);
  if (!ok)
    throw new UsageError(`the Worker at ${target.url} answered no plan: is it a Rebound Worker this recent?`);
  return plan;
}

function readInteger(option: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`${option} is a whole number from ${min} to ${max}, not ${text}`);
  }
  return n;
}

function readAt(text: string): string {
  try {
    return new Date(parseAtOption(text)).toISOString();
  } catch (error) {
    if (error instanceof InputError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The rule directory `dir` (relative to the working directory) as it was at git `ref`, checked and
 * compiled like the working tree's: the same files (YAML, not tests, no dot-folders), the same
 * names inside the ruleset (so the same rules have the same version). Diagnostics point at
 * `<ref>:<dir>/<file>`.
 *
 * @throws UsageError when git cannot read the ref or the directory is not in it
 */
export function loadRulesAtRef(ref: string, dir: string): LoadedRules {
  const cwd = process.cwd();
  const local = posix.normalize((isAbsolute(dir) ? relative(cwd, dir) : dir).split("\\").join("/"));
  const prefix = git(["rev-parse", "--show-prefix"], `--base ${ref}`).trim();
  git(
    ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`],
    `--base ${ref}: no such commit, branch or tag`,
  );
  // Relative to the repository's top, so `../rules` from a subdirectory is fine; only a path that
  // leaves the repository is refused.
  const inRepo = posix.normalize(`${prefix}${local}`).replace(/\/$/, "");
  if (inRepo === ".." || inRepo.startsWith("../"))
    throw new UsageError(`--base reads ${dir} from git: it must be inside this repository`);
  const listed = git(
    ["ls-tree", "-r", "-z", "--full-tree", "--name-only", ref, "--", inRepo === "." ? "." : inRepo],
    `--base ${ref}`,
  )
    .split("\0")
    .filter((path) => path !== "");
  const rules: RuleSource[] = [];
  const tests: RuleSource[] = [];
  for (const path of listed.sort(byPathComponents)) {
    const name = posix.relative(inRepo === "." ? "" : inRepo, path);
    const kind = ruleFileKind(name);
    if (kind === null) continue;
    const text = git(["cat-file", "blob", `${ref}:${path}`], `--base ${ref}: ${path}`);
    (kind === "tests" ? tests : rules).push({ path: `${ref}:${posix.join(local, name)}`, text, name });
  }
  if (rules.length === 0) throw new UsageError(`--base ${ref}: no rule files under ${dir} at that ref`);
  return checkRuleSources(rules, tests);
}

/** Folder by folder, names sorted within each, as dsl/cli/rule-files.ts walks a directory. */
function byPathComponents(a: string, b: string): number {
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}

function git(argv: string[], what: string): string {
  try {
    return execFileSync("git", argv, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 << 20,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    const why = stderr.split("\n")[0] || (error as Error).message;
    throw new UsageError(`${what}${why ? ` (git: ${why})` : ""}`);
  }
}
