/**
 * The `rebound` command line: `validate`, `test`, `explain` and `build` over a rule directory.
 * Human output (colour on a TTY) by default, `--format json` for CI everywhere. Exit codes: 0 ok,
 * 1 rule errors or failing tests, 2 wrong usage or unreadable input.
 *
 * Stage: Node-only front end of the language: files → dsl/rules/check.ts → dsl/runtime/ruleset.ts → output.
 */

import type { Diagnostic } from "../errors";
import type { RuleSource } from "../rules/check";
import { checkRuleset } from "../rules/check";
import { loadRuleset, type Ruleset } from "../runtime/ruleset";
import { buildCommand } from "./build";
import { explainCommand } from "./explain";
import { diagnosticsJson, formatDiagnostics } from "./format-diagnostics";
import { previewCommand } from "./preview";
import { readRuleDirectory } from "./rule-files";
import { runRuleTests } from "./rule-tests";
import { schemaDiagnostics } from "./schema-check";
import { styleFor } from "./style";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
}

const USAGE = `Usage: rebound <command> [options]

Commands:
  validate [dir]                 check the rules in dir (default: rules)
  test [dir]                     run the *.test.yaml cases beside the rules
  explain --customer <file> --at <time> [--offer [name]] [--campaign <name>]
          [--context <context>] [--reason <reason>] [--dir <dir>]
                                 trace how the rules treat one customer
  preview <message> --customer <file> --at <time> [--offer [name]] [--context <context>]
          [--reason <reason>] [--company <name>] [--dir <dir>]
                                 render a message for one customer
  build [dir] --out <dir>        check the rules and write <out>/ruleset.json for the Worker

Options:
  --format json                  machine-readable output
  -h, --help                     this help
`;

/** Parsed command-line options: positional arguments and `--name value` / `--flag` options. */
export interface Args {
  positional: string[];
  options: Map<string, string | true>;
}

const FLAGS = new Set(["help", "offer"]);

export function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h") options.set("help", true);
    else if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (inline !== undefined) options.set(name, inline);
      else if (FLAGS.has(name) && (next === undefined || next.startsWith("-"))) options.set(name, true);
      else if (next !== undefined && !next.startsWith("--")) {
        options.set(name, next);
        i++;
      } else options.set(name, true);
    } else positional.push(arg);
  }
  return { positional, options };
}

/** A checked, compiled rule directory, or the diagnostics that stopped it. */
export interface LoadedRules {
  rules: RuleSource[];
  tests: RuleSource[];
  diagnostics: Diagnostic[];
  ruleset?: Ruleset;
  texts: Map<string, string>;
}

/** Reads, checks (checker + published schema) and compiles a rule directory. */
export function loadRules(dir: string): LoadedRules {
  const { rules, tests } = readRuleDirectory(dir);
  const checked = checkRuleset(rules);
  const diagnostics = [...checked.diagnostics, ...schemaDiagnostics(rules, checked.diagnostics)];
  const texts = new Map([...rules, ...tests].map((f) => [f.path, f.text]));
  if (diagnostics.length > 0 || !checked.ruleset) return { rules, tests, diagnostics, texts };
  return { rules, tests, diagnostics, texts, ruleset: loadRuleset(checked.ruleset) };
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const args = parseArgs(argv);
  const [command, ...rest] = args.positional;
  if (!command || args.options.has("help")) {
    (command ? io.out : io.err)(USAGE);
    return command ? 0 : 2;
  }
  const format = args.options.get("format");
  if (format !== undefined && format !== "json" && format !== "human") {
    io.err(`--format is json or human, not ${String(format)}\n`);
    return 2;
  }
  const json = format === "json";
  try {
    switch (command) {
      case "validate":
        return validateCommand(rest[0] ?? "rules", json, io);
      case "test":
        return testCommand(rest[0] ?? "rules", json, io);
      case "explain":
        return explainCommand(args, json, io);
      case "preview":
        return previewCommand(args, json, io);
      case "build":
        return buildCommand(rest[0] ?? "rules", args, json, io);
      default:
        io.err(`unknown command \`${command}\`\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** Wrong usage or unreadable input: exit code 2 with a one-line message. */
export class UsageError extends Error {}

/** Loads a directory, turning a missing one into a usage error. */
export function loadRulesOrFail(dir: string): LoadedRules {
  try {
    return loadRules(dir);
  } catch (error) {
    if (error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR")) {
      throw new UsageError(`cannot read rule directory ${dir}: ${error.message}`);
    }
    throw error;
  }
}

/** Prints diagnostics (human or JSON) and returns whether there were errors. */
export function reportDiagnostics(loaded: LoadedRules, json: boolean, io: Io): boolean {
  if (loaded.diagnostics.length === 0) return false;
  if (json)
    io.out(`${JSON.stringify({ ok: false, diagnostics: diagnosticsJson(loaded.diagnostics) }, null, 2)}\n`);
  else {
    const style = styleFor({ isTTY: io.isTTY });
    io.err(formatDiagnostics(loaded.diagnostics, loaded.texts, style));
    const count = loaded.diagnostics.length;
    io.err(style.red(`${count} error${count === 1 ? "" : "s"}\n`));
  }
  return true;
}

function validateCommand(dir: string, json: boolean, io: Io): number {
  const loaded = loadRulesOrFail(dir);
  if (reportDiagnostics(loaded, json, io)) return 1;
  const ruleset = loaded.ruleset!;
  const summary = {
    ok: true,
    version: ruleset.version,
    files: loaded.rules.map((f) => f.path),
    counts: {
      segments: ruleset.segments.size,
      rewards: ruleset.rewards.size,
      offers: ruleset.offers.length,
      messages: ruleset.messages.size,
      campaigns: ruleset.campaigns.size,
      dunning: ruleset.dunning.length,
      inactivity: ruleset.inactivity.length,
      winback: ruleset.winback.length,
    },
  };
  if (json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const style = styleFor({ isTTY: io.isTTY });
    const counts = Object.entries(summary.counts)
      .map(([name, n]) => `${n} ${name}`)
      .join(", ");
    io.out(
      `${style.green("ok")} ${dir}: ${loaded.rules.length} files, ${counts}\n${style.dim(`version ${ruleset.version}`)}\n`,
    );
  }
  return 0;
}

function testCommand(dir: string, json: boolean, io: Io): number {
  const loaded = loadRulesOrFail(dir);
  if (reportDiagnostics(loaded, json, io)) return 1;
  const run = runRuleTests(loaded.ruleset!, loaded.tests);
  const passed = run.results.filter((r) => r.ok).length;
  const failed = run.results.length - passed;
  const ok = failed === 0 && run.diagnostics.length === 0 && run.results.length > 0;
  if (json) {
    io.out(
      `${JSON.stringify(
        {
          ok,
          passed,
          failed,
          cases: run.results,
          diagnostics: diagnosticsJson(run.diagnostics),
        },
        null,
        2,
      )}\n`,
    );
    return ok ? 0 : 1;
  }
  const style = styleFor({ isTTY: io.isTTY });
  for (const result of run.results) {
    const where = style.dim(`${result.file}:${result.line}`);
    if (result.ok) {
      io.out(`${style.green("PASS")} ${result.name} ${where}\n`);
      continue;
    }
    io.out(`${style.red("FAIL")} ${result.name} ${where}\n`);
    for (const failure of result.failures) {
      io.out(`     ${style.bold(failure.what)}\n`);
      io.out(`       expected: ${style.green(failure.expected)}\n`);
      io.out(`       actual:   ${style.red(failure.actual)}\n`);
      if (failure.detail) io.out(`${failure.detail.replace(/^/gm, "         ")}\n`);
    }
  }
  if (run.diagnostics.length > 0) io.err(formatDiagnostics(run.diagnostics, loaded.texts, style));
  if (run.results.length === 0 && run.diagnostics.length === 0) io.err(`no test cases found in ${dir}\n`);
  const summary = `${passed} passed, ${failed} failed${run.diagnostics.length > 0 ? `, ${run.diagnostics.length} test file error(s)` : ""}`;
  io.out(`\n${ok ? style.green(summary) : style.red(summary)}\n`);
  return ok ? 0 : 1;
}

function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
  };
}
