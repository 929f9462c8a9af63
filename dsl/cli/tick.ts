/**
 * `rebound tick [--at <time>] [--dry-run]`: runs a running Worker's scheduled tick now or as of
 * `--at` (`POST /v1/admin/tick`), and prints what it did: campaign runs, dunning, lifecycle sends.
 * With `--dry-run` the Worker writes nothing and answers what the tick would do instead, which this
 * prints message by message (to whom, when, the subject and the first lines of the body) with each
 * dunning case it would open, close or cancel. The answer is printed as it comes: a field the
 * Worker does not send is left out, never guessed.
 *
 * Stage: CLI over dsl/cli/worker-client.ts.
 */
import { type Args, type Command, type Io, UsageError } from "./command";
import { InputError, parseAtOption } from "./customer-input";
import { type Style, styleFor } from "./style";
import { postJson, WORKER_OPTION_HELP, WORKER_OPTIONS, workerTarget } from "./worker-client";

/** Body lines shown per message of a dry run. */
const BODY_LINES = 4;
/** Items listed per kind of effect before the rest is counted. */
const ITEMS_SHOWN = 50;

export const tickCommand: Command = {
  name: "tick",
  synopsis: "tick [--at <time>] [--dry-run] [--url <url>] [--key <key>]",
  summary: "run the Worker's scheduled tick now or as of --at (--dry-run: show it, write nothing)",
  options: { at: { type: "string" }, "dry-run": { type: "boolean" }, ...WORKER_OPTIONS },
  optionHelp: [
    ["--at <time>", "the tick's moment: 2026-03-01T12:00:00Z, or \"in 3d\" (default: the Worker's clock)"],
    ["--dry-run", "answer what the tick would send, decide, close and cancel; write nothing"],
    ...WORKER_OPTION_HELP,
  ],
  run: (args, json, io) => tick(args, json, io),
};

type Json = Record<string, unknown>;

async function tick(args: Args, json: boolean, io: Io): Promise<number> {
  const at = args.options.get("at");
  const dryRun = args.options.get("dry-run") === true;
  // Only what was asked for is sent: a Worker without dry runs refuses an unknown `dry_run` field.
  const body: Json = {};
  if (typeof at === "string") body.at = readAt(at);
  if (dryRun) body.dry_run = true;
  const answer = await postJson(workerTarget(args), "/v1/admin/tick", body);
  if (!isObject(answer) || !isObject(answer.tick)) {
    throw new UsageError("the Worker answered no tick report: is --url a Rebound Worker?");
  }
  if (dryRun && answer.dry_run !== true) {
    throw new UsageError(
      "the Worker ran the tick for real: it does not know dry runs (older than this CLI); nothing more was asked",
    );
  }
  if (json) io.out(`${JSON.stringify(answer, null, 2)}\n`);
  else io.out(formatTick(answer, styleFor({ isTTY: io.isTTY })));
  return 0;
}

function readAt(text: string): string {
  try {
    return new Date(parseAtOption(text)).toISOString();
  } catch (error) {
    if (error instanceof InputError) throw new UsageError(error.message);
    throw error;
  }
}

/** The tick's answer for people: a summary of counts, then (dry run) each message and case. */
export function formatTick(answer: Json, style: Style): string {
  const report = answer.tick as Json;
  const dryRun = answer.dry_run === true;
  const out: string[] = [
    `${style.bold(dryRun ? "Dry run" : "Tick")} at ${String(report.at ?? "?")}${dryRun ? " (nothing written)" : ""}`,
  ];
  const campaigns = Array.isArray(report.campaigns) ? (report.campaigns as Json[]) : [];
  if (campaigns.length > 0) {
    out.push("", style.bold("Campaigns"));
    for (const run of campaigns) {
      out.push(
        `  ${String(run.campaign)} ${String(run.step)} (${String(run.occurrence)})${run.status ? `: ${String(run.status)}` : ""}`,
        `    ${counts(run, ["audience", "sent", "holdout", "frequency_capped", "deferred", "no_offer"])}`,
      );
    }
  }
  if (isObject(report.dunning)) {
    out.push(
      "",
      `${style.bold("Dunning")}: ${counts(report.dunning, ["opened", "recovered", "canceled", "final_actions", "sent"])}`,
    );
    out.push(...stepLines(report.dunning.steps));
  }
  if (isObject(report.lifecycle)) {
    out.push("", `${style.bold("Lifecycle")}: ${counts(report.lifecycle, ["sent", "deferred", "no_offer"])}`);
    out.push(...stepLines(report.lifecycle.steps));
  }
  const errors = Array.isArray(report.errors) ? (report.errors as Json[]) : [];
  for (const error of errors)
    out.push(style.red(`error in ${String(error.programme)}: ${String(error.message)}`));
  if (dryRun && isObject(answer.effects)) out.push(...effectLines(answer.effects, style));
  if (isObject(answer.truncated)) {
    const cut = Object.entries(answer.truncated).filter(
      ([, value]) => value === true || (typeof value === "number" && value > 0),
    );
    if (cut.length > 0) {
      out.push(
        "",
        style.yellow(
          `truncated: ${cut.map(([key, value]) => (value === true ? key : `${key} (${String(value)} more)`)).join(", ")}`,
        ),
      );
    }
  }
  const cost = counts(report, ["republished", "queries", "rows_read"]);
  out.push("", style.dim(`${cost}${report.clean === false ? "; not clean: the next tick resumes" : ""}`));
  return `${out.join("\n")}\n`;
}

function effectLines(effects: Json, style: Style): string[] {
  const out: string[] = [];
  const sends = Array.isArray(effects.sends) ? (effects.sends as Json[]) : [];
  out.push("", style.bold(`Messages (${sends.length})`));
  if (sends.length === 0) out.push("  none");
  for (const send of sends.slice(0, ITEMS_SHOWN)) {
    const what = [send.programme_kind, send.programme_key, send.occurrence, send.step]
      .filter(present)
      .join(" ");
    out.push(
      `  to ${String(send.customer_id ?? "?")}${send.channel ? ` by ${String(send.channel)}` : ""}${send.send_at ? ` at ${String(send.send_at)}` : ""}: ${String(send.message_key ?? "?")}${what ? ` (${what})` : ""}${send.offer_key ? `, offer ${String(send.offer_key)}` : ""}`,
    );
    if (present(send.subject)) out.push(`    Subject: ${String(send.subject)}`);
    if (typeof send.body === "string") {
      const lines = send.body.split("\n").filter((line) => line.trim() !== "");
      for (const line of lines.slice(0, BODY_LINES)) out.push(`    ${line}`);
      if (lines.length > BODY_LINES) out.push(style.dim("    …"));
    }
  }
  if (sends.length > ITEMS_SHOWN)
    out.push(style.dim(`  … and ${sends.length - ITEMS_SHOWN} more (--format json lists every one)`));
  out.push(...itemSection("Decisions", effects.decisions, style));
  if (isObject(effects.dunning)) {
    out.push(...itemSection("Dunning cases opened", effects.dunning.opened, style));
    out.push(...itemSection("Dunning cases closed", effects.dunning.closed, style));
    out.push(...itemSection("Cancellations", effects.dunning.cancellations, style));
  }
  out.push(...itemSection("Exclusions", effects.exclusions, style));
  if (typeof effects.republish === "number")
    out.push("", `Earlier sends it would put back on the queue (deferred or orphaned): ${effects.republish}`);
  return out;
}

/** A list of effects of one kind, each as `key=value` pairs of what the Worker sent. */
function itemSection(title: string, items: unknown, style: Style): string[] {
  if (!Array.isArray(items)) return [];
  const out = ["", style.bold(`${title} (${items.length})`)];
  if (items.length === 0) out.push("  none");
  for (const item of items.slice(0, ITEMS_SHOWN)) out.push(`  ${describe(item)}`);
  if (items.length > ITEMS_SHOWN)
    out.push(style.dim(`  … and ${items.length - ITEMS_SHOWN} more (--format json lists every one)`));
  return out;
}

/** `customer_id=c_1 invoice_id=in_1 …`: the scalar fields of an effect, the customer first. */
function describe(item: unknown): string {
  if (!isObject(item)) return String(item);
  const entries = Object.entries(item).filter(([, value]) => present(value) && typeof value !== "object");
  entries.sort(([a], [b]) => (a === "customer_id" ? -1 : b === "customer_id" ? 1 : 0));
  return entries.map(([key, value]) => `${key}=${String(value)}`).join(" ") || JSON.stringify(item);
}

/** What a report's count means where its key alone reads wrong. */
const COUNT_LABELS: Readonly<Record<string, string>> = {
  // dunning.canceled: cases closed because the customer canceled on their own, not by the cadence.
  canceled: "closed (customer canceled)",
  final_actions: "final actions",
};

function counts(source: Json, keys: readonly string[]): string {
  return keys
    .filter((key) => typeof source[key] === "number")
    .map((key) => `${COUNT_LABELS[key] ?? key.replace(/_/g, " ")} ${String(source[key])}`)
    .join(", ");
}

function stepLines(steps: unknown): string[] {
  if (!isObject(steps)) return [];
  const entries = Object.entries(steps).filter(([, n]) => typeof n === "number");
  return entries.length === 0
    ? []
    : [`  steps: ${entries.map(([step, n]) => `${step} ${String(n)}`).join(", ")}`];
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
