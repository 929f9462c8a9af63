/**
 * `rebound validate [dir]`: checks a rule directory and prints every error, located, or a summary
 * of what the rules define and the ruleset's version.
 *
 * Stage: CLI over dsl/cli/load-rules.ts.
 */
import type { Command, Io } from "./command";
import { loadRulesOrFail, reportDiagnostics } from "./load-rules";
import { styleFor } from "./style";

export const validateCommand: Command = {
  name: "validate",
  synopsis: "validate [dir]",
  summary: "check the rules in dir (default: rules)",
  options: {},
  optionHelp: [],
  run: (args, json, io) => validate(args.positional[1] ?? "rules", json, io),
};

function validate(dir: string, json: boolean, io: Io): number {
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
