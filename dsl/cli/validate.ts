/**
 * `rebound validate [dir]`: checks a rule directory and the `*.test.yaml` files beside it, prints
 * every error, located, or a summary of what the rules define and the ruleset's version. Warnings
 * (definitions nothing uses) are shown too and never change the exit code.
 *
 * Stage: CLI over dsl/cli/load-rules.ts and dsl/cli/test-file-check.ts.
 */
import type { Command, Io } from "./command";
import { diagnosticsJson } from "./format-diagnostics";
import { loadRulesOrFail, reportDiagnostics, reportWarnings } from "./load-rules";
import { styleFor } from "./style";
import { checkTestFiles, testSyntaxDiagnostics } from "./test-file-check";

export const validateCommand: Command = {
  name: "validate",
  synopsis: "validate [dir]",
  summary: "check the rules in dir (default: rules) and the *.test.yaml files beside them",
  options: {},
  optionHelp: [],
  run: (args, json, io) => validate(args.positional[1] ?? "rules", json, io),
};

function validate(dir: string, json: boolean, io: Io): number {
  const loaded = loadRulesOrFail(dir);
  const tests = loaded.ruleset
    ? checkTestFiles(loaded.ruleset, loaded.tests)
    : { cases: [], diagnostics: testSyntaxDiagnostics(loaded.tests) };
  const errors = [...loaded.diagnostics, ...tests.diagnostics];
  if (reportDiagnostics({ ...loaded, diagnostics: errors }, json, io)) return 1;
  const ruleset = loaded.ruleset!;
  const warnings = loaded.warnings ?? [];
  const summary = {
    ok: true,
    version: ruleset.version,
    files: loaded.rules.map((f) => f.path),
    test_files: loaded.tests.map((f) => f.path),
    test_cases: tests.cases.length,
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
    warnings: diagnosticsJson(warnings),
  };
  if (json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    reportWarnings(warnings, loaded.texts, io);
    const style = styleFor({ isTTY: io.isTTY });
    const counts = Object.entries(summary.counts)
      .map(([name, n]) => `${n} ${name}`)
      .join(", ");
    const testPart =
      loaded.tests.length > 0 ? `, ${tests.cases.length} test cases in ${loaded.tests.length} files` : "";
    io.out(
      `${style.green("ok")} ${dir}: ${loaded.rules.length} files, ${counts}${testPart}\n${style.dim(`version ${ruleset.version}`)}\n`,
    );
  }
  return 0;
}
