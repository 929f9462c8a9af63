/**
 * A rule directory read, checked (checker + published schema) and compiled for a command, and the
 * diagnostics that stopped it printed the one way every command prints them.
 *
 * Stage: CLI, files → dsl/rules/check.ts → dsl/runtime/ruleset.ts, used by every command.
 */
import type { Diagnostic } from "../errors";
import type { RuleSource } from "../rules/check";
import { checkRuleset } from "../rules/check";
import { loadRuleset, type Ruleset } from "../runtime/ruleset";
import { type Io, UsageError } from "./command";
import { diagnosticsJson, formatDiagnostics } from "./format-diagnostics";
import { readRuleDirectory } from "./rule-files";
import { schemaDiagnostics } from "./schema-check";
import { styleFor } from "./style";

/** A checked, compiled rule directory, or the diagnostics that stopped it. */
export interface LoadedRules {
  rules: RuleSource[];
  tests: RuleSource[];
  /** Errors: any one means no ruleset. */
  diagnostics: Diagnostic[];
  /** Advice that does not stop the rules (definitions nothing uses); shown, never failing. Absent: none. */
  warnings?: Diagnostic[];
  ruleset?: Ruleset;
  texts: Map<string, string>;
}

/** Reads, checks (checker + published schema) and compiles a rule directory. */
export function loadRules(dir: string): LoadedRules {
  const { rules, tests } = readRuleDirectory(dir);
  return checkRuleSources(rules, tests);
}

/**
 * Checks (checker + published schema) and compiles rule files read from anywhere: a directory, or a
 * git ref (`rebound plan --base`).
 */
export function checkRuleSources(rules: RuleSource[], tests: RuleSource[]): LoadedRules {
  const checked = checkRuleset(rules);
  const diagnostics = [...checked.diagnostics, ...schemaDiagnostics(rules, checked.diagnostics)];
  const texts = new Map([...rules, ...tests].map((f) => [f.path, f.text]));
  if (diagnostics.length > 0 || !checked.ruleset) return { rules, tests, diagnostics, warnings: [], texts };
  const warnings = checked.warnings;
  return { rules, tests, diagnostics, warnings, texts, ruleset: loadRuleset(checked.ruleset) };
}

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
    io.out(
      `${JSON.stringify({ ok: false, diagnostics: diagnosticsJson(loaded.diagnostics), warnings: diagnosticsJson(loaded.warnings ?? []) }, null, 2)}\n`,
    );
  else {
    const style = styleFor({ isTTY: io.isTTY });
    io.err(formatDiagnostics(loaded.diagnostics, loaded.texts, style));
    const count = loaded.diagnostics.length;
    io.err(style.red(`${count} error${count === 1 ? "" : "s"}\n`));
  }
  return true;
}

/**
 * Prints warnings for people, on stderr, with a count; JSON output carries them as `warnings`
 * (`severity: "warning"`) in the command's own report instead. Warnings never change the exit code.
 */
export function reportWarnings(
  warnings: readonly Diagnostic[],
  texts: ReadonlyMap<string, string>,
  io: Io,
): void {
  if (warnings.length === 0) return;
  const style = styleFor({ isTTY: io.isTTY });
  io.err(formatDiagnostics(warnings, texts, style));
  io.err(style.yellow(`${warnings.length} warning${warnings.length === 1 ? "" : "s"}\n`));
}
