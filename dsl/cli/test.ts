/**
 * `rebound test [dir]`: runs the `*.test.yaml` cases beside the rules and prints each case, with
 * expected and actual values for a failing one.
 *
 * Stage: CLI over dsl/cli/rule-tests.ts.
 */
import type { Command, Io } from "./command";
import { diagnosticsJson, formatDiagnostics } from "./format-diagnostics";
import { loadRulesOrFail, reportDiagnostics, reportWarnings } from "./load-rules";
import { runRuleTests } from "./rule-tests";
import { styleFor } from "./style";

export const testCommand: Command = {
  name: "test",
  synopsis: "test [dir]",
  summary: "run the *.test.yaml cases beside the rules",
  options: {},
  optionHelp: [],
  run: (args, json, io) => test(args.positional[1] ?? "rules", json, io),
};

function test(dir: string, json: boolean, io: Io): number {
  const loaded = loadRulesOrFail(dir);
  if (reportDiagnostics(loaded, json, io)) return 1;
  const run = runRuleTests(loaded.ruleset!, loaded.tests);
  const warnings = loaded.warnings ?? [];
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
          warnings: diagnosticsJson(warnings),
        },
        null,
        2,
      )}\n`,
    );
    return ok ? 0 : 1;
  }
  const style = styleFor({ isTTY: io.isTTY });
  reportWarnings(warnings, loaded.texts, io);
  for (const result of run.results) {
    const where = style.dim(`${result.file}:${result.line}`);
    if (result.ok) {
      io.out(`${style.green("PASS")} ${result.name} ${where}\n`);
      continue;
    }
    io.out(`${style.red("FAIL")} ${result.name} ${where}\n`);
    for (const failure of result.failures) {
      io.out(
        `     ${style.bold(failure.what)} ${style.dim(`${result.file}:${failure.line}:${failure.column}`)}\n`,
      );
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
